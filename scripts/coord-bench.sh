#!/usr/bin/env bash
# Times of the coordination routes (/api/coord/…) on a city, release build:
# serve it, wait for the demo year, time each route three times with curl,
# answer one suggestion three times. Usage: bash scripts/coord-bench.sh CITY_DIR
set -euo pipefail
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/onemap}
CITY=${1:?usage: scripts/coord-bench.sh CITY_DIR (a full city; its onemap.gpkg gets a token and an answer)}
cd "$(dirname "$0")/.."
T0=$(date +%s.%N)
$BIN serve --data "$CITY" --bind 127.0.0.1:18777 --styles styles --viewer viewer > ${TMPDIR:-/tmp}/coord-bench-serve.log 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null' EXIT
until grep -q listening ${TMPDIR:-/tmp}/coord-bench-serve.log; do sleep 0.05; done
T1=$(date +%s.%N)
echo "start to listening: $(echo "$T1 - $T0" | bc) s"
U=http://127.0.0.1:18777
t() { curl -s -o ${TMPDIR:-/tmp}/coord-bench.out -w "%{http_code} %{time_total}s %{size_download}B" "$@"; }
echo "first /api/coord/figures?area=city (waits for the year): $(t "$U/api/coord/figures?area=city")"
T2=$(date +%s.%N)
echo "start to year ready: $(echo "$T2 - $T0" | bc) s"
echo "RSS after the year: $(ps -o rss= -p $PID) KiB"
XTW=$(python3 -c 'import urllib.parse;print(urllib.parse.quote("西天尾镇"))')
for r in \
  "/api/coord/figures?area=city" \
  "/api/coord/figures?area=$XTW" \
  "/api/coord/plans?area=$XTW&limit=100" \
  "/api/coord/plans?area=$XTW&month=3&limit=1000" \
  "/api/coord/plans?limit=100" \
  "/api/coord/plans?limit=100&offset=70000" \
  "/api/coord/plans?decision=refused&limit=1000" \
  "/api/coord/sites?area=$XTW" \
  "/api/coord/sites?limit=10000" \
  "/api/coord/calendar?area=$XTW&month=3" \
  "/api/coord/calendar?month=3&limit=10000" ; do
  for i in 1 2 3; do echo "GET $r: $(t "$U$r")"; done
done
E=$(curl -s "$U/api/coord/plans?area=$XTW&limit=1" | python3 -c 'import json,sys;print(json.load(sys.stdin)["rows"][0]["target"]["id"])')
for i in 1 2 3; do echo "GET /api/coord/enterprises/$E: $(t "$U/api/coord/enterprises/$E")"; done
# A decision: a department token (made while the server runs: the store file is shared).
P=$(curl -s "$U/api/coord/plans?area=$XTW&decision=refused&limit=1")
ID=$(echo "$P" | python3 -c 'import json,sys;print(json.load(sys.stdin)["rows"][0]["id"])')
D=$(echo "$P" | python3 -c 'import json,sys;print(json.load(sys.stdin)["rows"][0]["department"]["name"])')
TOKEN=$($BIN token create --role department --scope "department:$D" --name bench --data "$CITY")
for a in true false true; do
  echo "POST /api/coord/plans/$ID/decision accept=$a: $(t -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "{\"accept\": $a}" "$U/api/coord/plans/$ID/decision")"
done
echo "figures of 西天尾镇 after (cold): $(t "$U/api/coord/figures?area=$XTW")"
echo "RSS at the end: $(ps -o rss= -p $PID) KiB"
# What enterprises do: a request of each kind and two self-check steps
# (each kept, then the year read again and the town run again), and the
# town's lists of requests and pushes.
PL=$(curl -s "$U/api/coord/plans?area=$XTW&action=keep&limit=10000")
read -r PID_ ENT DAY <<<"$(echo "$PL" | python3 -c '
import json,sys
rows=json.load(sys.stdin)["rows"]
r=next(r for r in rows if r["target"]["kind"]=="enterprise" and not r["urgent"] and r["suggestion"]["reason"]["code"]=="keep_as_planned" and r["planned"]<"2023-10-01")
print(r["id"], r["target"]["id"], r["suggestion"]["date"])')"
UNTIL=$(python3 -c "import datetime;print(datetime.date.fromisoformat('$DAY')+datetime.timedelta(days=30))")
ETOKEN=$($BIN token create --role enterprise --scope "enterprise:$ENT" --name bench --data "$CITY")
TOWN=$(curl -s "$U/api/coord/enterprises/$ENT" | python3 -c 'import json,sys;print(json.load(sys.stdin)["site"]["town"]["id"])')
OTOKEN=$($BIN token create --role town_office --scope "area:$TOWN" --name bench --data "$CITY")
post() { t -X POST -H "Authorization: Bearer $1" -H 'Content-Type: application/json' -d "$2" "$U$3"; }
echo "POST /api/coord/requests postpone: $(post "$ETOKEN" "{\"type\":\"postpone\",\"plan\":$PID_,\"reason\":\"relocation\",\"until\":\"$UNTIL\",\"note\":\"搬迁\"}" /api/coord/requests)"
echo "POST /api/coord/requests guidance: $(post "$ETOKEN" '{"type":"guidance","subject":"fire_safety","start":"2023-11-01","note":"请指导"}' /api/coord/requests)"
echo "POST /api/coord/requests inspection: $(post "$ETOKEN" '{"type":"inspection","subject":"special_equipment","start":"2023-11-10","note":"请检查"}' /api/coord/requests)"
read -r KEY WHO <<<"$(curl -s "$U/api/coord/pushes?area=$XTW&limit=10000" | python3 -c '
import json,sys,urllib.request
for p in json.load(sys.stdin)["rows"]:
    if p["pending"]>0:
        d=json.load(urllib.request.urlopen("'"$U"'/api/coord/pushes/"+p["key"]))
        c=next(c for c in d["checks"] if c["status"]=="pending")
        print(p["key"], c["enterprise"]["id"]); break')"
STOKEN=$($BIN token create --role enterprise --scope "enterprise:$WHO" --name bench --data "$CITY")
echo "POST /api/coord/pushes/$KEY/self-check self_checked: $(post "$STOKEN" '{"status":"self_checked","note":"已自查"}' "/api/coord/pushes/$KEY/self-check")"
echo "POST /api/coord/pushes/$KEY/self-check rectified: $(post "$STOKEN" '{"status":"rectified","note":"已整改"}' "/api/coord/pushes/$KEY/self-check")"
for i in 1 2 3; do echo "GET /api/coord/requests (town office): $(t -H "Authorization: Bearer $OTOKEN" "$U/api/coord/requests")"; done
for i in 1 2 3; do echo "GET /api/coord/pushes?area=西天尾镇: $(t "$U/api/coord/pushes?area=$XTW")"; done
for i in 1 2 3; do echo "GET /api/coord/pushes?limit=1000 (city): $(t "$U/api/coord/pushes?limit=1000")"; done
echo "RSS after the requests: $(ps -o rss= -p $PID) KiB"
