"""OGC API – Features documents (response bodies)."""

from datetime import datetime
from typing import Any, Literal

from geojson_pydantic import Feature, FeatureCollection
from geojson_pydantic.geometries import Geometry
from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Link


class LandingPage(BaseModel):
    """What this is and where the API description and data are."""

    title: str
    description: str
    links: list[Link]


class Conformance(BaseModel):
    """The conformance classes this implementation meets."""

    conformsTo: list[str]  # noqa: N815 - name fixed by OGC API Features
    links: list[Link]


class SpatialExtent(BaseModel):
    """Bounding boxes of the data."""

    bbox: list[list[float]] = Field(description="minLon, minLat, maxLon, maxLat")
    crs: str


class TemporalExtent(BaseModel):
    """Time intervals of the data."""

    interval: list[list[str | None]]
    trs: str | None = None


class Extent(BaseModel):
    """The extent of a collection, from the data."""

    spatial: SpatialExtent
    temporal: TemporalExtent | None = None


class CollectionInfo(BaseModel):
    """The description of one collection, with its links."""

    id: str
    title: str
    description: str
    itemType: Literal["feature"]  # noqa: N815 - name fixed by OGC API Features
    crs: list[str]
    storageCrs: str  # noqa: N815
    extent: Extent | None = Field(None, description="absent while the data is empty")
    links: list[Link]


class Collections(BaseModel):
    """The collections the caller may see."""

    links: list[Link]
    collections: list[CollectionInfo]


class Queryables(BaseModel):
    """The queryables of a collection, as a JSON Schema."""

    model_config = ConfigDict(populate_by_name=True)

    schema_: str = Field(alias="$schema")
    id_: str = Field(alias="$id")
    type: Literal["object"]
    title: str
    description: str
    properties: dict[str, dict[str, Any]]
    additionalProperties: bool  # noqa: N815 - name fixed by JSON Schema


class OGCFeature(Feature[Geometry, dict[str, Any]]):
    """A feature of a collection; its properties are those of the collection (see its
    queryables)."""

    id: str | int


class OGCFeatureCollection(FeatureCollection[OGCFeature]):
    """A page of features with ``numberMatched``, ``timeStamp`` and paging links."""

    numberMatched: int  # noqa: N815 - name fixed by OGC API Features
    numberReturned: int  # noqa: N815
    timeStamp: datetime  # noqa: N815
    links: list[Link]


class OGCFeatureOut(OGCFeature):
    """One feature with its links (self, alternate, collection)."""

    links: list[Link]


class OpenAPIDocument(BaseModel):
    """An OpenAPI 3.1 description of the OGC API paths, collection by collection."""

    model_config = ConfigDict(extra="allow")

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    servers: list[dict[str, Any]] = []
