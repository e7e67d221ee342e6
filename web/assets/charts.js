'use strict';
// Charts drawn as SVG through the DOM: no library, nothing fetched, no inline style (colours come
// from classes in app.css), so the strict Content-Security-Policy holds. Every bar and point
// carries its figure in data attributes and a <title>, which is also what the browser test reads.
const charts = (() => {
  const ns = 'http://www.w3.org/2000/svg';

  function svg(tag, attrs, text) {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = String(text);
    return e;
  }

  /** A round upper end for an axis (1, 2, 5 × 10^n). */
  function niceMax(v) {
    if (v <= 0) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  /** Left axis with a few gridlines. */
  function yAxis(root, { left, top, plotH, width, max }) {
    for (let k = 0; k <= 4; k++) {
      const v = max * k / 4;
      const y = top + plotH - plotH * k / 4;
      root.append(svg('line', { class: 'grid', x1: left, y1: y, x2: width - 8, y2: y }));
      root.append(svg('text', { class: 'axis', x: left - 6, y: y + 4, 'text-anchor': 'end' }, Number.isInteger(v) ? v : v.toFixed(1)));
    }
  }

  /**
   * Vertical bars. opt: {id, bars: [{label, value, href, cls, title, data}], yLabel, height,
   * minBarWidth, markers: [{at (bar position, fractional), label, cls}], ticks: [{index, value,
   * cls, title}] (a short line across a bar, e.g. a night's capacity), groups: [{from, to, label}]}
   */
  function bars(opt) {
    const list = opt.bars || [];
    const barW = Math.max(opt.minBarWidth || 10, Math.floor(880 / Math.max(1, list.length)));
    const left = 52, top = 24, bottom = 58;
    const width = left + barW * list.length + 12;
    const height = opt.height || 260;
    const plotH = height - top - bottom;
    const tickMax = Math.max(0, ...(opt.ticks || []).map((t) => t.value || 0));
    const max = niceMax(Math.max(1, tickMax, ...list.map((b) => b.value || 0)));
    const root = svg('svg', { class: 'chart', id: opt.id, width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
      'aria-label': opt.yLabel || '' });
    root.append(svg('text', { class: 'axis-title', x: 4, y: 14 }, opt.yLabel || ''));
    yAxis(root, { left, top, plotH, width, max });
    const y = (v) => top + plotH - plotH * v / max;
    const every = Math.max(1, Math.ceil(list.length / Math.floor((width - left) / 34)));
    list.forEach((b, i) => {
      const x = left + i * barW;
      const h = plotH * (b.value || 0) / max;
      const rect = svg('rect', { class: 'bar ' + (b.cls || ''), x: x + 1, y: top + plotH - h, width: Math.max(1, barW - 2), height: h });
      for (const [k, v] of Object.entries(b.data || {})) rect.setAttribute('data-' + k, String(v));
      rect.append(svg('title', {}, b.title || (b.label + ': ' + b.value)));
      if (b.href) {
        const a = svg('a', { href: b.href, class: 'bar-link' });
        // An empty bar is still a target of its own height's worth.
        a.append(svg('rect', { class: 'hit', x: x + 1, y: top, width: Math.max(1, barW - 2), height: plotH }), rect);
        root.append(a);
      } else {
        root.append(rect);
      }
      if (i % every === 0) {
        const lx = x + barW / 2, ly = top + plotH + 10;
        root.append(svg('text', { class: 'axis', x: lx, y: ly, 'text-anchor': 'end', transform: `rotate(-50 ${lx} ${ly})` }, b.label));
      }
    });
    for (const t of opt.ticks || []) {
      if (t.value === null || t.value === undefined) continue;
      const x = left + t.index * barW;
      const line = svg('line', { class: 'tick ' + (t.cls || ''), x1: x, y1: y(t.value), x2: x + barW, y2: y(t.value) });
      line.append(svg('title', {}, t.title || String(t.value)));
      root.append(line);
    }
    for (const g of opt.groups || []) {
      const x1 = left + g.from * barW, x2 = left + g.to * barW;
      root.append(svg('line', { class: 'group', x1, y1: top - 6, x2: x2 - 2, y2: top - 6 }));
      root.append(svg('text', { class: 'axis', x: (x1 + x2) / 2, y: top - 9, 'text-anchor': 'middle' }, g.label));
    }
    for (const m of opt.markers || []) {
      const x = left + m.at * barW;
      const line = svg('line', { class: 'marker ' + (m.cls || ''), x1: x, y1: top - 2, x2: x, y2: top + plotH, 'data-marker': m.label });
      line.append(svg('title', {}, m.label));
      root.append(line, svg('text', { class: 'marker-label', x: x + 3, y: top + 10 }, m.label));
    }
    root.append(svg('line', { class: 'axis-line', x1: left, y1: top + plotH, x2: width - 8, y2: top + plotH }));
    return root;
  }

  /**
   * Lines over equally spaced points. opt: {id, labels: [...], series: [{name, cls, values}], yLabel}
   * Each point is a circle with data-series, data-label and data-value.
   */
  function lines(opt) {
    const n = opt.labels.length;
    const left = 52, top = 24, bottom = 54, height = opt.height || 240;
    const step = Math.max(4, Math.min(40, Math.floor(880 / Math.max(1, n))));
    // At least wide enough for the legend, even over a job's first minute.
    const width = Math.max(420, left + step * Math.max(1, n - 1) + 30);
    const plotH = height - top - bottom;
    const max = niceMax(Math.max(1, ...opt.series.flatMap((s) => s.values)));
    const root = svg('svg', { class: 'chart', id: opt.id, width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
      'aria-label': opt.yLabel || '' });
    root.append(svg('text', { class: 'axis-title', x: 4, y: 14 }, opt.yLabel || ''));
    yAxis(root, { left, top, plotH, width, max });
    const x = (i) => left + 10 + i * step;
    const y = (v) => top + plotH - plotH * v / max;
    opt.series.forEach((s, k) => {
      root.append(svg('polyline', { class: 'line ' + s.cls, points: s.values.map((v, i) => x(i) + ',' + y(v)).join(' ') }));
      s.values.forEach((v, i) => {
        const dot = svg('circle', { class: 'dot ' + s.cls, cx: x(i), cy: y(v), r: 2.5, 'data-series': s.name,
          'data-label': opt.labels[i], 'data-value': v });
        dot.append(svg('title', {}, opt.labels[i] + ' ' + s.name + ': ' + v));
        root.append(dot);
      });
      root.append(svg('rect', { class: 'legend ' + s.cls, x: left + 10 + k * 110, y: height - 14, width: 10, height: 10 }),
        svg('text', { class: 'axis', x: left + 24 + k * 110, y: height - 5 }, s.name));
    });
    const every = Math.max(1, Math.ceil(n / Math.floor((width - left) / 46)));
    opt.labels.forEach((l, i) => {
      if (i % every === 0) root.append(svg('text', { class: 'axis', x: x(i), y: top + plotH + 14, 'text-anchor': 'middle' }, l));
    });
    root.append(svg('line', { class: 'axis-line', x1: left, y1: top + plotH, x2: width - 8, y2: top + plotH }));
    return root;
  }

  return { bars, lines };
})();
