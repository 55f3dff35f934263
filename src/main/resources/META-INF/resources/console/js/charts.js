// Charts on uPlot (served from the jar's webjars, no CDN).
import uPlot from '../../webjars/uplot/1.6.30/dist/uPlot.esm.js';

const COLORS = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2'];

function width(container) {
  return Math.max(320, Math.min(1100, (container.clientWidth || 640) - 8));
}

/**
 * A line chart. series: [{label, color?}], data: [xs, ys1, ys2...]; logY for a logarithmic y axis
 * (only positive values). Returns the uPlot instance; call .setData(data) to redraw with more points.
 */
export function lines(container, { xLabel, yLabel, series, data, height = 240, xTime = false, logY = false }) {
  const opts = {
    width: width(container), height,
    scales: { x: { time: xTime }, y: logY ? { distr: 3 } : {} },
    axes: [{ label: xLabel }, { label: yLabel, size: 60 }],
    series: [{ label: xLabel }].concat(series.map((s, i) => ({
      label: s.label, stroke: s.color || COLORS[i % COLORS.length], width: 2,
      points: { show: s.points !== undefined ? s.points : true, size: 4 },
    }))),
  };
  return new uPlot(opts, data, container);
}

/**
 * Bars by category, one group per category and one bar per series (before/after, counts...).
 * categories: names, series: [{label, values, color?}].
 */
export function bars(container, { categories, series, yLabel, height = 260, yMax }) {
  const xs = categories.map((_, i) => i);
  const n = series.length;
  const opts = {
    width: width(container), height,
    scales: { x: { time: false, range: [-0.5, categories.length - 0.5] }, y: yMax ? { range: [0, yMax] } : { range: (u, min, max) => [0, Math.max(1, max) * 1.1] } },
    axes: [
      { values: (u, splits) => splits.map(v => Number.isInteger(v) ? (categories[v] ?? '') : ''), incrs: [1], grid: { show: false } },
      { label: yLabel, size: 60 },
    ],
    legend: { show: n > 1 },
    series: [{ label: 'class', value: (u, v) => v == null ? '' : categories[v] }].concat(series.map((s, i) => ({
      label: s.label, fill: (s.color || COLORS[i % COLORS.length]) + 'cc', stroke: s.color || COLORS[i % COLORS.length],
      // Two series stand side by side: the first left of the category's tick, the second right of it.
      paths: uPlot.paths.bars({ size: [n > 1 ? 0.4 : 0.6, 80], align: n > 1 ? (i === 0 ? -1 : 1) : 0 }),
      points: { show: false },
    }))),
  };
  return new uPlot(opts, [xs].concat(series.map(s => s.values)), container);
}
