"""Decode a Mapbox Vector Tile read from stdin with an independent decoder
(the `mapbox-vector-tile` package) and print a JSON dump for the Rust tests.

Each feature gets its id, geometry in tile coordinates (y down, as encoded),
typed properties ({"kind": <protobuf Value field>, "value": ...}) and, from
shapely, its area and validity. Each layer also reports its key and value
table sizes, so tests can check deduplication.
"""
import json
import sys

try:
    import mapbox_vector_tile
    from mapbox_vector_tile.Mapbox import vector_tile_pb2
    from shapely.geometry import box, shape
except ImportError as e:
    sys.stderr.write(
        "onemap-tiles tests need the Python package mapbox-vector-tile "
        "(pip install mapbox-vector-tile): %s\n" % e
    )
    sys.exit(3)


TILE = box(0, 0, 4096, 4096)


def main():
    data = sys.stdin.buffer.read()
    decoded = mapbox_vector_tile.decode(
        data, default_options={"y_coord_down": True, "geojson": False}
    )
    raw = vector_tile_pb2.tile()
    raw.ParseFromString(data)
    out = {}
    for layer in raw.layers:
        d = decoded[layer.name]
        features = []
        for pf, f in zip(layer.features, d["features"]):
            props = {}
            tags = list(pf.tags)
            for ki, vi in zip(tags[::2], tags[1::2]):
                value = layer.values[vi]
                fields = value.ListFields()
                kind = fields[0][0].name if fields else None
                props[layer.keys[ki]] = {"kind": kind, "value": f["properties"][layer.keys[ki]]}
            g = shape(f["geometry"])
            features.append(
                {
                    "id": f["id"],
                    "has_id": pf.HasField("id"),
                    "type": f["type"],
                    "geometry": f["geometry"],
                    "properties": props,
                    "area": g.area,
                    "valid": bool(g.is_valid),
                    # The part inside the tile proper (no buffer), for area sums.
                    "area_in_tile": (g if g.is_valid else g.buffer(0)).intersection(TILE).area
                    if g.area > 0
                    else 0.0,
                }
            )
        out[layer.name] = {
            "version": d["version"],
            "extent": d["extent"],
            "keys": len(layer.keys),
            "values": len(layer.values),
            "features": features,
        }
    json.dump(out, sys.stdout)


main()
