// Model: name, inputs and outputs, classes, active version, ONNX Runtime and device, parameter counts.
import * as api from '../api.js';
import { el, num, card, table } from '../util.js';

function tensors(list) {
  return table(['name', 'datatype', 'shape'], (list || []).map(t =>
    el('tr', {}, el('td', {}, t.name), el('td', {}, t.datatype), el('td', {}, '[' + t.shape.join(', ') + ']'))));
}

function parameters(group) {
  return table(['tensor', 'shape', 'values'], group.tensors.map(p =>
    el('tr', {}, el('td', {}, p.name), el('td', {}, '[' + p.shape.join(', ') + ']'), el('td', {}, num(p.count)))));
}

export async function renderModel(main, { model }) {
  const [overview, metadata] = await Promise.all([
    api.get(`console/api/models/${model}/overview`),
    api.get(`v2/models/${model}`).catch(e => ({ error: e.message })),
  ]);
  main.append(
    el('h2', {}, 'Model ', el('span', { class: 'muted' }, overview.model)),
    el('div', { class: 'cards' },
      card('active version', overview.active_version ?? 'none', 'active-version'),
      card('classes', overview.classes.length ? overview.classes.length : 'regression'),
      card('loss', overview.loss),
      card('device', overview.device + (overview.device === 'cuda' ? ':' + overview.device_id : '')),
      card('ONNX Runtime', overview.onnxruntime_native + ' (Java API ' + overview.onnxruntime_java + ')'),
      card('trainable parameters', num(overview.trainable_parameters.values), 'trainable-count'),
      card('frozen parameters', num(overview.frozen_parameters.values), 'frozen-count')),
    overview.classes.length ? el('p', {}, el('b', {}, 'Classes: '), overview.classes.join(', ')) : null,
    el('div', { class: 'row' },
      el('div', { class: 'panel' }, el('h2', {}, 'Inputs'),
        metadata.error ? el('p', {}, metadata.error) : tensors(metadata.inputs)),
      el('div', { class: 'panel' }, el('h2', {}, 'Outputs'),
        metadata.error ? el('p', {}, metadata.error) : tensors(metadata.outputs),
        el('p', { class: 'hint' }, 'label input: ', overview.label, ' · inference output: ', overview.inference_output))),
    el('div', { class: 'row' },
      el('div', { class: 'panel' }, el('h2', {}, 'Trainable parameters'), parameters(overview.trainable_parameters)),
      el('div', { class: 'panel' }, el('h2', {}, 'Frozen parameters'), parameters(overview.frozen_parameters))));
}
