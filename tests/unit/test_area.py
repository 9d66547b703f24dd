"""The Kansas City metropolitan area (the 14-county MSA) and the area geometry wrapper."""

from __future__ import annotations

import json
from functools import cache

import pytest

from shared.policy.area import Area
from shared.policy.loading import DEFAULT_DATA_DIR

KC_MSA_FILE = DEFAULT_DATA_DIR / "areas" / "kansas-city-msa.geojson"


@cache
def kc_msa() -> Area:
    return Area.from_geojson(json.loads(KC_MSA_FILE.read_text()))


@pytest.mark.parametrize(
    ("place", "lat", "lon"),
    [
        ("downtown Kansas City MO", 39.0997, -94.5786),
        ("Independence MO", 39.0911, -94.4155),
        ("Olathe KS", 38.8814, -94.8191),
        ("Kansas City KS", 39.1141, -94.6275),
        ("Liberty MO (Clay)", 39.2461, -94.4191),
        ("Leavenworth KS", 39.3111, -94.9225),
        ("Butler MO (Bates)", 38.2587, -94.3305),
        ("Paola KS (Miami)", 38.5722, -94.8791),
    ],
)
def test_inside_the_kansas_city_metropolitan_area(place: str, lat: float, lon: float) -> None:
    assert kc_msa().contains(lat=lat, lon=lon), place


@pytest.mark.parametrize(
    ("place", "lat", "lon"),
    [
        ("St. Louis MO", 38.627, -90.1994),
        ("Topeka KS", 39.0483, -95.6780),
        ("Columbia MO", 38.9517, -92.3341),
        ("St. Joseph MO (Buchanan, not in the MSA)", 39.7675, -94.8467),
        ("Lawrence KS (Douglas)", 38.9717, -95.2353),
        ("Sedalia MO (Pettis)", 38.7045, -93.2283),
    ],
)
def test_outside_the_kansas_city_metropolitan_area(place: str, lat: float, lon: float) -> None:
    assert not kc_msa().contains(lat=lat, lon=lon), place


def test_the_area_file_records_its_source_and_counties() -> None:
    properties = json.loads(KC_MSA_FILE.read_text())["features"][0]["properties"]
    assert len(properties["fips"]) == 14
    assert "29095" in properties["fips"]  # Jackson County, MO
    assert "20209" in properties["fips"]  # Wyandotte County, KS
    assert "us-atlas" in properties["source"]
    assert properties["precision"]


SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}


@pytest.mark.parametrize(
    "document",
    [
        SQUARE,
        {"type": "Feature", "properties": {}, "geometry": SQUARE},
        {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": SQUARE}]},
    ],
    ids=["geometry", "feature", "feature-collection"],
)
def test_an_area_reads_any_geojson_wrapper(document: dict[str, object]) -> None:
    area = Area.from_geojson(document)
    assert area.contains(lat=1, lon=1)
    assert not area.contains(lat=3, lon=1)
    assert area.bounds == (0, 0, 2, 2)


def test_a_point_on_the_boundary_is_inside() -> None:
    area = Area.from_geojson(SQUARE)
    assert area.contains(lat=0, lon=1)
    assert area.contains(lat=2, lon=2)


def test_a_feature_collection_is_the_union_of_its_features() -> None:
    other = {"type": "Polygon", "coordinates": [[[10, 10], [11, 10], [11, 11], [10, 11], [10, 10]]]}
    area = Area.from_geojson(
        {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "geometry": g} for g in (SQUARE, other)],
        }
    )
    assert area.contains(lat=1, lon=1)
    assert area.contains(lat=10.5, lon=10.5)
    assert not area.contains(lat=5, lon=5)


def test_a_point_is_not_an_area() -> None:
    with pytest.raises(ValueError, match="polygon"):
        Area.from_geojson({"type": "Point", "coordinates": [0, 0]})


def test_an_empty_feature_collection_is_not_an_area() -> None:
    with pytest.raises(ValueError):
        Area.from_geojson({"type": "FeatureCollection", "features": []})
