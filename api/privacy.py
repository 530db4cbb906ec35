"""Keep the points people check out of the logs.

``GET /api/v1/public/check?lon=..&lat=..`` tells where someone is. The server never stores
that, and :class:`RedactCheckQuery` makes sure no log line carries it either: it rewrites
any log record whose message or arguments contain the check path followed by a query string
(uvicorn's access log passes the path with its query as an argument) so that the query reads
``?[redacted]``. :func:`install` puts the filter on uvicorn's loggers, on ours, and on the
handlers of the root logger (which see records propagated from every other logger).
"""

import logging
import re

CHECK_PATH = "/api/v1/public/check"
_QUERY = re.compile(re.escape(CHECK_PATH) + r"\?[^\s\"']*")
REDACTED = CHECK_PATH + "?[redacted]"
LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn", "api", "fastapi")


def redact(value: object) -> object:
    """``value`` with the query string of any check URL in it replaced."""
    if isinstance(value, str) and CHECK_PATH in value:
        return _QUERY.sub(REDACTED, value)
    return value


class RedactCheckQuery(logging.Filter):
    """Remove the query string of ``/api/v1/public/check`` from log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drop it."""
        record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) for k, v in record.args.items()}
        return True


_FILTER = RedactCheckQuery()


def install() -> None:
    """Install the filter (idempotent) on the loggers and root handlers that exist now."""
    targets: list[logging.Filterer] = [logging.getLogger(n) for n in LOGGERS]
    targets += logging.getLogger().handlers
    for name in LOGGERS:
        targets += logging.getLogger(name).handlers
    for target in targets:
        if _FILTER not in target.filters:
            target.addFilter(_FILTER)
