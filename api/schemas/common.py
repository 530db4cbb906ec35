"""Shared request and response shapes."""

import math
from datetime import date
from typing import Annotated, Any, Generic, Literal, TypeVar

from geojson_pydantic import Feature, FeatureCollection
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

GeoJSONGeometry = dict[str, Any]


def _written_date(value: Any) -> Any:
    """Refuse numbers for dates: pydantic would read 0 as 1970-01-01 (a Unix time)."""
    if isinstance(value, bool | int | float):
        raise ValueError("a date is written YYYY-MM-DD; a number is not read as a date")
    return value


Day = Annotated[date, BeforeValidator(_written_date)]

# Bounds of the numbers a write may carry. Every number stored must be servable again (orjson
# refuses integers past 64 bits; NaN and infinity are not JSON), and the bounds are far beyond
# any plausible record, so they refuse only mistakes and abuse. Migration 0015 checks the
# same bounds in the database.
MAX_COUNT = 10_000_000
"""People (killed, injured, beneficiaries) and items (EO find quantity) in one record."""
MAX_DEPTH_CM = 10_000
"""Depths in centimetres (100 m): a find's depth, an activity's clearance depth."""
MAX_ESTIMATED_AREA_M2 = 1e12
"""A reported area estimate, m² (1,000,000 km²)."""
MAX_GPS_ACCURACY_M = 100_000.0
"""A reported GPS accuracy, metres (100 km)."""

MAX_FREE_INTEGER = 2**63 - 1
"""Integers in free-form members kept as sent (64-bit, as orjson and PostgreSQL bigint)."""


def servable(value: Any, where: str, *, integers: bool = True) -> None:
    """Refuse numbers a JSON response cannot carry: integers past 64 bits, NaN, infinity.

    For members stored as sent (e.g. extra properties of a release polygon); ``where``
    is the JSON pointer of ``value``, named in the message. ``integers=False`` lets any
    integer through (a document kept exactly as sent: JSONB holds it, responses write it).
    """
    stack = [(value, where)]
    while stack:  # iterative: request bodies nest at most 64 levels, but stay safe
        item, path = stack.pop()
        if isinstance(item, bool) or item is None or isinstance(item, str):
            continue
        if (
            integers
            and isinstance(item, int)
            and not -MAX_FREE_INTEGER - 1 <= item <= MAX_FREE_INTEGER
        ):
            raise ValueError(f"{path}: integers are at most 64-bit (±9.2e18)")
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"{path}: numbers must be finite (no NaN or infinity)")
        if isinstance(item, dict):
            stack.extend((v, f"{path}/{k}") for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{path}/{i}") for i, v in enumerate(item))


Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
"""A number of people or items, 0..10,000,000."""
DepthCm = Annotated[int, Field(ge=0, le=MAX_DEPTH_CM)]
"""A depth in centimetres, 0..10,000."""
EstimatedAreaM2 = Annotated[
    float, Field(ge=0, le=MAX_ESTIMATED_AREA_M2, allow_inf_nan=False)
]
"""A reported area in m², 0..1e12, finite."""


class Link(BaseModel):
    """A link in a collection response (OGC API Features style)."""

    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class FeatureCollectionOut(BaseModel):
    """A page of GeoJSON Features with OGC API Features paging members."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[dict[str, Any]]
    numberMatched: int  # noqa: N815 - name fixed by OGC API Features
    numberReturned: int  # noqa: N815
    links: list[Link]


F = TypeVar("F", bound=Feature)


class FeaturePage(FeatureCollection[F], Generic[F]):
    """A page of typed GeoJSON Features with OGC API Features paging members."""

    numberMatched: int  # noqa: N815 - name fixed by OGC API Features
    numberReturned: int  # noqa: N815
    links: list[Link]


class Beneficiaries(BaseModel):
    """Beneficiaries of releasing an area, disaggregated where known."""

    model_config = ConfigDict(extra="forbid")

    total: Count | None = None
    women: Count | None = None
    men: Count | None = None
    girls: Count | None = None
    boys: Count | None = None


class WriteWarnings(BaseModel):
    """Present on write responses when the server repaired or adjusted the input."""

    warnings: list[str] = Field(default_factory=list)
