"""One home for versioned records: their entity tags, the If-Match check and the row lock.

Hazards, activities, accidents, victims, risk-education sessions and hazard reports carry a
``version`` (``api.db.base.VersionedMixin``) that every accepted change increments. A record's
ETag is that number, quoted. A change names the version it was based on in ``If-Match`` and is
refused with 412 when the record has moved on since (428 when the header is required and
missing), so no one overwrites a change they never saw. The record is read ``FOR UPDATE``
first, so two writers of one record take turns and the second one sees the first's version.

Every refusal names the kind of record ("the victim has changed since you read it"), because
one request can touch several: a victim belongs to an accident, a report leads to a hazard.
"""

import uuid
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.base import Base
from api.errors import NotFound, PreconditionFailed, PreconditionRequired

Record = TypeVar("Record", bound=Base)


def etag(version: int) -> str:
    """The entity tag of a record version: the version number, quoted."""
    return f'"{version}"'


def check_if_match(
    if_match: str | None, version: int, kind: str, *, required: bool = True
) -> None:
    """Pass when ``If-Match`` names ``version`` (``*`` matches any), else refuse.

    Args:
        if_match: the header as sent (a comma-separated list of entity tags), or None.
        version: the record's current version.
        kind: what the record is, as users call it ("hazard", "victim"...): named in the 412.
        required: whether a change without ``If-Match`` is refused (428) or let through.

    Raises:
        PreconditionRequired: 428, the header is required and missing.
        PreconditionFailed: 412 naming ``kind``, with ``current_version``.
    """
    if if_match is None:
        if not required:
            return
        raise PreconditionRequired(
            f"send If-Match with the ETag of the {kind} you read, "
            "so that no one else's change is overwritten"
        )
    tags = [t.strip() for t in if_match.split(",")]
    if "*" in tags or etag(version) in tags:
        return
    raise PreconditionFailed(
        f"the {kind} has changed since you read it (now version {version}); "
        "read it again and re-apply your change",
        current_version=version,
    )


def lock(
    session: Session,
    model: type[Record],
    record_id: uuid.UUID,
    kind: str,
    *criteria: Any,
    not_found: str | None = None,
) -> Record:
    """The record ``record_id`` of ``model``, read ``SELECT ... FOR UPDATE``.

    Args:
        session: the session whose transaction holds the lock until it ends.
        model: a mapped class with an ``id`` (and maybe a ``retired_at``) column.
        record_id: the record's id.
        kind: what the record is, for the 404 ("no hazard <id>").
        criteria: further conditions the record must meet (e.g. its parent's id).
        not_found: the 404's detail, when "no <kind> <id>" does not say enough.

    Raises:
        NotFound: 404 when there is no such record, it misses ``criteria`` or it is retired.
    """
    record = session.scalars(
        select(model)
        .where(model.id == record_id, *criteria)  # type: ignore[attr-defined]
        .with_for_update()
    ).one_or_none()
    if record is None or getattr(record, "retired_at", None) is not None:
        raise NotFound(not_found or f"no {kind} {record_id}")
    return record
