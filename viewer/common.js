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
  return { LEVEL_LAYER, LEVEL_NAME, num, pct, getJSON, nextDay };
})();
