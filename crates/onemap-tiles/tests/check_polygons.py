"""Check every polygon of many Mapbox Vector Tiles with an independent
decoder (the `mapbox-vector-tile` package) and GEOS (shapely).

Reads tiles from stdin, each as a line `z/x/y LENGTH` followed by LENGTH
bytes of an uncompressed tile, and prints one JSON summary when stdin ends:

    {"tiles": .., "polygons": .., "rings": ..,
     "zooms": {"z": {"tiles": .., "polygons": .., "invalid": ..}},
     "invalid": .., "problems": [{"tile", "layer", "id", "problem"}, ...]}

A polygon feature is a problem when, as decoded:
- its geometry (a Polygon or MultiPolygon) is not OGC-valid for GEOS
  (`explain_validity` says why: self-intersection, ring self-intersection,
  hole outside shell, nested shells, too few points...);
- a ring is collapsed: the tile holds more rings than the decoder kept
  (it drops rings of zero area without a word), or a ring has fewer than
  four points once closed;
- a ring winds the wrong way: an exterior must have a positive surveyor
  area in tile coordinates (y down: clockwise on screen), a hole a negative
  one (MVT 2.1, 4.3.4.4).
"invalid" counts features with at least one problem; the first 50 problems
are listed. Exit status 0 whatever was found (the caller decides), 3 when
a package is missing.
"""
import json
import sys

try:
    import mapbox_vector_tile
    from mapbox_vector_tile.Mapbox import vector_tile_pb2
    from shapely.geometry import shape
    from shapely.validation import explain_validity
except ImportError as e:
    sys.stderr.write(
        "the polygon check needs the Python packages mapbox-vector-tile and shapely "
        "(pip install mapbox-vector-tile shapely): %s\n" % e
    )
    sys.exit(3)

POLYGON = 3
MAX_LISTED = 50


def raw_ring_count(geometry):
    """ClosePath commands in a raw geometry stream (one per ring)."""
    i, rings = 0, 0
    while i < len(geometry):
        cmd, count = geometry[i] & 7, geometry[i] >> 3
        i += 1
        if cmd == 7:
            rings += count
        else:
            i += 2 * count
    return rings


def signed_area(ring):
    return (
        sum(
            ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1]
            for i in range(len(ring) - 1)
        )
        / 2.0
    )


def problems_of(geometry, raw_rings):
    polys = (
        [geometry["coordinates"]]
        if geometry["type"] == "Polygon"
        else geometry["coordinates"]
    )
    rings = sum(len(p) for p in polys)
    found = []
    if rings != raw_rings:
        found.append("collapsed ring: %d rings in the tile, %d kept" % (raw_rings, rings))
    for p in polys:
        for k, ring in enumerate(p):
            if len(ring) < 4:
                found.append("ring of %d points" % len(ring))
            a = signed_area(ring)
            if (k == 0) != (a > 0):
                what = "exterior" if k == 0 else "hole"
                found.append("%s winds the wrong way (area %s)" % (what, a))
    if rings > 0:
        g = shape(geometry)
        if not g.is_valid:
            found.append(explain_validity(g))
    return found, rings


def main():
    stdin = sys.stdin.buffer
    summary = {"tiles": 0, "polygons": 0, "rings": 0, "invalid": 0, "zooms": {}, "problems": []}
    while True:
        header = stdin.readline()
        if not header:
            break
        name, length = header.decode().split()
        data = stdin.read(int(length))
        z = name.split("/")[0]
        zs = summary["zooms"].setdefault(z, {"tiles": 0, "polygons": 0, "invalid": 0})
        summary["tiles"] += 1
        zs["tiles"] += 1
        decoded = mapbox_vector_tile.decode(
            data, default_options={"y_coord_down": True, "geojson": False}
        )
        raw = vector_tile_pb2.tile()
        raw.ParseFromString(data)
        for layer in raw.layers:
            features = decoded[layer.name]["features"]
            for pf, f in zip(layer.features, features):
                if pf.type != POLYGON:
                    continue
                found, rings = problems_of(f["geometry"], raw_ring_count(pf.geometry))
                summary["polygons"] += 1
                summary["rings"] += rings
                zs["polygons"] += 1
                if found:
                    summary["invalid"] += 1
                    zs["invalid"] += 1
                    for problem in found:
                        if len(summary["problems"]) < MAX_LISTED:
                            summary["problems"].append(
                                {"tile": name, "layer": layer.name, "id": f["id"], "problem": problem}
                            )
    json.dump(summary, sys.stdout)


main()
