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
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from sqlalchemy import TextClause, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from api.db.base import Base
from api.db.models import Organisation
from api.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ProblemError,
)
from api.services.auth import Principal, require_writer

Record = TypeVar("Record", bound=Base)


class Owned(Protocol):
    """A versioned record that an organisation owns (hazards, activities, accidents...)."""

    @property
    def organisation_id(self) -> uuid.UUID:
        """The organisation the record belongs to."""

    @property
    def version(self) -> int:
        """The record's current version (its ETag)."""


OwnedRecord = TypeVar("OwnedRecord", bound=Owned)
# checks that ``principal`` may write for an organisation (id, code); raises 401/403
WriterCheck = Callable[[Principal | None, uuid.UUID, str], object]


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


def open_for_change(
    session: Session,
    model: type[OwnedRecord],
    record_id: uuid.UUID,
    kind: str,
    *,
    principal: Principal | None,
    if_match: str | None,
    may_write: WriterCheck = require_writer,
    required: bool = True,
) -> OwnedRecord:
    """The record, locked, once the caller may change it: the one order of every change.

    First the row lock (404 when missing or retired), then whether the caller may write for
    the record's organisation (``may_write``, 403), then ``If-Match`` (428/412), so a caller
    who may not write learns nothing of the record's version.
    """
    record = lock(session, model, record_id, kind)  # type: ignore[type-var]
    org = session.get_one(Organisation, record.organisation_id)
    may_write(principal, org.id, org.code)
    check_if_match(if_match, record.version, kind, required=required)
    return record


def next_version(record: Any) -> int:
    """Count an accepted change of ``record``: its version goes up, ``updated_at`` is now."""
    record.version += 1
    record.updated_at = func.now()
    return int(record.version)


def retire(record: Any) -> None:
    """Retire ``record``: nothing is deleted, it stops being read; a new version."""
    record.retired_at = func.now()
    record.version += 1


def refuse_removal(given: set[str], required: tuple[str, ...], values: Any) -> None:
    """Refuse (422) a change that sets a required member of ``values`` to null."""
    nulls = [f for f in required if f in given and getattr(values, f) is None]
    if nulls:
        raise InvalidInput(
            "these properties cannot be removed",
            errors=[
                {"pointer": f"/properties/{f}", "message": "may not be null"}
                for f in nulls
            ],
        )


@contextmanager
def undone_on_refusal(session: Session) -> Iterator[None]:
    """A refused write leaves nothing half-applied in the session."""
    try:
        yield
    except ProblemError:
        session.rollback()
        raise


def commit(session: Session, what: str) -> None:
    """Commit; database refusals become problems without echoing the values sent."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"the {what} conflicts with a stored record") from None
    except DBAPIError:
        session.rollback()
        raise InvalidInput(f"the {what} could not be stored") from None


@contextmanager
def external_id_guard(session: Session, taken: ProblemError) -> Iterator[None]:
    """Writes inside refused with ``taken`` (after a rollback) when the record's
    ``external_id`` is one its organisation already used; other refusals raised as they are."""
    try:
        yield
    except IntegrityError as exc:
        session.rollback()
        if "external_id" in str(exc.orig):
            raise taken from exc
        raise


def save(session: Session, *, commit: bool, external_id_taken: ProblemError) -> None:
    """Commit (or, inside a larger unit of work such as an import, only flush).

    A record whose ``external_id`` its organisation already used is refused with
    ``external_id_taken``; any other database refusal is raised as it is.
    """
    with external_id_guard(session, external_id_taken):
        if commit:
            session.commit()
        else:
            session.flush()


def read_one(
    session: Session, sql: TextClause, params: Mapping[str, Any], not_found: str
) -> dict[str, Any]:
    """The one row ``sql`` reads (live records only, by id), as a dict; 404 when none."""
    row = session.execute(sql, params).mappings().first()
    if row is None:
        raise NotFound(not_found)
    return dict(row)
