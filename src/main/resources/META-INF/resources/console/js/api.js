// Talks to the service's own HTTP API, relative to /console/ so a path prefix in front of it still works.
const TOKEN_KEY = 'microkernel.console.token';

/** The service's root: the console lives at {root}/console/. */
export const base = new URL('../', document.baseURI).href;

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value); else sessionStorage.removeItem(TOKEN_KEY);
}

function headers(extra) {
  const h = Object.assign({ Accept: 'application/json' }, extra || {});
  if (token()) h.Authorization = 'Bearer ' + token();
  return h;
}

/** A failed call, with the problem's detail (application/problem+json) or error text the server sent. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function answer(response) {
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = text; }
  if (!response.ok) {
    const detail = body && (body.detail || body.error || body.title) || text || response.statusText;
    throw new ApiError(response.status, response.status + ': ' + detail);
  }
  return body;
}

export async function get(path) {
  return answer(await fetch(url(path), { headers: headers() }));
}

export async function getText(path) {
  const response = await fetch(url(path), { headers: headers({ Accept: 'text/plain' }) });
  if (!response.ok) throw new ApiError(response.status, response.status + ': ' + path);
  return response.text();
}

export async function send(method, path, body) {
  const init = { method, headers: headers(body === undefined ? {} : { 'Content-Type': 'application/json' }) };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  return answer(await fetch(url(path), init));
}

export function url(path) {
  return new URL(path.replace(/^\//, ''), base).href;
}
