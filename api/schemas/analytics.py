"""Figures of the land-release summary and the analytics (response bodies)."""

import datetime as dt

from pydantic import BaseModel, Field


class AreaFigures(BaseModel):
    """Land-release figures, m² on the WGS 84 ellipsoid."""

    baseline_area_m2: float
    cancelled_area_m2: float
    reduced_area_m2: float
    cleared_area_m2: float
    released_area_m2: float
    remaining_area_m2: float


class SummaryTotals(AreaFigures):
    """Programme totals."""

    hazard_count: int


class SummaryRow(SummaryTotals):
    """One group's figures; ``key`` null is the row of what no group holds (e.g. the
    unreleased remainder when grouped by method or month)."""

    key: str | None
    label: str | None


class LandReleaseSummary(BaseModel):
    """Baseline, cancelled, reduced, cleared, released and remaining m² per group."""

    group_by: str
    as_of: dt.date | None
    rows: list[SummaryRow]
    totals: SummaryTotals


class BurndownPoint(SummaryTotals):
    """The figures as known at the end of one month."""

    date: dt.date


class BurndownSeries(BaseModel):
    """One group's figures month by month (key ``all`` without ``group_by``)."""

    key: str | None
    label: str | None
    points: list[BurndownPoint]


class Burndown(BaseModel):
    """Land-release figures month by month."""

    group_by: str | None
    from_: dt.date = Field(alias="from")
    to: dt.date
    series: list[BurndownSeries]


class EOFindCount(BaseModel):
    """Finds and items in one group."""

    key: str | None
    label: str | None
    find_count: int
    item_count: int = Field(description="sum of the finds' quantity")


class EOFindCountTotals(BaseModel):
    """Finds and items over every group."""

    find_count: int
    item_count: int


class EOFindCounts(BaseModel):
    """Number of finds and of items per group; counts only, no locations."""

    group_by: str
    from_: dt.date | None = Field(alias="from")
    to: dt.date | None
    rows: list[EOFindCount]
    totals: EOFindCountTotals
