"""The H3 reference for the Rust tests: each point's cell, computed by the
`h3` package (the binding of Uber's reference C library, not h3o).

Reads JSON from stdin: {"resolutions": [5, 8], "points": [[lon, lat], ...]}
(and optionally "cells": ["8a...", ...] to ask for boundaries) and prints
{"cells": {"5": ["85...", ...], "8": [...]}, "boundaries": {"8a...": [[lon,
lat], ...]}, "version": "4.x"}: per resolution, the cell holding each point,
in the order given (latLngToCell).
"""
import json
import sys

try:
    import h3
except ImportError as e:
    sys.stderr.write(
        "the H3 reference tests need the Python package h3 (pip install h3), "
        "the binding of the reference C library: %s\n" % e
    )
    sys.exit(3)

if not hasattr(h3, "latlng_to_cell"):
    sys.stderr.write(
        "the H3 reference tests need h3 4.x (latlng_to_cell); found %s\n"
        % getattr(h3, "__version__", "an older version")
    )
    sys.exit(3)


def main():
    q = json.load(sys.stdin)
    points = q.get("points", [])
    cells = {
        str(r): [h3.latlng_to_cell(lat, lon, r) for lon, lat in points]
        for r in q.get("resolutions", [])
    }
    boundaries = {
        c: [[lon, lat] for lat, lon in h3.cell_to_boundary(c)] for c in q.get("cells", [])
    }
    json.dump({"cells": cells, "boundaries": boundaries, "version": h3.__version__}, sys.stdout)


main()
