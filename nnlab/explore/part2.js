/* global Common */
/* exported Part2 */
// Part 2, the designer: the 2 -> hid -> 1 perceptron of check.py on the points of
// check.csv. The weights are kept as check_main.py --weights reads them (before --scale);
// the sigmoid network uses them times `scale`, as check.py's set_weights does. Training's
// settings (lr, Adam, weight decay, the streak) come from Python: data.training
// (gather.perceptron_settings).

const Part2 = (() => {
  'use strict';
  const { $, make, makeSvg, sigmoid, fmt, randomSource, say, noteLines, download } = Common;
  const UNIT_COLOURS = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b',
    '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];
  const UNIT_WEIGHTS = ['wx', 'wy', 'b', 'v'];       // a hidden unit's weights in `net`
  const VIEW = 420;                       // pixels of the square plot
  const SHADE_CELL = 6;                   // pixels per shaded cell

  // The shape of a nested list of numbers, as weights.py's _shape_of; throws the reason.
  function shapeOf(value, where, maxWeight) {
    if (Array.isArray(value)) {
      if (!value.length) throw `${where} is an empty list`;
      const shapes = new Set(value.map(item => JSON.stringify(shapeOf(item, where, maxWeight))));
      if (shapes.size !== 1) throw `${where} has rows of different lengths`;
      return [value.length].concat(JSON.parse([...shapes][0]));
    }
    if (typeof value !== 'number') throw `${where} contains ${JSON.stringify(value)}, which is not a number`;
    if (!Number.isFinite(value)) throw `${where} contains ${value}, which is not a finite number`;
    if (Math.abs(value) > maxWeight) throw `${where} contains ${value}, beyond +-${maxWeight.toExponential().replace('e+', 'e+0')}`;
    return [];
  }

  // Why `data` is not a weights object check_main.py --weights would take, or null.
  // `rules`: the names and bound of nnlab/formats/check_weights.py (data.training).
  function weightsProblem(data, rules) {
    const names = rules.names, maxWeight = rules.max_weight;
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      return 'it does not hold a JSON object';
    }
    const missing = names.filter(name => !Object.prototype.hasOwnProperty.call(data, name));
    if (missing.length) return `it misses ${missing.join(', ')}`;
    const unknown = Object.keys(data).filter(name => !names.includes(name)).sort();
    if (unknown.length) return `it has unknown keys ${unknown.join(', ')}`;
    try {
      const shapes = {};
      for (const name of names) shapes[name] = shapeOf(data[name], name, maxWeight);
      const hid = shapes.in_hid_weight.length ? shapes.in_hid_weight[0] : 0;
      const expected = { in_hid_weight: [hid, 2], hid_bias: [hid], hid_out_weight: [1, hid],
        out_bias: [1] };
      for (const name of names) {
        if (JSON.stringify(shapes[name]) !== JSON.stringify(expected[name])) {
          return `${name} has shape [${shapes[name]}] but in_hid_weight has ${hid} rows, so ` +
            `it must be [${expected[name]}]`;
        }
      }
    } catch (reason) {
      return String(reason);
    }
    return null;
  }

  // The kernel's order of one network's weights (nnlab/perceptron/kernels.py):
  // in_hid_weight row by row, hid_bias, hid_out_weight, out_bias.
  function flatWeights(net, factor) {
    const hid = net.b.length, theta = new Float64Array(4 * hid + 1);
    for (let j = 0; j < hid; j++) {
      theta[2 * j] = factor * net.wx[j];
      theta[2 * j + 1] = factor * net.wy[j];
      theta[2 * hid + j] = factor * net.b[j];
      theta[3 * hid + j] = factor * net.v[j];
    }
    theta[4 * hid] = factor * net.c;
    return theta;
  }

  // Forward pass of all points and the gradient of the mean BCE, as kernels.py's
  // _forward and _gradient compute them (same order of operations). Returns the number of
  // points right and the loss. `bce`: the loss's clamps (kernels.py's BCE_EPS, BCE_LOG_FLOOR).
  function lossAndGradient(theta, points, hidden, output, grad, bce) {
    const hid = (theta.length - 1) / 4, count = points.length;
    let correct = 0, loss = 0;
    for (let p = 0; p < count; p++) {
      const x = points[p][0], y = points[p][1];
      let total = 0.0;
      for (let j = 0; j < hid; j++) {
        const h = sigmoid((x * theta[2 * j] + y * theta[2 * j + 1]) + theta[2 * hid + j]);
        hidden[p * hid + j] = h;
        total += h * theta[3 * hid + j];
      }
      output[p] = sigmoid(total + theta[4 * hid]);
      if ((output[p] >= 0.5) === (points[p][2] >= 0.5)) correct += 1;
    }
    for (let p = 0; p < count; p++) {
      const o = output[p], t = points[p][2];
      loss -= (t * Math.max(Math.log(o), bce.logFloor) +
               (1.0 - t) * Math.max(Math.log(1.0 - o), bce.logFloor));
    }
    grad.fill(0.0);
    for (let p = 0; p < count; p++) {
      const o = output[p], t = points[p][2];
      let dOut = (o - t) / Math.max((1.0 - o) * o, bce.eps) / count;
      dOut = dOut * (1.0 - o) * o;
      grad[4 * hid] += dOut;
      const x = points[p][0], y = points[p][1];
      for (let j = 0; j < hid; j++) {
        const h = hidden[p * hid + j];
        grad[3 * hid + j] += dOut * h;
        const dHidden = dOut * theta[3 * hid + j] * (1.0 - h) * h;
        grad[2 * j] += dHidden * x;
        grad[2 * j + 1] += dHidden * y;
        grad[2 * hid + j] += dHidden;
      }
    }
    return { correct, loss: loss / count };
  }

  // torch.optim.Adam's step (compiled.py's adam_step), L2 weight decay in the gradient;
  // `settings`: gather.perceptron_settings (adam, weight_decay).
  function adamStep(theta, grad, state, lr, settings) {
    const { beta1, beta2, eps } = settings.adam, decay = settings.weight_decay;
    state.step += 1;
    const stepSize = lr / (1.0 - Math.pow(beta1, state.step));
    const correction2 = Math.sqrt(1.0 - Math.pow(beta2, state.step));
    for (let p = 0; p < theta.length; p++) {
      let g = grad[p];
      g += decay * theta[p];
      state.m[p] += (1.0 - beta1) * (g - state.m[p]);
      state.v[p] = state.v[p] * beta2 + (1.0 - beta2) * g * g;
      const denom = Math.sqrt(state.v[p]) / correction2 + eps;
      theta[p] += -stepSize * (state.m[p] / denom);
    }
  }

  class Training {
    constructor(theta, points, settings) {
      this.theta = theta;
      this.points = points;
      this.settings = settings;
      this.bce = { eps: settings.bce_eps, logFloor: settings.bce_log_floor };
      const hid = (theta.length - 1) / 4;
      this.hidden = new Float64Array(points.length * hid);
      this.output = new Float64Array(points.length);
      this.grad = new Float64Array(theta.length);
      this.adam = { step: 0, m: new Float64Array(theta.length), v: new Float64Array(theta.length) };
      this.inARow = 0;
      this.done = false;
      this.log = [];                     // [epoch, loss] every log_every epochs
    }

    // Train up to `epochs` more epochs (fewer once the network has been at 100% for
    // `streak` epochs in a row, check_main's stopping rule).
    run(epochs) {
      for (let e = 0; e < epochs && !this.done; e++) {
        const { correct, loss } = lossAndGradient(this.theta, this.points, this.hidden,
          this.output, this.grad, this.bce);
        adamStep(this.theta, this.grad, this.adam, this.settings.lr, this.settings);
        if (this.adam.step % this.settings.log_every === 0) this.log.push([this.adam.step, loss]);
        this.inARow = correct === this.points.length ? this.inARow + 1 : 0;
        if (this.inARow >= this.settings.streak) this.done = true;
      }
    }
  }

  function start(data) {
    const points = data.points, settings = data.training;
    const net = { wx: [], wy: [], b: [], v: [], c: 0 };
    let act = 'step', scale = data.sig_scale, training = null, liveTraining = null;
    let tableHid = -1;

    // --- the view: data coordinates <-> pixels ------------------------------------------
    const xs = points.map(p => p[0]), ys = points.map(p => p[1]);
    const xMid = (Math.min(...xs) + Math.max(...xs)) / 2;
    const yMid = (Math.min(...ys) + Math.max(...ys)) / 2;
    const range = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)) || 1;
    const span = range * 1.75;
    const x0 = xMid - span / 2, y0 = yMid - span / 2;
    const toPx = (x, y) => [(x - x0) / span * VIEW, VIEW - (y - y0) / span * VIEW];
    const toData = (px, py) => [x0 + px / VIEW * span, y0 + (VIEW - py) / VIEW * span];

    const factor = () => (act === 'sig' ? scale : 1.0);
    const activation = z => (act === 'sig' ? sigmoid(z) : (z >= 0 ? 1.0 : 0.0));

    // Hidden activations and output at (x, y), in check.py's order of operations on the
    // weights times the factor.
    function forward(x, y, hidden) {
      const f = factor();
      let total = 0.0;
      for (let j = 0; j < net.b.length; j++) {
        const h = activation((x * (f * net.wx[j]) + y * (f * net.wy[j])) + f * net.b[j]);
        if (hidden) hidden.push(h);
        total += h * (f * net.v[j]);
      }
      return activation(total + f * net.c);
    }

    function accuracy() {
      let right = 0;
      for (const [x, y, t] of points) if ((forward(x, y) >= 0.5) === (t >= 0.5)) right += 1;
      return 100.0 * right / points.length;
    }

    function weights() {
      return {
        in_hid_weight: net.wx.map((wx, j) => [wx, net.wy[j]]),
        hid_bias: net.b.slice(),
        hid_out_weight: [net.v.slice()],
        out_bias: [net.c],
      };
    }

    function load(obj) {
      net.wx = obj.in_hid_weight.map(row => row[0]);
      net.wy = obj.in_hid_weight.map(row => row[1]);
      net.b = obj.hid_bias.slice();
      net.v = obj.hid_out_weight[0].slice();
      net.c = obj.out_bias[0];
    }

    // --- drawing ------------------------------------------------------------------------
    const shade = $('p2-shade').getContext('2d');
    const svg = $('p2-svg');

    // One pixel per shaded cell in a small image, drawn scaled up (a fillRect per cell
    // costs several times more).
    const cells = VIEW / SHADE_CELL;
    const small = make('canvas', { width: cells, height: cells });
    const smallContext = small.getContext('2d'), shadeImage = smallContext.createImageData(cells, cells);
    function drawShade() {
      const pixels = shadeImage.data;
      for (let row = 0; row < cells; row++) {
        for (let col = 0; col < cells; col++) {
          const [x, y] = toData((col + 0.5) * SHADE_CELL, (row + 0.5) * SHADE_CELL);
          const o = forward(x, y), at = 4 * (row * cells + col);
          pixels[at] = Math.round(255 - 120 * o);
          pixels[at + 1] = Math.round(255 - 70 * o);
          pixels[at + 2] = 255;
          pixels[at + 3] = 255;
        }
      }
      smallContext.putImageData(shadeImage, 0, 0);
      shade.imageSmoothingEnabled = false;
      shade.drawImage(small, 0, 0, VIEW, VIEW);
    }

    // The line wx x + wy y + b = 0 through the view: its point nearest the view's centre
    // and its unit direction (the unit is on to the left of the direction).
    function lineOf(j) {
      const wx = net.wx[j], wy = net.wy[j], norm2 = wx * wx + wy * wy;
      if (!(norm2 > 0)) return null;
      const reach = (wx * xMid + wy * yMid + net.b[j]) / norm2;
      const norm = Math.sqrt(norm2);
      return { px: xMid - reach * wx, py: yMid - reach * wy, dx: -wy / norm, dy: wx / norm, norm };
    }

    function drawSvg() {
      svg.textContent = '';
      for (let j = 0; j < net.b.length; j++) {
        const line = lineOf(j);
        if (!line) continue;
        const colour = UNIT_COLOURS[j % UNIT_COLOURS.length];
        const a = toPx(line.px - 2 * span * line.dx, line.py - 2 * span * line.dy);
        const b = toPx(line.px + 2 * span * line.dx, line.py + 2 * span * line.dy);
        const mid = toPx(line.px, line.py);
        const group = svg.appendChild(makeSvg('g', { id: `p2-unit-${j}` }));
        const attrs = { x1: a[0], y1: a[1], x2: b[0], y2: b[1] };
        group.appendChild(makeSvg('line', Object.assign({ stroke: colour, 'stroke-width': 2.5,
          'pointer-events': 'none' }, attrs)));
        const grip = makeSvg('line', Object.assign({ stroke: 'transparent', 'stroke-width': 14,
          class: 'line', id: `p2-line-${j}`, 'data-mid': `${mid[0]},${mid[1]}` }, attrs));
        grip.addEventListener('pointerdown', event => startDrag(event, j, 'move'));
        group.appendChild(grip);
        // an arrow to the side where the unit is on
        const on = toPx(line.px + 0.3 * line.dy, line.py - 0.3 * line.dx);
        group.appendChild(makeSvg('line', { x1: mid[0], y1: mid[1], x2: on[0], y2: on[1],
          stroke: colour, 'stroke-width': 1.5, 'stroke-dasharray': '3 2', 'pointer-events': 'none' }));
        const handleAt = toPx(line.px + 0.35 * span * line.dx, line.py + 0.35 * span * line.dy);
        const handle = makeSvg('circle', { cx: handleAt[0], cy: handleAt[1], r: 7, fill: colour,
          class: 'handle', id: `p2-handle-${j}` });
        handle.addEventListener('pointerdown', event => startDrag(event, j, 'turn'));
        group.appendChild(handle);
        group.appendChild(makeSvg('text', { x: handleAt[0] + 9, y: handleAt[1] - 9, fill: colour,
          'font-size': 13, 'pointer-events': 'none' }, `h${j}`));
      }
      for (const [x, y, t] of points) {
        const [px, py] = toPx(x, y);
        const right = (forward(x, y) >= 0.5) === (t >= 0.5);
        svg.appendChild(makeSvg('circle', { cx: px, cy: py, r: 9, fill: t >= 0.5 ? '#222' : '#fff',
          stroke: right ? '#1a1' : '#d00', 'stroke-width': 4, 'pointer-events': 'none' }));
      }
    }

    // A weight's field in the table: `onChange(number)` when a weight is typed in.
    function weightInput(id, value, onChange) {
      const input = make('input', { type: 'number', step: 'any', id });
      input.value = fmt(value, 6);
      input.addEventListener('input', () => {
        const number = Number(input.value);
        if (input.value.trim() === '' || !Number.isFinite(number) || Math.abs(number) > settings.max_weight) {
          input.classList.add('wrong');
          return;
        }
        input.classList.remove('wrong');
        onChange(number);
        update(false);
      });
      return input;
    }

    function buildWeightsTable() {
      const table = $('p2-weights'), head = make('tr');
      for (const title of ['unit', 'w_x', 'w_y', 'bias', 'to output']) head.appendChild(make('th', {}, title));
      table.replaceChildren(head);
      for (let j = 0; j < net.b.length; j++) {
        const row = make('tr');
        const name = make('th', {}, `h${j}`);
        name.style.color = UNIT_COLOURS[j % UNIT_COLOURS.length];
        row.appendChild(name);
        UNIT_WEIGHTS.forEach((key, k) => {
          const cell = row.appendChild(make('td'));
          cell.appendChild(weightInput(`p2-w-${j}-${k}`, net[key][j], v => { net[key][j] = v; }));
        });
        table.appendChild(row);
      }
      const last = make('tr'), cell = make('td');
      cell.appendChild(weightInput('p2-w-out', net.c, v => { net.c = v; }));
      last.append(make('th', {}, 'output bias'), cell);
      table.appendChild(last);
      tableHid = net.b.length;
    }

    function syncWeightsTable() {
      for (let j = 0; j < net.b.length; j++) {
        UNIT_WEIGHTS.forEach((key, k) => {
          const input = $(`p2-w-${j}-${k}`);
          if (input !== document.activeElement) input.value = fmt(net[key][j], 6);
        });
      }
      const out = $('p2-w-out');
      if (out !== document.activeElement) out.value = fmt(net.c, 6);
    }

    function drawPointsTable() {
      const table = $('p2-points'), head = make('tr');
      const titles = ['x', 'y', 'target'].concat(net.b.map((_, j) => `h${j}`), ['output', '']);
      for (const title of titles) head.appendChild(make('th', {}, title));
      table.replaceChildren(head);
      for (const [x, y, t] of points) {
        const hidden = [];
        const o = forward(x, y, hidden);
        const right = (o >= 0.5) === (t >= 0.5);
        const row = make('tr', { class: right ? 'right' : 'wrong' });
        for (const value of [x, y, t].concat(hidden, [o])) row.appendChild(make('td', {}, fmt(value)));
        row.appendChild(make('td', {}, right ? 'right' : 'wrong'));
        table.appendChild(row);
      }
    }

    // Redraw everything from the weights (the weights table rebuilt only when resized; the
    // field being typed in keeps its text).
    function update(rebuildTable) {
      if (tableHid !== net.b.length || rebuildTable === 'rebuild') buildWeightsTable();
      else syncWeightsTable();
      $('p2-act').value = act;
      if ($('p2-scale') !== document.activeElement) $('p2-scale').value = String(scale);
      drawShade();
      drawSvg();
      drawPointsTable();
      $('p2-accuracy').textContent = `${accuracy().toFixed(2)}%`;
    }

    // --- dragging a line: move (change the bias) or turn (about its middle) ---------------
    let drag = null;
    function pointerData(event) {
      const box = svg.getBoundingClientRect();
      return toData(event.clientX - box.left, event.clientY - box.top);
    }

    function startDrag(event, j, how) {
      event.preventDefault();
      stopTraining();
      const line = lineOf(j);
      drag = { j, how, start: pointerData(event), wx: net.wx[j], wy: net.wy[j], b: net.b[j], line };
      svg.setPointerCapture(event.pointerId);
    }

    svg.addEventListener('pointermove', event => {
      if (!drag) return;
      const [x, y] = pointerData(event);
      const { j } = drag;
      if (drag.how === 'move') {
        net.b[j] = drag.b - (drag.wx * (x - drag.start[0]) + drag.wy * (y - drag.start[1]));
      } else {
        const dx = x - drag.line.px, dy = y - drag.line.py, length = Math.hypot(dx, dy);
        if (length < 1e-9) return;
        // the direction (dx, dy) means the weights |w| (dy, -dx)
        net.wx[j] = drag.line.norm * dy / length;
        net.wy[j] = -drag.line.norm * dx / length;
        net.b[j] = -(net.wx[j] * drag.line.px + net.wy[j] * drag.line.py);
      }
      update();
    });
    const endDrag = () => { drag = null; };
    svg.addEventListener('pointerup', endDrag);
    svg.addEventListener('pointercancel', endDrag);

    // --- controls -----------------------------------------------------------------------
    function setWeights(obj, newAct = 'step', newScale = 1) {
      const problem = weightsProblem(obj, settings);
      if (problem) throw new Error(`weights refused: ${problem}; ${settings.hint}`);
      if (newAct !== 'step' && newAct !== 'sig') throw new Error(`act is ${newAct}, not step or sig`);
      if (!(typeof newScale === 'number' && newScale > 0 && Number.isFinite(newScale))) {
        throw new Error(`scale is ${newScale}, not a positive number`);
      }
      stopTraining();
      load(obj);
      act = newAct;
      scale = newScale;
      training = null;
      update();
    }

    $('p2-act').addEventListener('change', () => { act = $('p2-act').value; update(); });
    $('p2-scale').addEventListener('input', () => {
      const value = Number($('p2-scale').value);
      if (value > 0 && Number.isFinite(value)) { scale = value; update(); }
    });
    $('p2-add').addEventListener('click', () => {
      const j = net.b.length;
      net.wx.push(1.0); net.wy.push(j % 2 ? -1.0 : 1.0); net.b.push(-1.0); net.v.push(1.0);
      update();
    });
    $('p2-remove').addEventListener('click', () => {
      if (net.b.length <= 1) { say('p2-message', 'the network keeps at least one hidden unit'); return; }
      for (const key of UNIT_WEIGHTS) net[key].pop();
      update();
    });
    $('p2-hand').addEventListener('click', () => setWeights(data.hand, act, data.sig_scale));
    if (data.trained) {
      $('p2-trained').title = data.trained.label;
      $('p2-trained').addEventListener('click', () => {
        setWeights(data.trained.weights, data.trained.act, 1);
        say('p2-message', `loaded ${data.trained.label}`);
      });
    } else {
      $('p2-trained').disabled = true;
    }

    $('p2-save').addEventListener('click', () => {
      download('weights.json', JSON.stringify(weights(), null, 1) + '\n');
      say('p2-message', 'saved weights.json: check_main.py --act ' + act +
        (act === 'sig' ? ` --scale ${scale}` : '') + ' --weights weights.json starts from it');
    });

    function loadText(name, text) {
      let obj;
      try {
        obj = JSON.parse(text.replace(/^\ufeff/, ''));
      } catch (err) {
        say('p2-message', `weights file ${name} is not valid JSON (${err.message}); ${settings.hint}`);
        return false;
      }
      const problem = weightsProblem(obj, settings);
      if (problem) {
        say('p2-message', `weights file ${name}: ${problem}; ${settings.hint}`);
        return false;
      }
      setWeights(obj, act, scale);
      say('p2-message', `loaded ${name} (${net.b.length} hidden units)`);
      return true;
    }

    $('p2-load').addEventListener('change', () => {
      const file = $('p2-load').files[0];
      if (!file) return;
      if (file.size > settings.max_file_bytes) {
        say('p2-message', `weights file ${file.name} is over ${settings.max_file_bytes.toLocaleString('en')} bytes; it should hold four small arrays`);
        return;
      }
      file.text().then(text => loadText(file.name, text),
        err => say('p2-message', `weights file ${file.name} cannot be read (${err.message}); choose it again`));
      $('p2-load').value = '';
    });

    // --- training: check_main.py's loss and Adam, live -------------------------------------
    const curve = $('p2-curve').getContext('2d');
    function drawCurve() {
      const width = curve.canvas.width, height = curve.canvas.height;
      curve.clearRect(0, 0, width, height);
      curve.strokeStyle = '#ccc';
      curve.strokeRect(0, 0, width, height);
      if (!training || training.log.length < 2) return;
      const log = training.log, last = log[log.length - 1][0];
      const losses = log.map(([, loss]) => Math.log10(Math.max(loss, 1e-12)));
      const top = Math.max(...losses), bottom = Math.min(...losses);
      curve.strokeStyle = '#1f77b4';
      curve.beginPath();
      log.forEach(([epoch], k) => {
        const px = epoch / last * (width - 4) + 2;
        const py = 4 + (top - losses[k]) / ((top - bottom) || 1) * (height - 8);
        if (k) curve.lineTo(px, py); else curve.moveTo(px, py);
      });
      curve.stroke();
      curve.fillStyle = '#333';
      curve.fillText(`loss (log scale) ${fmt(log[0][1])} .. ${fmt(log[log.length - 1][1])}`, 6, 14);
    }

    let rewindTo = null;                  // the weights training last started from
    function startTraining() {
      rewindTo = { weights: weights(), act, scale };
      $('p2-rewind').disabled = false;
      // check_main trains the sigmoid network: the weights shown times the scale (a step
      // design is trained as check_main.py --act sig --scale S --weights trains it)
      training = new Training(flatWeights(net, scale), points, settings);
      act = 'sig';
    }

    // Show the weights trained (divided by the scale) and the loss curve.
    function adopt() {
      const theta = training.theta, hid = net.b.length;
      for (let j = 0; j < hid; j++) {
        net.wx[j] = theta[2 * j] / scale;
        net.wy[j] = theta[2 * j + 1] / scale;
        net.b[j] = theta[2 * hid + j] / scale;
        net.v[j] = theta[3 * hid + j] / scale;
      }
      net.c = theta[4 * hid] / scale;
      update();
      drawCurve();
    }

    function stopTraining() {
      if (liveTraining) { cancelAnimationFrame(liveTraining); liveTraining = null; }
      $('p2-train').textContent = 'Train';
    }

    $('p2-train').addEventListener('click', () => {
      if (liveTraining) { stopTraining(); return; }
      const epochs = Math.max(1, Math.floor(Number($('p2-epochs').value) || 1));
      startTraining();
      $('p2-train').textContent = 'Stop';
      const chunk = 100;
      const frame = () => {
        training.run(Math.min(chunk, epochs - training.adam.step));
        adopt();
        const acc = fmt(accuracy(), 2);
        $('p2-train-status').textContent = `epoch ${training.adam.step}, accuracy ${acc}%` +
          (training.done ? ` (at 100% for ${settings.streak} epochs: stopped, as check_main.py does)` : '');
        if (training.done || training.adam.step >= epochs) { stopTraining(); return; }
        liveTraining = requestAnimationFrame(frame);
      };
      liveTraining = requestAnimationFrame(frame);
    });

    $('p2-rewind').disabled = true;
    $('p2-rewind').addEventListener('click', () => {
      if (!rewindTo) return;
      setWeights(rewindTo.weights, rewindTo.act, rewindTo.scale);
      say('p2-message', 'back to the weights the last training started from');
    });

    $('p2-random').addEventListener('click', () => {
      const source = randomSource(Number($('p2-seed').value) || 0);
      const hid = net.b.length;
      const draw = () => settings.init * source.normal();
      load({ in_hid_weight: Array.from({ length: hid }, () => [draw(), draw()]),
        hid_bias: Array.from({ length: hid }, draw), hid_out_weight: [Array.from({ length: hid }, draw)],
        out_bias: [draw()] });
      act = 'sig';
      scale = 1;
      update();
      say('p2-message', `random start: normal(0, ${settings.init}) from seed ${$('p2-seed').value} (the page's own draws, not torch's); act sig, scale 1`);
    });

    noteLines('p2-notes', data.notes);
    load(data.hand);
    update();

    return {
      setWeights,
      weights,
      accuracy,
      rewind: () => $('p2-rewind').click(),
      // Train from the weights shown (the sigmoid network, times the scale) for `epochs`
      // epochs at once; the weights then shown are the trained ones divided by the scale.
      train(epochs) {
        startTraining();
        training.run(epochs);
        adopt();
        return { epochs: training.adam.step, log: training.log,
          weights: Array.from(training.theta) };
      },
      loadText,
      message: () => $('p2-message').textContent,
    };
  }

  return { start };
})();
