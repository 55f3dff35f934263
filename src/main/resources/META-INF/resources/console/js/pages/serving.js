// Serving: request rate, latency percentiles and errors over the last minutes, from /q/metrics
// (microkernel_inference_seconds), scraped every few seconds while the page is open; and the replicas.
import * as api from '../api.js';
import * as metrics from '../metrics.js';
import { el, num, card, badge, table, when } from '../util.js';
import { lines } from '../charts.js';

const EVERY_MS = 2000;
const KEEP = 150; // five minutes of scrapes

/** Scrapes kept across visits of the page, so coming back shows the minutes already seen. */
const history = { last: null, times: [], rate: [], errors: [], p50: [], p95: [], p99: [] };

function record(model, text, at) {
  const samples = metrics.parse(text);
  const name = 'microkernel_inference_seconds';
  const mine = l => l.model === model;
  const now = { at, count: metrics.sum(samples, name + '_count', mine),
    errors: metrics.sum(samples, name + '_count', l => mine(l) && l.outcome !== 'ok'),
    buckets: metrics.buckets(samples, name, mine) };
  const last = history.last;
  history.last = now;
  if (!last) return;
  const dt = (at - last.at) / 1000;
  // A version's timers leave the registry when it is unloaded, so counts can fall: no negative rates.
  history.times.push(at / 1000);
  history.rate.push(Math.max(0, now.count - last.count) / dt);
  history.errors.push(Math.max(0, now.errors - last.errors) / dt);
  for (const [q, key] of [[0.5, 'p50'], [0.95, 'p95'], [0.99, 'p99']]) {
    const v = metrics.quantile(q, last.buckets, now.buckets);
    history[key].push(Number.isFinite(v) ? v * 1000 : null);
  }
  for (const key of ['times', 'rate', 'errors', 'p50', 'p95', 'p99']) history[key].splice(0, Math.max(0, history[key].length - KEEP));
}

/**
 * The replicas and the version each serves; in fleet mode also each one's role, whether it holds the
 * trainer lease, and when its last heartbeat reached the fleet's registry.
 */
function replicaTable(fleet) {
  const inFleet = fleet.mode === 'fleet';
  const headers = ['replica', 'version served', 'ready'].concat(inFleet ? ['role', 'trainer', 'last seen'] : []);
  const rows = fleet.replicas.map(r => el('tr', { dataset: { replica: r.name } },
    el('td', {}, r.name + (r.self ? ' (this one)' : '')), el('td', {}, r.version ? 'v' + r.version : 'none'),
    el('td', {}, badge(r.ready ? 'ok' : 'bad')),
    inFleet && [el('td', {}, r.role), el('td', {}, r.trainer ? badge('lease') : ''), el('td', {}, when(r.last_seen))]));
  const hint = 'mode: ' + fleet.mode + (inFleet ? ', ' + fleet.replicas.length + ' replica(s) with a current heartbeat' : '');
  return [el('p', { class: 'hint' }, hint), fleet.problem && el('p', { class: 'hint', id: 'replicas-problem' }, fleet.problem),
    table(headers, rows)].filter(Boolean);
}

export async function renderServing(main, { model, onLeave }) {
  const cards = el('div', { class: 'cards' });
  const rateBox = el('div', { class: 'chart', id: 'rate-chart' });
  const latencyBox = el('div', { class: 'chart', id: 'latency-chart' });
  const replicas = el('div', { id: 'replicas' });
  main.append(el('h2', {}, 'Serving ', el('span', { class: 'muted' }, 'inference requests, every ' + EVERY_MS / 1000 + ' s while this page is open')),
    cards, el('div', { class: 'row' },
      el('div', { class: 'panel' }, el('h2', {}, 'Requests per second'), rateBox),
      el('div', { class: 'panel' }, el('h2', {}, 'Latency (ms)'), latencyBox)),
    el('div', { class: 'panel' }, el('h2', {}, 'Replicas'), replicas));
  let rateChart = null, latencyChart = null;
  const tick = async () => {
    const [text, fleet] = await Promise.all([api.getText('q/metrics'), api.get(`console/api/models/${model}/replicas`)]);
    record(model, text, Date.now());
    const n = history.times.length;
    const last = key => n ? history[key][n - 1] : null;
    cards.replaceChildren(card('requests/s', num(last('rate'), 1), 'serving-rate'), card('errors/s', num(last('errors'), 2)),
      card('p50 ms', num(last('p50'), 2)), card('p95 ms', num(last('p95'), 2)), card('p99 ms', num(last('p99'), 2)));
    replicas.replaceChildren(...replicaTable(fleet));
    rateBox.dataset.points = n;
    if (n < 2) return;
    const rateData = [history.times, history.rate, history.errors];
    const latencyData = [history.times, history.p50, history.p95, history.p99];
    if (!rateChart) {
      rateChart = lines(rateBox, { xLabel: 'time', yLabel: 'per second', xTime: true, data: rateData,
        series: [{ label: 'requests', points: false }, { label: 'errors', color: '#dc2626', points: false }] });
      latencyChart = lines(latencyBox, { xLabel: 'time', yLabel: 'ms', xTime: true, data: latencyData,
        series: [{ label: 'p50', points: false }, { label: 'p95', points: false }, { label: 'p99', points: false }] });
    } else {
      rateChart.setData(rateData);
      latencyChart.setData(latencyData);
    }
  };
  await tick();
  const timer = setInterval(() => tick().catch(() => {}), EVERY_MS);
  onLeave(() => clearInterval(timer));
}
