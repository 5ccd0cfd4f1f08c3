// Time-series charts of execExpression results (per-minute values), drawn as SVG markup: shared
// by the continuous-profiling and network views.

import { escapeHtml as h } from './flamegraph.js';

export const MINUTE = 60000;
const SERIES_COLOURS = ['#2f6fdb', '#1d7a3a', '#8b1fa0', '#8a5a00', '#0f7c8c', '#c2255c'];
const pad2 = (n) => String(n).padStart(2, '0');

// "+0800" → 480 (minutes east of UTC); 0 when absent or malformed.
export function zoneMinutes(zone) {
  const m = /^([+-])(\d{2})(\d{2})$/.exec(zone || '');
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

// The MINUTE-step Duration string of `ms` in the server's zone ("yyyy-MM-dd HHmm").
export function minuteString(ms, zone) {
  const d = new Date(ms + zone * MINUTE);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}`;
}

// The Duration of `range` ({start, end} ms, end exclusive, whole minutes) at MINUTE step.
export function minuteDuration(range, zone) {
  return { start: minuteString(range.start, zone), end: minuteString(range.end - MINUTE, zone), step: 'MINUTE' };
}

// The `minutes` whole minutes up to and including the current one.
export function lastMinutes(nowMs, minutes) {
  const end = Math.floor(nowMs / MINUTE) * MINUTE + MINUTE;
  return { start: end - minutes * MINUTE, end };
}

// An ExpressionResult's series: [{label, points: [{t, v}]}], v null where a minute has no value;
// the label is the series' labels as k=v,... or `fallback` for an unlabelled one.
export function seriesOf(result, fallback) {
  return result.results.map((r) => ({
    label: r.metric.labels.map((l) => `${l.key}=${l.value}`).join(',') || fallback,
    points: r.values.map((v) => ({ t: Number(v.id), v: v.value === null ? null : Number(v.value) })),
  }));
}

// The smallest of 1, 2, 2.5 or 5 × 10^k that is >= v: an axis top whose quarters read well.
function niceCeil(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((c) => c >= v);
}

// The markup of one chart over `range`: a legend, then an SVG with `series` as lines (a point at
// the middle of its minute, gaps where a minute has no value), `thresholds` ([{value, label}]) as
// dashed horizontal lines and `marks` ([{id, start, end, colour, title}]) as vertical markers with
// their span shaded. `unit` follows the axis values; `label` names the SVG for assistive tools;
// `width` and `height` are in SVG units (the SVG scales to its box).
export function drawChart({ series, thresholds = [], marks = [], range, unit = '', fmtTime, label, width = 900, height = 240 }) {
  const W = width;
  const H = height;
  const L = 72;
  const R = 12;
  const T = 12;
  const B = 30;
  const values = series.flatMap((s) => s.points.map((p) => p.v).filter((v) => v !== null));
  const top = niceCeil(Math.max(1, ...values, ...thresholds.map((t) => t.value)) * 1.1);
  const x = (t) => L + ((t - range.start) / (range.end - range.start)) * (W - L - R);
  const y = (v) => T + (1 - v / top) * (H - T - B);
  const parts = [];
  for (let k = 0; k <= 4; k++) {
    const v = (top * k) / 4;
    parts.push(`<line class="grid" x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}"/>`,
      `<text class="axis" x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${Math.round(v * 100) / 100}${h(unit)}</text>`);
  }
  const span = range.end - range.start;
  const tick = W < 600 && span <= 20 * MINUTE ? 5 * MINUTE : span <= 20 * MINUTE ? 2 * MINUTE : span <= 90 * MINUTE ? 10 * MINUTE : span <= 8 * 60 * MINUTE ? 60 * MINUTE : 4 * 60 * MINUTE;
  for (let t = Math.ceil(range.start / tick) * tick; t <= range.end; t += tick) {
    parts.push(`<text class="axis" x="${x(t)}" y="${H - 10}" text-anchor="middle">${h(fmtTime(t).slice(-8, -3))}</text>`);
  }
  for (const m of marks) {
    if (m.end < range.start || m.start > range.end) continue;
    const s = Math.max(range.start, m.start);
    const e = Math.min(range.end, m.end);
    parts.push(`<rect class="task-span" x="${x(s)}" y="${T}" width="${Math.max(1, x(e) - x(s))}" height="${H - T - B}" fill="${m.colour}"/>`,
      `<line class="task-mark" data-task-id="${h(m.id)}" x1="${x(s)}" x2="${x(s)}" y1="${T}" y2="${H - B}" stroke="${m.colour}"><title>${h(m.title)}</title></line>`);
  }
  for (const th of thresholds) {
    parts.push(`<line class="threshold" x1="${L}" x2="${W - R}" y1="${y(th.value)}" y2="${y(th.value)}"><title>${h(th.label)}</title></line>`,
      `<text class="threshold-label" x="${W - R - 4}" y="${y(th.value) - 4}" text-anchor="end">${h(th.label)}</text>`);
  }
  series.forEach((s, k) => {
    let d = '';
    let pen = false;
    const dots = [];
    for (const p of s.points) {
      if (p.v === null) {
        pen = false;
        continue;
      }
      const px = x(p.t + MINUTE / 2).toFixed(1);
      const py = y(p.v).toFixed(1);
      d += `${pen ? 'L' : 'M'}${px},${py}`;
      pen = true;
      dots.push(`<circle cx="${px}" cy="${py}" r="2.5"><title>${h(s.label)} ${h(fmtTime(p.t))}: ${p.v}${h(unit)}</title></circle>`);
    }
    const colour = SERIES_COLOURS[k % SERIES_COLOURS.length];
    parts.push(`<g class="series" stroke="${colour}" fill="${colour}" data-label="${h(s.label)}"><path d="${d}" fill="none"/>${dots.join('')}</g>`);
  });
  const legend = series.map((s, k) => `<span><i style="background:${SERIES_COLOURS[k % SERIES_COLOURS.length]}"></i>${h(s.label)}</span>`).join('');
  const empty = values.length ? '' : '<p class="muted chart-empty">No value in this time range yet.</p>';
  return `<div class="legend">${legend}</div>${empty}<svg class="cp-svg" viewBox="0 0 ${W} ${H}" role="img" aria-label="${h(label || 'chart')}">${parts.join('')}</svg>`;
}
