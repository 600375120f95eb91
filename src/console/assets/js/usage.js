'use strict';
// Usage: per user, hourly requests, recipients, auth failures and rate-limited calls drawn as
// an inline SVG chart (built with DOM calls: no inline script or style is needed), with the
// numbers in a table under each chart for screen readers and for copying.
(() => {
  const { el, api, flash, describe } = SC;
  const SERIES = [
    ['requests', 'Requests'], ['recipients', 'Recipients'],
    ['authFailures', 'Auth failures'], ['rateLimited', 'Rate-limited'],
  ];
  const HOUR = 3600 * 1000;
  const NS = 'http://www.w3.org/2000/svg';
  const svgEl = (tag, attrs, ...kids) => {
    const n = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
    for (const k of kids) n.append(k);
    return n;
  };

  function chart(user, hours, byHour, startMs) {
    const W = 400, H = 180, L = 34, R = 8, T = 8, B = 24;
    const n = hours;
    const max = Math.max(1, ...SERIES.flatMap(([k]) => [...byHour.values()].map((row) => row[k] || 0)));
    const x = (i) => L + (n <= 1 ? 0 : (i * (W - L - R)) / (n - 1));
    const y = (v) => T + (H - T - B) * (1 - v / max);
    const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img',
      'aria-label': `Hourly usage of ${user}` });
    for (const v of [0, max / 2, max]) {
      svg.append(svgEl('line', { class: v ? 'grid' : 'axis', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      svg.append(svgEl('text', { x: L - 4, y: y(v) + 3, 'text-anchor': 'end' }, String(Math.round(v))));
    }
    const step = Math.max(1, Math.ceil(n / 6));
    for (let i = 0; i < n; i += step) {
      const d = new Date(startMs + i * HOUR);
      const text = n > 48 ? `${d.getUTCMonth() + 1}/${d.getUTCDate()} ${d.getUTCHours()}h` : `${d.getUTCHours()}:00`;
      svg.append(svgEl('text', { x: x(i), y: H - 6, 'text-anchor': 'middle' }, text));
    }
    // Grouped bars per hour: one thin bar per series, so every value has its own mark.
    const slot = (W - L - R) / n;
    const barW = Math.max(1, (slot * 0.8) / SERIES.length);
    SERIES.forEach(([key], s) => {
      const g = svgEl('g', { class: `series s-${key}` });
      for (let i = 0; i < n; i++) {
        const v = (byHour.get(startMs + i * HOUR) || {})[key] || 0;
        if (!v) continue;
        const bx = L + i * slot + slot * 0.1 + s * barW;
        const rect = svgEl('rect', { class: `s-${key}`, x: bx.toFixed(1), y: y(v).toFixed(1),
          width: barW.toFixed(1), height: (y(0) - y(v)).toFixed(1) });
        rect.append(svgEl('title', {}, `${v} ${key} at ${new Date(startMs + i * HOUR).toISOString().slice(0, 13)}:00Z`));
        g.append(rect);
      }
      svg.append(g);
    });
    return svg;
  }

  async function load() {
    flash('');
    const windowHours = Number(document.getElementById('usage-window').value);
    const user = document.getElementById('usage-user').value.trim();
    const endMs = Math.floor(SC.serverNow() / HOUR) * HOUR + HOUR; // end of the current hour
    const startMs = endMs - windowHours * HOUR;
    let q = `usage?from=${encodeURIComponent(new Date(startMs).toISOString())}`;
    if (user) q += `&user=${encodeURIComponent(user)}`;
    const r = await api('GET', q);
    if (!r.ok) return flash(describe(r.error));
    const byUser = new Map();
    for (const row of r.info.rows) {
      if (!byUser.has(row.user)) byUser.set(row.user, new Map());
      byUser.get(row.user).set(Date.parse(row.hourStart), row);
    }
    const charts = document.getElementById('usage-charts');
    charts.replaceChildren(...[...byUser.entries()].map(([name, byHour]) => {
      const totals = Object.fromEntries(SERIES.map(([k]) => [k, [...byHour.values()].reduce((a, row) => a + (row[k] || 0), 0)]));
      const rows = [...byHour.entries()].sort((a, b) => a[0] - b[0]).map(([t, row]) =>
        el('tr', {}, el('td', { text: SC.fmtTime(new Date(t).toISOString()) }),
          ...SERIES.map(([k]) => el('td', { text: row[k] || 0 }))));
      return el('section', { class: 'card chart', 'data-user': name, 'aria-label': `Usage of ${name}` },
        el('h2', { text: name }),
        chart(name, windowHours, byHour, startMs),
        el('p', { class: 'totals' }, SERIES.map(([k, lbl]) => `${lbl}: ${totals[k]}`).join(' · ')),
        el('details', {}, el('summary', { text: 'Numbers by hour' }),
          el('div', { class: 'table-wrap' }, el('table', {},
            el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Hour (UTC)' }),
              ...SERIES.map(([, lbl]) => el('th', { scope: 'col', text: lbl })))),
            el('tbody', {}, rows)))));
    }));
    document.getElementById('usage-empty').hidden = byUser.size > 0;
    charts.dataset.loaded = String(Date.now());
  }

  document.getElementById('usage-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    load();
  });
  (async () => {
    if (await SC.requireSession()) await load();
  })();
})();
