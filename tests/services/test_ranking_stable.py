"""The same data loaded into two databases ranks the same (issue 17, stable rankings).

Hazards with equal scores used to be ordered by their random uuid, so a reload reordered them.
"""

import random

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from api.db import migrate
from api.services import priorities
from api.settings import Settings
from api.vocab import Role
from tests.factories import _user, make_hazard, make_org, square
from tests.helpers import throwaway_database

# twelve hazards alike in everything the model scores, so every score ties
REFERENCES = [f"BIH-{n:03d}" for n in range(12)]


def _ranking_of_a_fresh_load(order: list[str]) -> list[str]:
    with throwaway_database("sg_rank") as url:
        migrate.upgrade(url)
        engine = create_engine(url)
        try:
            with Session(engine) as session:
                settings = Settings(database_url=url)
                org = make_org(session, "ORGRANK")
                admin = _user(session, settings, Role.admin, None)
                for ref in order:
                    make_hazard(
                        session,
                        settings,
                        admin.principal,
                        square(30.5 + REFERENCES.index(ref) * 0.01, 50.4, 0.002),
                        org,
                        external_id=ref,
                        name=f"field {ref}",
                    )
                session.commit()
                page = priorities.ranked(session, principal=admin.principal)
                scores = {item["score"] for item in page["items"]}
                assert len(page["items"]) == len(REFERENCES)
                assert len(scores) == 1, f"the fixture should tie every score: {scores}"
                return [item["external_id"] for item in page["items"]]
        finally:
            engine.dispose()


def test_same_data_in_two_databases_ranks_the_same():
    shuffled = REFERENCES[:]
    random.Random(7).shuffle(shuffled)
    first = _ranking_of_a_fresh_load(REFERENCES)
    second = _ranking_of_a_fresh_load(shuffled)  # loaded in another order, new uuids
    assert first == second
    assert first == sorted(REFERENCES)  # ties fall back to the external id
