"""Shared request and response shapes."""

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

GeoJSONGeometry = dict[str, Any]


def _written_date(value: Any) -> Any:
    """Refuse numbers for dates: pydantic would read 0 as 1970-01-01 (a Unix time)."""
    if isinstance(value, bool | int | float):
        raise ValueError("a date is written YYYY-MM-DD; a number is not read as a date")
    return value


Day = Annotated[date, BeforeValidator(_written_date)]


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


class Beneficiaries(BaseModel):
    """Beneficiaries of releasing an area, disaggregated where known."""

    model_config = ConfigDict(extra="forbid")

    total: int | None = Field(None, ge=0)
    women: int | None = Field(None, ge=0)
    men: int | None = Field(None, ge=0)
    girls: int | None = Field(None, ge=0)
    boys: int | None = Field(None, ge=0)


class WriteWarnings(BaseModel):
    """Present on write responses when the server repaired or adjusted the input."""

    warnings: list[str] = Field(default_factory=list)
