// The console's shell: the model name, the hash router (#model, #versions, #rounds, #rounds/7, #samples,
// #serving), the API token and the access rule for buttons that change state.
import * as api from './api.js';
import { renderModel } from './pages/model.js';
import { renderVersions } from './pages/versions.js';
import { renderRounds } from './pages/rounds.js';
import { renderSamples } from './pages/samples.js';
import { renderServing } from './pages/serving.js';

const PAGES = { model: renderModel, versions: renderVersions, rounds: renderRounds, samples: renderSamples, serving: renderServing };

/** What the page being shown needs to know; 'stop' ends its timers and streams when another is shown. */
const context = { model: null, access: { allowed: false, reason: 'not checked yet' }, stop: [] };

export function onLeave(fn) {
  context.stop.push(fn);
}

/** Enables or disables every state-changing button under {root} by the access rule. */
export function applyAccess(root) {
  const { allowed, reason } = context.access;
  for (const button of (root || document).querySelectorAll('button.mutating')) {
    button.disabled = !allowed || button.dataset.busy === 'true';
    button.title = allowed ? '' : 'Disabled: ' + reason;
  }
}

async function checkAccess() {
  try {
    context.access = await api.get('console/api/access');
  } catch (e) {
    context.access = { allowed: false, reason: e.message };
  }
  const banner = document.getElementById('access-banner');
  if (context.access.allowed) {
    banner.hidden = true;
  } else {
    banner.hidden = false;
    banner.textContent = 'Buttons that change state are disabled: the server would refuse them ('
      + context.access.reason + '). '
      + (context.access.token_accepted ? 'Enter the API token (microkernel.api.token) above to enable them.'
        : 'No API token is configured on the server, so only loopback clients may change state.');
  }
  applyAccess();
}

export function showError(error) {
  const banner = document.getElementById('error-banner');
  if (!error) { banner.hidden = true; return; }
  banner.hidden = false;
  banner.textContent = error.message || String(error);
}

async function route() {
  for (const stop of context.stop.splice(0)) stop();
  showError(null);
  const [page, arg] = (location.hash.replace(/^#/, '') || 'model').split('/');
  const render = PAGES[page] || renderModel;
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('current', a.dataset.page === page);
  const main = document.getElementById('page');
  main.replaceChildren();
  main.dataset.page = page;
  try {
    await render(main, { model: context.model, arg, onLeave, applyAccess });
  } catch (e) {
    showError(e);
  }
  applyAccess(main);
}

function tokenForm() {
  const input = document.getElementById('token-input');
  input.value = api.token();
  document.getElementById('token-form').addEventListener('submit', async event => {
    event.preventDefault();
    api.setToken(input.value.trim());
    await checkAccess();
  });
  document.getElementById('token-clear').addEventListener('click', async () => {
    input.value = '';
    api.setToken('');
    await checkAccess();
  });
}

async function start() {
  tokenForm();
  try {
    context.model = (await api.get('console/api/models')).models[0];
  } catch (e) {
    showError(e);
    return;
  }
  document.getElementById('model-name').textContent = context.model;
  await checkAccess();
  window.addEventListener('hashchange', route);
  await route();
}

start();
