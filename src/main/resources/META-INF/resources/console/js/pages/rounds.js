// Rounds: the list with outcome and reason; a running round's live loss from the SSE stream with a
// cancel button; a finished round's loss per epoch, holdout metrics, per-class recall and the gate.
import * as api from '../api.js';
import { el, num, pct, when, seconds, badge, table, mutating } from '../util.js';
import { lines, bars } from '../charts.js';

const FINAL = ['promoted', 'rejected', 'failed', 'cancelled'];

function outcome(r) {
  return r.decision ? r.decision.reason : (r.cause || '');
}

function startForm(model, onStarted) {
  const epochs = el('input', { type: 'number', id: 'round-epochs', min: 1, placeholder: 'default' });
  const batch = el('input', { type: 'number', id: 'round-batch', min: 1, placeholder: 'default' });
  const status = el('span', { class: 'hint', id: 'round-start-status' });
  const start = async () => {
    const body = {};
    if (epochs.value) body.epochs = Number(epochs.value);
    if (batch.value) body.batch_size = Number(batch.value);
    try {
      const round = await api.send('POST', `v1/models/${model}/rounds`, body);
      onStarted(round.id);
    } catch (e) {
      status.textContent = e.message;
    }
  };
  return el('div', { class: 'panel' }, el('label', {}, 'epochs '), epochs, ' ', el('label', {}, 'batch size '), batch, ' ',
    mutating('Start a round', start, { id: 'start-round', class: 'mutating primary' }), ' ', status);
}

export async function renderRounds(main, ctx) {
  if (ctx.arg) return renderRound(main, ctx, Number(ctx.arg));
  const { model } = ctx;
  const list = await api.get(`v1/models/${model}/rounds?limit=1000`);
  const rows = list.rounds.slice().reverse().map(r => el('tr', { class: 'clickable', dataset: { round: r.id },
    onclick: () => { location.hash = 'rounds/' + r.id; } },
    el('td', {}, el('a', { href: '#rounds/' + r.id }, '#' + r.id)), el('td', {}, badge(r.state)), el('td', {}, r.trigger),
    el('td', {}, r.base_version ? 'v' + r.base_version + (r.promoted_version ? ' → v' + r.promoted_version : '') : '–'),
    el('td', {}, r.samples ? num(r.samples.train) + ' / ' + num(r.samples.holdout) : '–'),
    el('td', {}, when(r.started_at)), el('td', {}, seconds(r.started_at, r.finished_at)),
    el('td', { class: 'reason' }, outcome(r))));
  main.append(el('h2', {}, 'Rounds ', el('span', { class: 'muted' }, list.running ? `round ${list.running} is running` : 'none running')),
    startForm(model, id => { location.hash = 'rounds/' + id; }),
    rows.length ? table(['round', 'outcome', 'trigger', 'versions', 'train / holdout', 'started', 'took', 'reason'], rows)
      : el('p', {}, 'No rounds yet. Send samples (Samples page) and start one.'));
}

async function renderRound(main, ctx, id) {
  const { model } = ctx;
  const record = await api.get(`v1/models/${model}/rounds/${id}`);
  main.append(el('h2', {}, el('a', { href: '#rounds' }, 'Rounds'), ' / round ' + id + ' ', el('span', { id: 'round-state' }, badge(record.state))));
  const body = el('div', { id: 'round-body' });
  main.append(body);
  if (FINAL.includes(record.state)) {
    finished(body, record);
  } else {
    live(body, ctx, record);
  }
}

/** Follows a queued or running round over server-sent events until it ends, then shows it finished. */
function live(body, ctx, first) {
  const { model } = ctx;
  const progress = el('div', { class: 'cards' });
  const chartBox = el('div', { class: 'chart', id: 'live-loss', dataset: { points: 0 } });
  const cancel = mutating('Cancel round', async () => {
    try { await api.send('DELETE', `v1/models/${model}/rounds/${first.id}`); } catch (e) { note.textContent = e.message; }
  }, { id: 'cancel-round' });
  const note = el('span', { class: 'hint' });
  const title = el('h2', {}, 'Training loss, live');
  const panel = el('div', { class: 'panel' }, title, progress, chartBox, cancel, ' ', note);
  body.append(panel);
  const steps = [], losses = [];
  let chart = null;
  const take = record => {
    const p = record.progress;
    if (p && p.step > 0 && Number.isFinite(Number(p.running_loss)) && (!steps.length || p.step > steps[steps.length - 1])) {
      steps.push(p.step);
      losses.push(Number(p.running_loss));
    }
  };
  const show = record => {
    const p = record.progress;
    document.getElementById('round-state')?.replaceChildren(badge(record.state));
    progress.replaceChildren(
      el('div', { class: 'card' }, el('div', { class: 'k' }, 'phase'), el('div', { class: 'v', id: 'live-phase' }, p ? p.phase : record.state)),
      el('div', { class: 'card' }, el('div', { class: 'k' }, 'epoch'), el('div', { class: 'v', id: 'live-epoch' }, p ? `${p.epoch} / ${p.epochs}` : '–')),
      el('div', { class: 'card' }, el('div', { class: 'k' }, 'step'), el('div', { class: 'v', id: 'live-step' }, p ? `${p.step} / ${p.steps}` : '–')),
      el('div', { class: 'card' }, el('div', { class: 'k' }, 'running loss'), el('div', { class: 'v' }, p ? num(p.running_loss) : '–')));
    if (steps.length && Number(chartBox.dataset.points) !== steps.length) {
      if (!chart) chart = lines(chartBox, { xLabel: 'step', yLabel: 'loss', data: [steps, losses], height: 260,
        series: [{ label: 'running loss (epoch mean)', points: false }] });
      else chart.setData([steps, losses]);
      chartBox.dataset.points = steps.length;
    }
  };
  // A round reports up to 50 times an epoch: every report is kept, the page is redrawn a few times a second.
  let latest = null, timer = null;
  const redraw = () => { timer = null; show(latest); };
  ctx.onLeave(() => clearTimeout(timer));
  take(first);
  show(first);
  const source = new EventSource(api.url(`v1/models/${model}/rounds/${first.id}/events`));
  ctx.onLeave(() => source.close());
  source.onmessage = event => {
    const record = JSON.parse(event.data);
    take(record);
    latest = record;
    if (!FINAL.includes(record.state)) {
      if (!timer) timer = setTimeout(redraw, 250);
    } else {
      clearTimeout(timer);
      show(record);
      source.close();
      cancel.remove();
      // The finished round's numbers come first; the curve drawn live stays below them.
      title.textContent = 'Training loss by step, as it was drawn live';
      finished(body, record);
      body.append(panel);
    }
  };
  source.onerror = () => { note.textContent = 'stream interrupted; reload to follow the round again'; };
}

function metricRows(a, c) {
  const row = (name, f, key) => el('tr', {}, el('td', {}, name), el('td', { dataset: { metric: key, side: 'active' } }, a ? f(a[key]) : '–'),
    el('td', { dataset: { metric: key, side: 'candidate' } }, c ? f(c[key]) : '–'));
  const rows = [row('holdout samples', num, 'samples'), row('loss', num, 'loss')];
  if ((a && a.accuracy !== undefined) || (c && c.accuracy !== undefined)) rows.push(row('accuracy', pct, 'accuracy'));
  if ((a && a.mse !== undefined) || (c && c.mse !== undefined)) rows.push(row('mse', num, 'mse'));
  return rows;
}

/** A finished round: loss per epoch, holdout metrics active against candidate, recall per class, the gate. */
function finished(body, r) {
  const decision = r.decision;
  const gate = el('div', { class: 'panel', id: 'gate' }, el('h2', {}, 'Gate decision ',
    decision ? badge(decision.promote ? 'promoted' : 'rejected') : badge(r.state)),
    el('p', { class: 'reason', id: 'gate-reason' }, decision ? decision.reason : (r.cause || 'no decision recorded')),
    decision && decision.failures.length ? el('ul', {}, decision.failures.map(f => el('li', { class: 'reason' }, f))) : null,
    r.cause && decision ? el('p', { class: 'reason' }, r.cause) : null,
    el('p', { class: 'hint' }, `base v${r.base_version ?? '–'}`, r.promoted_version ? ` → published v${r.promoted_version}` : '',
      ` · trigger ${r.trigger} · seed ${r.seed} · `, r.settings ? `epochs ${r.settings.epochs}, batch ${r.settings.batch_size}, learning rate ${r.settings.learning_rate}` : '',
      r.samples ? ` · ${r.samples.train} train (${r.samples.fresh} new, ${r.samples.replay} replay), ${r.samples.holdout} holdout` : '',
      ` · took ${seconds(r.started_at, r.finished_at)}`));
  const lossBox = el('div', { class: 'chart', id: 'epoch-loss' });
  const recallBox = el('div', { class: 'chart', id: 'recall-chart' });
  body.append(gate, el('div', { class: 'row' },
    el('div', { class: 'panel' }, el('h2', {}, 'Training loss per epoch'), lossBox),
    el('div', { class: 'panel' }, el('h2', {}, 'Holdout: active vs candidate'),
      table(['', 'active v' + (r.base_version ?? '–'), 'candidate'], metricRows(r.active_metrics, r.candidate_metrics)))),
    el('div', { class: 'panel' }, el('h2', {}, 'Recall per class, before (active) and after (candidate)'), recallBox));
  const epochLosses = (r.progress && r.progress.epoch_losses || []).map(Number);
  if (epochLosses.length) {
    // Losses often fall by orders of magnitude; a log axis keeps the late epochs readable.
    lines(lossBox, { xLabel: 'epoch', yLabel: 'mean training loss', series: [{ label: 'train loss' }], logY: epochLosses.every(v => v > 0),
      data: [epochLosses.map((_, i) => i + 1), epochLosses] });
  } else {
    lossBox.append(el('p', { class: 'hint' }, 'no epoch finished'));
  }
  const before = r.active_metrics && r.active_metrics.per_class_recall || {};
  const after = r.candidate_metrics && r.candidate_metrics.per_class_recall || {};
  const classes = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  recallBox.dataset.classes = classes.length;
  if (classes.length) {
    bars(recallBox, { categories: classes, yLabel: 'recall', yMax: 1.05, series: [
      { label: 'before (active)', values: classes.map(c => before[c] ?? null), color: '#94a3b8' },
      { label: 'after (candidate)', values: classes.map(c => after[c] ?? null), color: '#2563eb' }] });
  } else {
    recallBox.append(el('p', { class: 'hint' }, 'no per-class recall (a regression model, or the round was not scored)'));
  }
}
