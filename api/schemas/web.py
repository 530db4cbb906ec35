"""What the web map's pages read before drawing (response bodies; not in the API document)."""

from pydantic import BaseModel, Field


class Basemap(BaseModel):
    """The base map: an XYZ tile URL (empty for none) and its attribution."""

    url: str
    attribution: str


class MapConfig(BaseModel):
    """``/map-config.json``: base map, initial extent, demo flag, languages, tile version."""

    basemap: Basemap
    bounds: list[list[float]] | None = Field(
        description="[[south, west], [north, east]] of the top-level admin areas (Leaflet's "
        "lat, lng order), null without any"
    )
    demo: bool = Field(description="the data are the fictional demo programme")
    languages: list[str]
    public_tiles: str | None = Field(
        description="version of the latest publication's public tiles (?v=), null before "
        "the first publication"
    )
