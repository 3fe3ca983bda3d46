/* exported Common */
// Small helpers shared by the panels: one namespace, read by the other files as
// `const { $, make } = Common;`.

const Common = (() => {
  'use strict';

  function $(id) { return document.getElementById(id); }

  function make(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const SVG_NS = 'http://www.w3.org/2000/svg';
  function makeSvg(tag, attrs) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    return node;
  }

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
    const box = $(id);
    box.textContent = '';
    for (const line of lines) box.appendChild(make('div', {}, line));
  }

  // The colour of a state 0..max (hue around the wheel).
  function stateColour(state, max) {
    if (state === null || state === undefined) return '#999';
    const share = max > 0 ? Math.min(state, max) / (max + 1) : 0;
    return `hsl(${Math.round(300 * share)}, 75%, 45%)`;
  }

  return { $, make, makeSvg, sigmoid, softmax, fmt, randomSource, say, noteLines, stateColour };
})();
