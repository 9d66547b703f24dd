"""Build the Kansas City metropolitan area boundary shipped with the policy data.

The area is the 14-county Kansas City MSA. The county geometry comes from the npm package
`us-atlas` (v3), a redistribution of the Census Bureau's 2017 cartographic county boundaries as
TopoJSON in longitude/latitude. Fetch it through npm, then run this script:

    cd /tmp && npm pack us-atlas@3 && tar xzf us-atlas-3.*.tgz
    .venv/bin/python scripts/build_kc_msa_geojson.py --topojson /tmp/package/counties-10m.json

The script decodes the TopoJSON arcs (delta-encoded and quantized with the file's transform),
checks that every FIPS code names the county it should, unions the 14 counties with shapely and
writes one GeoJSON Feature whose properties record the source, the FIPS list and the precision.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "shared" / "policy" / "data" / "areas" / "kansas-city-msa.geojson"
COORDINATE_DECIMALS = 5

# FIPS code → county name; the names are checked against the source so a wrong code fails loudly.
KC_MSA_COUNTIES = {
    "29013": "Bates",
    "29025": "Caldwell",
    "29037": "Cass",
    "29047": "Clay",
    "29049": "Clinton",
    "29095": "Jackson",
    "29107": "Lafayette",
    "29165": "Platte",
    "29177": "Ray",
    "20091": "Johnson",
    "20103": "Leavenworth",
    "20107": "Linn",
    "20121": "Miami",
    "20209": "Wyandotte",
}

Position = tuple[float, float]


def decode_arcs(topology: dict[str, Any]) -> list[list[Position]]:
    """Every arc of the topology as absolute longitude/latitude positions."""
    (scale_x, scale_y) = topology["transform"]["scale"]
    (translate_x, translate_y) = topology["transform"]["translate"]
    arcs: list[list[Position]] = []
    for quantized_arc in topology["arcs"]:
        x = y = 0
        positions: list[Position] = []
        for dx, dy in quantized_arc:
            x += dx
            y += dy
            positions.append((x * scale_x + translate_x, y * scale_y + translate_y))
        arcs.append(positions)
    return arcs


def ring_positions(arc_indexes: Sequence[int], arcs: list[list[Position]]) -> list[Position]:
    """Join a ring's arcs; a negative index `~i` means arc `i` reversed."""
    ring: list[Position] = []
    for index in arc_indexes:
        arc = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
        ring.extend(arc if not ring else arc[1:])
    return ring


def county_geometry(geometry: dict[str, Any], arcs: list[list[Position]]) -> MultiPolygon:
    """A TopoJSON Polygon or MultiPolygon object as a shapely MultiPolygon."""
    if geometry["type"] == "Polygon":
        polygons = [geometry["arcs"]]
    elif geometry["type"] == "MultiPolygon":
        polygons = geometry["arcs"]
    else:
        raise ValueError(f"county {geometry['id']}: unexpected geometry {geometry['type']}")
    return MultiPolygon(
        [
            Polygon(
                ring_positions(rings[0], arcs), [ring_positions(ring, arcs) for ring in rings[1:]]
            )
            for rings in polygons
        ]
    )


def build_area(topojson_path: Path) -> dict[str, Any]:
    """The GeoJSON FeatureCollection of the union of the KC MSA counties."""
    raw = topojson_path.read_bytes()
    topology = json.loads(raw)
    arcs = decode_arcs(topology)
    counties = {g["id"]: g for g in topology["objects"]["counties"]["geometries"]}
    parts = []
    for fips, name in KC_MSA_COUNTIES.items():
        county = counties.get(fips)
        if county is None:
            raise SystemExit(f"county {fips} ({name}) is not in {topojson_path}")
        if county["properties"]["name"] != name:
            raise SystemExit(
                f"county {fips}: expected {name}, found {county['properties']['name']}"
            )
        parts.append(shapely.make_valid(county_geometry(county, arcs)))
    union = shapely.set_precision(shapely.union_all(parts), 10**-COORDINATE_DECIMALS)
    if not union.is_valid or union.is_empty:
        raise SystemExit("the union of the counties is not a valid area")
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "name": "Kansas City metropolitan area",
                    "definition": "the 14-county Kansas City, MO-KS Metropolitan Statistical Area",
                    "counties": [f"{fips} {name}" for fips, name in KC_MSA_COUNTIES.items()],
                    "fips": list(KC_MSA_COUNTIES),
                    "source": source_description(topojson_path, raw),
                    "precision": (
                        f"coordinates rounded to {COORDINATE_DECIMALS} decimal places; the source "
                        "is quantized to about 0.0036 degrees of longitude by 0.00086 degrees of "
                        "latitude (about 300 m by 100 m here) and simplified, so a point within a "
                        "few hundred metres of the boundary may fall on either side"
                    ),
                    "generator": "scripts/build_kc_msa_geojson.py",
                },
                "geometry": mapping(union),
            }
        ],
    }


def source_description(topojson_path: Path, raw: bytes) -> str:
    """Name the package version and the file's digest, so the build can be repeated."""
    package_json = topojson_path.parent / "package.json"
    version = "3"
    if package_json.is_file():
        version = json.loads(package_json.read_text())["version"]
    digest = hashlib.sha256(raw).hexdigest()
    return (
        f"npm us-atlas@{version} {topojson_path.name} (sha256 {digest}), U.S. Census Bureau "
        "cartographic county boundaries, 2017 edition"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topojson", type=Path, required=True, help="us-atlas counties-10m.json")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    area = build_area(args.topojson)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(area, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
