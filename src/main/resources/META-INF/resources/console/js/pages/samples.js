// Samples: buffer counts, per-label bar chart, holdout share, rejected samples by reason (from /q/metrics),
// and the teach panel: upload a JSON file of labelled samples and start a round.
import * as api from '../api.js';
import * as metrics from '../metrics.js';
import { el, num, pct, card, table, mutating } from '../util.js';
import { bars } from '../charts.js';

function teachPanel(model, refresh) {
  const file = el('input', { type: 'file', id: 'teach-file', accept: '.json,application/json' });
  const startRound = el('input', { type: 'checkbox', id: 'teach-start-round', checked: true });
  const epochs = el('input', { type: 'number', id: 'teach-epochs', min: 1, placeholder: 'default' });
  const batch = el('input', { type: 'number', id: 'teach-batch', min: 1, placeholder: 'default' });
  const status = el('p', { class: 'hint', id: 'teach-status' });
  const teach = async () => {
    const chosen = file.files[0];
    if (!chosen) { status.textContent = 'choose a JSON file first: {"samples":[{"input": ..., "label": ...}]}'; return; }
    const text = await chosen.text();
    try {
      const accepted = await api.send('POST', `v1/models/${model}/samples`, text);
      status.textContent = `${accepted.accepted} samples accepted from ${chosen.name}`;
      if (!startRound.checked) { await refresh(); return; }
      const body = {};
      if (epochs.value) body.epochs = Number(epochs.value);
      if (batch.value) body.batch_size = Number(batch.value);
      const round = await api.send('POST', `v1/models/${model}/rounds`, body);
      location.hash = 'rounds/' + round.id;
    } catch (e) {
      status.textContent = 'not taught: ' + e.message;
    }
  };
  return el('div', { class: 'panel', id: 'teach' }, el('h2', {}, 'Teach'),
    el('p', { class: 'hint' }, 'A JSON file as POST /v1/models/' + model + '/samples takes it: {"samples":[{"input": <one instance>, "label": <class name or index>}]}.'
      + ' The command "artifacts samples" of the jar prints such files.'),
    file, ' ', el('label', {}, startRound, ' then start a round: epochs '), epochs, el('label', {}, ' batch size '), batch, ' ',
    mutating('Send samples', teach, { id: 'teach-send', class: 'mutating primary' }), status);
}

export async function renderSamples(main, { model, applyAccess }) {
  const content = el('div');
  const refresh = async () => {
    const [stats, text] = await Promise.all([api.get(`v1/models/${model}/samples`), api.getText('q/metrics').catch(() => '')]);
    const samples = metrics.parse(text);
    const rejected = new Map();
    for (const s of samples.filter(s => s.name === 'microkernel_training_samples_rejected_total' && s.labels.model === model)) {
      rejected.set(s.labels.reason, (rejected.get(s.labels.reason) || 0) + s.value);
    }
    const labels = Object.keys(stats.per_label || {});
    const chartBox = el('div', { class: 'chart', id: 'label-chart', dataset: { labels: labels.length } });
    content.replaceChildren(
      el('div', { class: 'cards' }, card('buffered', num(stats.total), 'samples-total'), card('train', num(stats.train)),
        card('holdout', num(stats.holdout)), card('holdout share', stats.total ? pct(stats.holdout / stats.total) : '–'),
        card('new since last promotion', num(stats.new_since_last_promotion)), card('capacity', num(stats.capacity))),
      el('div', { class: 'row' },
        el('div', { class: 'panel' }, el('h2', {}, 'Samples per label'), labels.length ? chartBox : el('p', {}, 'no samples buffered')),
        el('div', { class: 'panel' }, el('h2', {}, 'Rejected samples by reason'),
          rejected.size ? table(['reason', 'samples'], [...rejected].map(([r, n]) => el('tr', {}, el('td', {}, r), el('td', {}, num(n)))))
            : el('p', {}, 'none rejected since the process started')))
    );
    if (labels.length) bars(chartBox, { categories: labels, yLabel: 'samples', series: [{ label: 'samples', values: labels.map(l => stats.per_label[l]) }] });
  };
  main.append(el('h2', {}, 'Samples'), teachPanel(model, refresh), content);
  await refresh();
  applyAccess(main);
}
