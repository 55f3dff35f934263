// Versions: the lineage as a tree (parent, round, samples, metrics), the active one, roll back or forward.
import * as api from '../api.js';
import { el, num, pct, when, badge, mutating } from '../util.js';

function metricsText(m) {
  if (!m) return '';
  const parts = [];
  if (m.accuracy !== undefined) parts.push('accuracy ' + pct(m.accuracy));
  if (m.mse !== undefined) parts.push('mse ' + num(m.mse));
  if (m.loss !== undefined) parts.push('loss ' + num(m.loss));
  return parts.join(' · ');
}

function node(v, active, activate) {
  const verb = active === null ? 'Activate' : v.version < active ? 'Roll back to v' + v.version : 'Roll forward to v' + v.version;
  return el('div', { class: 'node' + (v.active ? ' active' : ''), dataset: { version: v.version } },
    el('b', {}, 'v' + v.version),
    v.active ? badge('active') : null,
    el('span', { class: 'muted' }, v.parent ? `from v${v.parent}` : 'base'),
    v.round_id ? el('a', { href: '#rounds/' + v.round_id }, 'round ' + v.round_id) : null,
    v.samples ? el('span', {}, num(v.samples) + ' samples') : null,
    el('span', {}, metricsText(v.metrics)),
    el('span', { class: 'muted' }, when(v.created)),
    v.active ? null : mutating(verb, () => activate(v.version), { dataset: { activate: v.version } }));
}

export async function renderVersions(main, { model, applyAccess }) {
  const list = await api.get(`v1/models/${model}/versions`);
  const byParent = new Map();
  const known = new Set(list.versions.map(v => v.version));
  for (const v of list.versions) {
    // A parent no longer retained leaves its children at the top.
    const parent = v.parent && known.has(v.parent) ? v.parent : 0;
    if (!byParent.has(parent)) byParent.set(parent, []);
    byParent.get(parent).push(v);
  }
  const status = el('p', { id: 'activation-status', class: 'hint' });
  const activate = async version => {
    status.textContent = 'activating v' + version + ' ...';
    try {
      const result = await api.send('POST', `v1/models/${model}/versions/${version}:activate`);
      status.textContent = `v${result.active} is active (was v${result.previous ?? 'none'})`;
      const again = el('div');
      await renderVersions(again, { model, applyAccess });
      main.replaceChildren(...again.childNodes);
      main.querySelector('#activation-status').textContent = status.textContent;
      applyAccess(main);
    } catch (e) {
      status.textContent = 'not activated: ' + e.message;
    }
  };
  const tree = parent => el('ul', { class: 'tree' }, (byParent.get(parent) || []).map(v =>
    el('li', {}, node(v, list.active ?? null, activate), byParent.has(v.version) ? tree(v.version) : null)));
  main.append(
    el('h2', {}, 'Versions ', el('span', { class: 'muted' }, `active: v${list.active ?? 'none'}`)),
    el('p', { class: 'hint' }, 'Each version hangs under the version it was trained from; activation swaps serving atomically.'),
    status,
    el('div', { class: 'panel', id: 'lineage' }, tree(0)));
}
