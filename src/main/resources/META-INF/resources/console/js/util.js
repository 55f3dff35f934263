// Small DOM helpers shared by the pages.

/** Builds an element: el('td', {class: 'x'}, 'text', child...). */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function num(value, digits = 4) {
  if (value === undefined || value === null) return '–';
  const n = Number(value);
  if (!Number.isFinite(n)) return String(value);
  return Number.isInteger(n) ? n.toLocaleString('en') : n.toFixed(digits);
}

export function pct(value) {
  return value === undefined || value === null ? '–' : (100 * Number(value)).toFixed(1) + '%';
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : '–';
}

export function seconds(from, to) {
  if (!from || !to) return '–';
  return ((new Date(to) - new Date(from)) / 1000).toFixed(1) + ' s';
}

export function card(key, value, id) {
  return el('div', { class: 'card' }, el('div', { class: 'k' }, key), el('div', { class: 'v', id }, value));
}

export function badge(text) {
  return el('span', { class: 'badge ' + String(text).toLowerCase() }, text);
}

export function table(headers, rows) {
  return el('table', {}, el('thead', {}, el('tr', {}, headers.map(h => el('th', {}, h)))), el('tbody', {}, rows));
}

/** A button that changes state: the access rule of app.js enables or disables every one of them. */
export function mutating(label, onclick, attrs) {
  return el('button', Object.assign({ class: 'mutating', type: 'button', onclick }, attrs || {}), label);
}
