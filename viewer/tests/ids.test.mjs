// Tiles decoded by @mapbox/vector-tile, the decoder MapLibre uses, which
// reads feature ids and integer properties into JavaScript numbers (exact
// only up to 2^53; unit ids have 18 digits). Against a running `onemap
// serve` whose address is in ONEMAP_URL (scripts/test.sh starts one): every
// feature id must be a safe integer, distinct within its layer, and every
// id beyond 2^53 a string property equal to the server's own answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VectorTile } from '@mapbox/vector-tile';
import Pbf from 'pbf';

const BASE = process.env.ONEMAP_URL;
if (!BASE) throw new Error('ONEMAP_URL is not set: start `onemap serve` and export ONEMAP_URL=http://host:port');
const ALL = 'districts,towns,villages,grids,units,labels,events,ships,heritage,homesteads,enterprises,schools';

const api = async (path) => {
  const res = await fetch(BASE + path);
  assert.equal(res.status, 200, `${path} → ${res.status}`);
  return res.json();
};

/** The tile's layers decoded, or null for 204 No Content. */
async function tile(z, x, y) {
  const res = await fetch(`${BASE}/tiles/${ALL}/${z}/${x}/${y}.mvt`);
  if (res.status === 204) return null;
  assert.equal(res.status, 200, `${z}/${x}/${y} → ${res.status}`);
  return new VectorTile(new Pbf(new Uint8Array(await res.arrayBuffer()))).layers;
}

const features = (layer) => Array.from({ length: layer.length }, (_, i) => layer.feature(i));

const tileX = (lon, z) => Math.floor(((lon + 180) / 360) * 2 ** z);
const tileY = (lat, z) => {
  const r = (lat * Math.PI) / 180;
  return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * 2 ** z);
};

/** Every tile of zoom z over a lon/lat box. */
function tilesOver(b, z) {
  const out = [];
  for (let x = tileX(b.min_lon, z); x <= tileX(b.max_lon, z); x++)
    for (let y = tileY(b.max_lat, z); y <= tileY(b.min_lat, z); y++) out.push([z, x, y]);
  return out;
}

/** Feature ids: safe integers, none twice in a layer. Returns how many. */
function checkIds(layers, where) {
  let n = 0;
  for (const [name, layer] of Object.entries(layers)) {
    const ids = features(layer).map((f) => f.id);
    for (const id of ids) assert.ok(Number.isSafeInteger(id), `${where} ${name}: feature id ${id} is not exact`);
    assert.equal(new Set(ids).size, ids.length, `${where} ${name}: ${ids.length} features, ${new Set(ids).size} distinct ids`);
    n += ids.length;
  }
  return n;
}

test('ids: every feature id exact and distinct, every unit code and unit_id the server\'s', async () => {
  const found = await api('/api/areas/search?q=' + encodeURIComponent('村') + '&limit=50');
  const village = found.areas.find((a) => a.level === 'village');
  assert.ok(village, 'a village');
  const vid = String(village.id);
  const units = await api(`/api/features/units?area=${vid}&limit=10000`);
  const want = new Set(units.features.map((f) => f.id));
  assert.ok(want.size > 10, `units of village ${vid}`);
  for (const id of want) assert.equal(typeof id, 'string', 'unit ids in GeoJSON are strings');

  const codes = new Set();
  const events = [];
  let checked = 0;
  for (const [z, x, y] of tilesOver(village.bbox, 14)) {
    const layers = await tile(z, x, y);
    if (!layers) continue;
    checked += checkIds(layers, `${z}/${x}/${y}`);
    for (const f of layers.units ? features(layers.units) : []) {
      assert.equal(typeof f.properties.code, 'string', 'a unit carries its id as the string `code`');
      if (f.properties.code.startsWith(vid)) codes.add(f.properties.code);
    }
    for (const f of layers.events ? features(layers.events) : []) {
      if (f.type === 1 && 'unit_id' in f.properties) events.push(f);
    }
  }
  // The village's units as the tiles name them: exactly the server's.
  assert.deepEqual([...codes].sort(), [...want].sort());
  // Events name their unit exactly (a sample, each asked of the server).
  assert.ok(events.length > 0, 'event points at z14');
  for (const f of events.slice(0, 40)) {
    assert.equal(typeof f.properties.unit_id, 'string');
    const e = await api(`/api/features/events/${f.id}`);
    assert.equal(f.properties.unit_id, String(e.properties.unit), `event ${f.id}`);
  }

  // Hexagons (below z14) and every other layer over the whole city at
  // lower zooms: exact, distinct ids; a hexagon's is its cell's.
  const cat = await api('/catalog');
  const [w, s, e, n] = cat.bounds;
  let hexagons = 0;
  for (const z of [8, 10, 12]) {
    for (const [tz, x, y] of tilesOver({ min_lon: w, min_lat: s, max_lon: e, max_lat: n }, z).filter((_, i) => i % 3 === 0)) {
      const layers = await tile(tz, x, y);
      if (!layers) continue;
      checked += checkIds(layers, `${tz}/${x}/${y}`);
      for (const f of layers.events ? features(layers.events) : []) {
        if (f.type !== 3) continue;
        const cell = BigInt('0x' + f.properties.h3);
        assert.equal(BigInt(f.id), (cell >> 15n) & (2n ** 41n - 1n), `hexagon ${f.properties.h3}`);
        hexagons++;
      }
      for (const f of layers.labels ? features(layers.labels) : []) assert.equal(typeof f.properties.code, 'string');
    }
  }
  assert.ok(hexagons > 0, 'event hexagons checked');
  console.log(`ids: ${checked} feature ids, ${codes.size} unit codes, ${Math.min(events.length, 40)} events, ${hexagons} hexagons checked`);

  // TileJSON says which fields hold ids.
  const tj = await api(`/tiles/units,events.json`);
  const fields = Object.fromEntries(tj.vector_layers.map((l) => [l.id, l.fields]));
  assert.equal(fields.units.code, 'String');
  assert.equal(fields.events.unit_id, 'String');
});
