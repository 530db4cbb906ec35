"""Shared request and response shapes."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

GeoJSONGeometry = dict[str, Any]


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
