"""An agency's area: a prepared shapely geometry that answers "is this point inside?"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import shapely
from shapely.geometry import shape


class Area:
    """A (multi)polygon in longitude/latitude; points on the boundary count as inside."""

    __slots__ = ("_geometry",)

    def __init__(self, geometry: Any) -> None:
        if geometry.is_empty or geometry.geom_type not in ("Polygon", "MultiPolygon"):
            raise ValueError(f"an area must be a non-empty polygon, not {geometry.geom_type}")
        if not geometry.is_valid:
            raise ValueError("the area's geometry is not valid")
        shapely.prepare(geometry)
        self._geometry = geometry

    @classmethod
    def from_geojson(cls, document: Mapping[str, Any]) -> Area:
        """A GeoJSON geometry, Feature or FeatureCollection (the union of its features)."""
        kind = document.get("type")
        if kind == "FeatureCollection":
            geometries = [shape(feature["geometry"]) for feature in document["features"]]
        elif kind == "Feature":
            geometries = [shape(document["geometry"])]
        else:
            geometries = [shape(document)]
        if not geometries:
            raise ValueError("the GeoJSON holds no geometry")
        return cls(shapely.union_all(geometries))

    def contains(self, *, lat: float, lon: float) -> bool:
        """Whether the point is inside the area or on its boundary."""
        return bool(shapely.intersects_xy(self._geometry, lon, lat))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(min lon, min lat, max lon, max lat)."""
        min_lon, min_lat, max_lon, max_lat = self._geometry.bounds
        return (min_lon, min_lat, max_lon, max_lat)
