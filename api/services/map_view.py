"""What the web map needs from the database before drawing: the demo flag and the extent."""

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from api.db.models.geography import AdminArea
from api.db.models.hazards import Hazard

# [[south, west], [north, east]], as Leaflet takes bounds
Bounds = list[list[float]]


def holds_demo_data(session: Session) -> bool:
    """Whether the database holds the fictional demo programme."""
    return bool(session.scalar(select(exists().where(Hazard.is_demo))))


def programme_bounds(session: Session) -> Bounds | None:
    """The extent of the top-level administrative areas, or None when there are none."""
    geom = AdminArea.geom
    box = session.execute(
        select(
            func.ST_XMin(func.ST_Extent(geom)),
            func.ST_YMin(func.ST_Extent(geom)),
            func.ST_XMax(func.ST_Extent(geom)),
            func.ST_YMax(func.ST_Extent(geom)),
        ).where(AdminArea.level == select(func.min(AdminArea.level)).scalar_subquery())
    ).one()
    return None if box[0] is None else [[box[1], box[0]], [box[3], box[2]]]
