"""Fuzzing the API with schemathesis, from its own OpenAPI schema, inside the suite.

Every operation gets generated requests (derandomised, so each run is the same) as an admin,
against an app with its own throwaway database (requests commit as in production); the checks:
no 5xx, and every error is RFC 9457 problem+json. A wider run by hand against a live server:
`schemathesis run http://127.0.0.1:8000/openapi.json -H "Authorization: Bearer $TOKEN"
--checks not_a_server_error`.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from sqlalchemy.orm import Session

from api.db import migrate
from api.db.engine import make_engine, make_sessionmaker
from api.main import create_app
from api.services import auth
from api.settings import Settings
from api.vocab import OrganisationType, Role
from tests.factories import make_org
from tests.helpers import throwaway_database

# slow: schemathesis over every operation (make test-fast leaves it out)
pytestmark = pytest.mark.slow

EXAMPLES = 15


def test_every_operation_survives_generated_requests():
    with throwaway_database("sg_fuzz") as url:
        migrate.upgrade(url)
        config = Settings(database_url=url, env="test", secret_key="f" * 32)
        engine = make_engine(config)
        with Session(engine) as s:
            make_org(s, "FUZZ", OrganisationType.ngo_national)
            user = auth.create_user(
                s, username="fuzz-admin", password="a long password", role=Role.admin
            )
            token, _ = auth.issue_token(config, user)
            s.commit()
        app = create_app(config)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        headers = {"Authorization": f"Bearer {token}"}
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        failures: list[str] = []
        operations = 0
        try:
            for result in schema.get_all_operations():
                operation = result.ok()
                operations += 1

                @settings(
                    max_examples=EXAMPLES,
                    derandomize=True,
                    deadline=None,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                )
                @given(case=operation.as_strategy())
                def run(case) -> None:
                    response = case.call(headers=headers)
                    where = f"{case.method} {case.formatted_path}"
                    if response.status_code >= 500:
                        failures.append(
                            f"{where}: {response.status_code} {response.text[:300]}"
                        )
                    elif response.status_code >= 400:
                        kind = response.headers.get("content-type", [""])
                        kind = kind[0] if isinstance(kind, list) else kind
                        if not kind.startswith("application/problem+json"):
                            failures.append(
                                f"{where}: {response.status_code} as {kind}"
                            )

                run()
        finally:
            engine.dispose()
        assert operations >= 50
        assert not failures, "\n".join(failures[:20])
