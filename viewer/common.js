// Shared by the viewer and the wall display.
'use strict';
const onemapCommon = (() => {
  const LEVEL_LAYER = { district: 'districts', town: 'towns', village: 'villages', grid: 'grids', unit: 'units' };
  const LEVEL_NAME = { district: '区县', town: '镇街', village: '村居', grid: '网格', unit: '单元' };
  const fmt = new Intl.NumberFormat('en-US');
  const num = (n) => (n === null || n === undefined ? '–' : fmt.format(n));
  const pct = (r) => (r === null || r === undefined ? '–' : (100 * r).toFixed(2) + '%');
  async function getJSON(url, signal) {
    const res = await fetch(url, { signal });
    const body = await res.json();
    if (!res.ok) throw new Error((body.error && body.error.message) || res.statusText);
    return body;
  }
  // Date input value (YYYY-MM-DD) → the day after, for an exclusive 'to'.
  function nextDay(d) {
    const t = new Date(d + 'T00:00:00Z');
    t.setUTCDate(t.getUTCDate() + 1);
    return t.toISOString().slice(0, 10);
  }
  // Ship icons, drawn here rather than loaded (the styles have no sprite):
  // 'ship' (at sea) and 'ship-port' (in port), a pointed hull with a notched
  // stern pointing north, so that `icon-rotate: ['get', 'heading']` (degrees
  // clockwise from north, 'map' alignment) turns it to the ship's course.
  // They are added when the style first asks for either image
  // (styleimagemissing, so MapLibre never reports them missing) or at once if
  // the style is already loaded, with the page's own colours.
  const SHIP_ICON = { size: 15, ratio: 2 }; // 15 CSS px square, drawn at 2x
  function shipIcon(fill, outline) {
    const n = SHIP_ICON.size * SHIP_ICON.ratio;
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = n;
    const c = canvas.getContext('2d');
    const x = (f) => f * n, cx = n / 2;
    c.beginPath();
    c.moveTo(cx, x(0.06)); // the bow
    c.quadraticCurveTo(x(0.78), x(0.3), x(0.76), x(0.62));
    c.lineTo(x(0.72), x(0.93));
    c.lineTo(cx, x(0.8)); // the notch in the stern
    c.lineTo(x(0.28), x(0.93));
    c.lineTo(x(0.24), x(0.62));
    c.quadraticCurveTo(x(0.22), x(0.3), cx, x(0.06));
    c.closePath();
    c.lineJoin = 'round';
    c.lineWidth = SHIP_ICON.ratio * 1.2;
    c.strokeStyle = outline;
    c.fillStyle = fill;
    c.fill();
    c.stroke();
    return c.getImageData(0, 0, n, n);
  }
  function addShipIcons(map, { sea, port, outline }) {
    const images = { ship: sea, 'ship-port': port };
    const add = () => {
      for (const [id, fill] of Object.entries(images))
        if (!map.hasImage(id)) map.addImage(id, shipIcon(fill, outline), { pixelRatio: SHIP_ICON.ratio });
    };
    map.on('styleimagemissing', (e) => { if (e.id in images) add(); });
    if (map.isStyleLoaded()) add(); else map.once('load', add);
  }
  // The layout of a ship symbol layer (the icon chosen by `in_port`).
  const SHIP_LAYOUT = {
    'icon-image': ['case', ['get', 'in_port'], 'ship-port', 'ship'],
    'icon-rotate': ['get', 'heading'],
    'icon-rotation-alignment': 'map',
    'icon-size': ['interpolate', ['linear'], ['zoom'], 8, 0.8, 14, 1.2],
    'icon-allow-overlap': true,
    'icon-ignore-placement': true,
  };
  return { LEVEL_LAYER, LEVEL_NAME, num, pct, getJSON, nextDay, addShipIcons, SHIP_LAYOUT };
})();
