"""Reads a table downloaded from onemap with readers that are not onemap's
(Python's csv, openpyxl, sqlite3) and checks it equals the engine's own
answer (the JSON of /api/table: fields and rows). Exit 0 and "ok N" when
equal; a message and exit 1 when not.

    python table_check.py csv|xlsx|gpkg FILE EXPECTED.json
"""
import csv
import datetime
import json
import sqlite3
import struct
import sys


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def check_csv(path, exp):
    raw = open(path, "rb").read()
    if not raw.startswith(b"\xef\xbb\xbf"):
        fail("the CSV does not start with a UTF-8 byte-order mark")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    header, body = rows[0], rows[1:]
    want = [f["label"] for f in exp["fields"]]
    if header != want:
        fail(f"header {header} != {want}")
    if len(body) != len(exp["rows"]):
        fail(f"{len(body)} rows != {len(exp['rows'])}")
    yes, no = ("是", "否") if exp.get("lang", "zh") == "zh" else ("yes", "no")
    for i, (got, row) in enumerate(zip(body, exp["rows"])):
        for j, (g, e) in enumerate(zip(got, row)):
            ok = (
                (e is None and g == "")
                or (isinstance(e, bool) and g == (yes if e else no))
                or (isinstance(e, (int, float)) and not isinstance(e, bool) and g != "" and float(g) == e)
                or (isinstance(e, str) and g == e)
            )
            if not ok:
                fail(f"row {i} {exp['fields'][j]['key']}: {g!r} != {e!r}")
    return len(body)


def check_xlsx(path, exp):
    import openpyxl

    ws = openpyxl.load_workbook(path, read_only=True).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header, body = rows[0], rows[1:]
    want = [f["label"] for f in exp["fields"]]
    if list(header) != want:
        fail(f"header {header} != {want}")
    if len(body) != len(exp["rows"]):
        fail(f"{len(body)} rows != {len(exp['rows'])}")
    for i, (got, row) in enumerate(zip(body, exp["rows"])):
        got = list(got) + [None] * (len(row) - len(got))
        for j, (g, e) in enumerate(zip(got, row)):
            kind = exp["fields"][j]["type"]
            if e is None:
                ok = g is None
            elif kind == "date":
                ok = isinstance(g, datetime.datetime) and g.strftime("%Y-%m-%d") == e
            elif kind == "time":
                ok = isinstance(g, datetime.datetime) and g.strftime("%Y-%m-%d %H:%M:%S") == e
            elif kind == "bool":
                ok = g is e
            elif kind == "int":
                # Ids of 16 digits or more are text (Excel keeps 15 digits).
                ok = (isinstance(g, (int, float)) and g == e) or (isinstance(g, str) and e >= 10**15 and g == str(e))
            elif kind == "float":
                ok = isinstance(g, (int, float)) and abs(g - e) < 1e-9
            else:
                ok = g == e
            if not ok:
                fail(f"row {i} {exp['fields'][j]['key']} ({kind}): {g!r} != {e!r}")
    return len(body)


def check_gpkg(path, exp, lonlat):
    db = sqlite3.connect(path)
    app = db.execute("PRAGMA application_id").fetchone()[0]
    if app != 0x47504B47:
        fail(f"application_id {app:#x} is not GPKG")
    (table, dtype, srs) = db.execute("SELECT table_name, data_type, srs_id FROM gpkg_contents").fetchone()
    if dtype != "features" or srs != 4326:
        fail(f"gpkg_contents: {dtype} {srs}")
    (gcol, gtype) = db.execute(
        "SELECT column_name, geometry_type_name FROM gpkg_geometry_columns WHERE table_name = ?", (table,)
    ).fetchone()
    if gtype != "POINT":
        fail(f"geometry type {gtype}")
    cols = [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]
    want = ["fid", gcol] + [f["label"] for f in exp["fields"]]
    if cols != want:
        fail(f"columns {cols} != {want}")
    rows = db.execute(f'SELECT * FROM "{table}" ORDER BY fid').fetchall()
    if len(rows) != len(exp["rows"]):
        fail(f"{len(rows)} rows != {len(exp['rows'])}")
    for i, (r, e, pos) in enumerate(zip(rows, exp["rows"], lonlat)):
        blob = r[1]
        if blob[:2] != b"GP" or blob[3] & 0x0E != 0:
            fail(f"row {i}: not a GeoPackage point without envelope")
        (srs_id,) = struct.unpack("<i", blob[4:8])
        order, gt, x, y = struct.unpack("<BIdd", blob[8:29])
        # The expected positions went through the test's JSON parser, which
        # may be a unit in the last place off: a micrometre's tolerance.
        if srs_id != 4326 or order != 1 or gt != 1 or abs(x - pos[0]) > 1e-11 or abs(y - pos[1]) > 1e-11:
            fail(f"row {i}: point {(srs_id, order, gt, x, y)} != {pos}")
        for j, (g, ev) in enumerate(zip(r[2:], e)):
            kind = exp["fields"][j]["type"]
            if kind == "time" and g is not None:
                # GeoPackage DATETIME is UTC (…Z); the answer is China time.
                t = datetime.datetime.strptime(g, "%Y-%m-%dT%H:%M:%SZ") + datetime.timedelta(hours=8)
                g = t.strftime("%Y-%m-%d %H:%M:%S")
            if isinstance(ev, float):
                ok = abs(g - ev) < 1e-9
            else:
                ok = g == ev
            if not ok:
                fail(f"row {i} {exp['fields'][j]['key']}: {g!r} != {ev!r}")
    return len(rows)


kind, path, expected = sys.argv[1:4]
exp = json.load(open(expected, encoding="utf-8"))
if kind == "csv":
    n = check_csv(path, exp)
elif kind == "xlsx":
    n = check_xlsx(path, exp)
elif kind == "gpkg":
    n = check_gpkg(path, exp, exp["positions"])
else:
    fail(f"unknown kind {kind}")
print(f"ok {n}")
