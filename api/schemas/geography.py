"""Administrative areas (response bodies)."""

from geojson_pydantic import Feature, MultiPolygon, Polygon
from pydantic import BaseModel, Field

from api.schemas.common import FeaturePage


class AdminAreaProperties(BaseModel):
    """An administrative unit."""

    id: str
    pcode: str
    name: str
    names: dict[str, str] = Field(description="names by language code")
    level: int
    parent_pcode: str | None
    is_demo: bool


class AdminAreaFeature(Feature[Polygon | MultiPolygon, AdminAreaProperties]):
    """An administrative unit as a Feature, identified by its P-code."""

    id: str


class AdminAreaCollection(FeaturePage[AdminAreaFeature]):
    """A page of administrative units."""
