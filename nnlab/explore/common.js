/* exported Common */
// Small helpers shared by the panels: one namespace, read by the other files as
// `const { $, make } = Common;`.

const Common = (() => {
  'use strict';

  function $(id) { return document.getElementById(id); }

  // `node` with its attributes and (if given) its text set.
  function filled(node, attrs, text) {
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  const make = (tag, attrs, text) => filled(document.createElement(tag), attrs, text);
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const makeSvg = (tag, attrs, text) => filled(document.createElementNS(SVG_NS, tag), attrs, text);

  function sigmoid(x) { return 1.0 / (1.0 + Math.exp(-x)); }

  // The probabilities of scores (or log-probabilities): exp(v - largest) normalised, so
  // that no exp overflows.
  function softmax(scores) {
    let largest = -Infinity;
    for (const v of scores) largest = Math.max(largest, v);
    const exps = Array.from(scores, v => Math.exp(v - largest));
    const sum = exps.reduce((a, b) => a + b, 0);
    return exps.map(v => v / sum);
  }

  // A number as a table shows it: at most 4 decimals, no trailing zeros.
  function fmt(value, digits = 4) {
    if (value === null || value === undefined) return '-';
    if (!Number.isFinite(value)) return String(value);
    return String(Number(value.toFixed(digits)));
  }

  // Seeded pseudo-random numbers (mulberry32): the same seed gives the same draws in
  // every browser. Self-contained: part3train.js hands its source to a Web Worker.
  function randomSource(seed) {
    let a = (seed >>> 0) || 0x9e3779b9;
    const uniform = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const normal = () => {          // Box-Muller
      const u = 1 - uniform();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
    };
    return { uniform, normal };
  }

  // One line in a panel's message area (replacing the previous one).
  function say(id, text) { $(id).textContent = text || ''; }

  function noteLines(id, lines) {
    $(id).replaceChildren(...lines.map(line => make('div', {}, line)));
  }

  // The colour of a state 0..max (hue around the wheel).
  function stateColour(state, max) {
    if (state === null || state === undefined) return '#999';
    const share = max > 0 ? Math.min(state, max) / (max + 1) : 0;
    return `hsl(${Math.round(300 * share)}, 75%, 45%)`;
  }

  // Offer `text` (JSON) as a file to save, named `name`.
  function download(name, text) {
    const blob = new Blob([text], { type: 'application/json' });
    const link = make('a', { href: URL.createObjectURL(blob), download: name });
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  // The two unit choosers of a scatter's axes (x, y) for `hid` units: units 0 and 1 chosen.
  function unitChoosers(selects, hid) {
    for (const select of selects) {
      select.textContent = '';
      for (let j = 0; j < hid; j++) select.appendChild(make('option', { value: j }, `unit ${j}`));
    }
    selects[1].value = String(Math.min(1, hid - 1));
  }

  // A scatter of two units' values on a 420-pixel square canvas, cleared and outlined: its
  // axes span `pairs` ([x, y]), or -1..1 when `fixed`. `at(pair)` is a pair's pixel
  // position, `dot` draws one, `label` writes the axes' ranges (last, over the dots).
  function scatterAxes(ctx, pairs, fixed) {
    const size = 420, pad = 24;
    let lo = [Infinity, Infinity], hi = [-Infinity, -Infinity];
    for (const [a, b] of pairs) {
      lo = [Math.min(lo[0], a), Math.min(lo[1], b)];
      hi = [Math.max(hi[0], a), Math.max(hi[1], b)];
    }
    if (fixed) { lo = [-1, -1]; hi = [1, 1]; }
    const at = ([a, b]) => [pad + (a - lo[0]) / ((hi[0] - lo[0]) || 1) * (size - 2 * pad),
      size - pad - (b - lo[1]) / ((hi[1] - lo[1]) || 1) * (size - 2 * pad)];
    ctx.clearRect(0, 0, size, size);
    ctx.strokeStyle = '#ccc';
    ctx.strokeRect(0.5, 0.5, size - 1, size - 1);
    function dot(pair, colour, radius = 3) {
      ctx.fillStyle = colour;
      ctx.beginPath();
      ctx.arc(...at(pair), radius, 0, 2 * Math.PI);
      ctx.fill();
    }
    function label(what, ux, uy) {
      ctx.fillStyle = '#333';
      ctx.fillText(`${what} unit ${ux}: ${fmt(lo[0], 2)} .. ${fmt(hi[0], 2)}`, pad, size - 6);
      ctx.fillText(`${what} unit ${uy}: ${fmt(lo[1], 2)} .. ${fmt(hi[1], 2)}`, 4, 12);
    }
    return { at, dot, label };
  }

  return { $, make, makeSvg, sigmoid, softmax, fmt, randomSource, say, noteLines, stateColour,
    download, unitChoosers, scatterAxes };
})();
