/* global Common, Part3Train */
/* exported Part3 */
// Part 3, the stepper: the SRN, LSTM and GRU of seq_models.py in float64 on a
// checkpoint's stored weights (laid out as nnlab/recurrent/parameters.py's Layout), the
// language's true next-symbol probabilities, and a scatter of the hidden states of
// generated strings. A language's numbers (its symbols, Reber's transitions, anb2n.py's
// P(another A)) come from Python with each checkpoint (gather._language).

const Part3 = (() => {
  'use strict';
  const { $, make, sigmoid, softmax, fmt, randomSource, say, noteLines, stateColour } = Common;
  const GATES = { srn: 1, lstm: 4, gru: 3 };
  const SCATTER_REBER_STRINGS = 30;

  // The parameter blocks of a flat weight vector: H0 (SRN), W, U, hid_bias, V, out_bias.
  function network(checkpoint) {
    const { kind, hid, symbols } = checkpoint;
    const width = GATES[kind] * hid, w = checkpoint.weights;
    let at = 0;
    const take = size => { const block = w.slice(at, at + size); at += size; return block; };
    const blocks = { kind, hid, symbols, width };
    blocks.H0 = kind === 'srn' ? take(hid) : null;
    blocks.W = take(symbols * width);
    blocks.U = take(hid * width);
    blocks.bias = take(width);
    blocks.V = take(hid * symbols);
    blocks.outBias = take(symbols);
    if (at !== w.length) throw new Error(`${checkpoint.name}: ${w.length} weights, expected ${at}`);
    return blocks;
  }

  // x W + hid_bias (one-hot x: row `symbol` of W) plus h U, column by column.
  function preActivation(net, symbol, h) {
    const { width, hid, W, U, bias } = net;
    const z = new Float64Array(width);
    for (let k = 0; k < width; k++) {
      let total = 0.0;
      for (let i = 0; i < hid; i++) total += h[i] * U[i * width + k];
      z[k] = (W[symbol * width + k] + bias[k]) + total;
    }
    return z;
  }

  // The next-symbol probabilities: softmax(h V + out_bias).
  function outputOf(net, h) {
    const { hid, symbols, V, outBias } = net;
    const logits = new Array(symbols);
    for (let s = 0; s < symbols; s++) {
      let total = 0.0;
      for (let j = 0; j < hid; j++) total += h[j] * V[j * symbols + s];
      logits[s] = total + outBias[s];
    }
    return softmax(logits);
  }

  // The forward pass over symbol indices: per symbol read, the hidden state, the predicted
  // next-symbol probabilities and (LSTM) the cell state.
  function forward(net, seq) {
    const { kind, hid } = net;
    let h = kind === 'srn' ? net.H0.map(Math.tanh) : new Array(hid).fill(0.0);
    let c = new Array(hid).fill(0.0);
    const hidden = [], probs = [], cells = [];
    for (const symbol of seq) {
      if (kind === 'srn') {
        const z = preActivation(net, symbol, h);
        h = Array.from(z, Math.tanh);
      } else if (kind === 'lstm') {
        // gates i, f, g, o in that column order
        const z = preActivation(net, symbol, h);
        const next = new Array(hid), cell = new Array(hid);
        for (let j = 0; j < hid; j++) {
          const i = sigmoid(z[j]), f = sigmoid(z[hid + j]);
          const g = Math.tanh(z[2 * hid + j]), o = sigmoid(z[3 * hid + j]);
          cell[j] = f * c[j] + i * g;
          next[j] = o * Math.tanh(cell[j]);
        }
        h = next;
        c = cell;
        cells.push(c.slice());
      } else {
        // GRU: r, z from x W + h U + bias; n = tanh(x W_n + bias_n + r * (h U_n))
        const { width, U, W, bias } = net;
        const hu = new Float64Array(width);
        for (let k = 0; k < width; k++) {
          let total = 0.0;
          for (let i = 0; i < hid; i++) total += h[i] * U[i * width + k];
          hu[k] = total;
        }
        const next = new Array(hid);
        for (let j = 0; j < hid; j++) {
          const xr = W[symbol * width + j] + bias[j];
          const xz = W[symbol * width + hid + j] + bias[hid + j];
          const xn = W[symbol * width + 2 * hid + j] + bias[2 * hid + j];
          const r = sigmoid(xr + hu[j]), zg = sigmoid(xz + hu[hid + j]);
          const n = Math.tanh(xn + r * hu[2 * hid + j]);
          next[j] = (1 - zg) * n + zg * h[j];
        }
        h = next;
      }
      hidden.push(h.slice());
      probs.push(outputOf(net, h));
    }
    const result = { hidden, probs };
    if (kind === 'lstm') result.cells = cells;
    return result;
  }

  // The language: strings, and after every symbol read the state (for colour) and the true
  // next-symbol distribution (null where it is not determined or the text left the language).
  function language(spec) {
    const symbols = spec.symbols;
    if (spec.kind === 'reber') {
      const legalFrom = node => spec.next[node].map(to => (to >= 0 ? 1 : 0));
      return {
        spec, symbols,
        truth(seq) {
          let node = 0, off = false;
          return seq.map(symbol => {
            const to = off ? -1 : spec.next[node][symbol];
            if (to < 0) { off = true; return { state: null, probs: null }; }
            node = to;
            const legal = legalFrom(node), count = legal.reduce((a, b) => a + b, 0);
            return { state: node, probs: legal.map(v => v / count) };
          });
        },
        generate(source) {
          const seq = [];
          let node = 0;
          do {
            const choices = spec.next[node].map((to, s) => [to, s]).filter(([to]) => to >= 0);
            const [to, symbol] = choices[Math.floor(source.uniform() * choices.length)];
            seq.push(symbol);
            node = to;
          } while (node !== 0 && seq.length < 1000);
          return seq;
        },
      };
    }
    const multiples = spec.multiples, L = spec.length, phases = multiples.length, pMoreA = spec.p_more_a;
    const only = s => Array.from({ length: symbols.length }, (_, k) => (k === s ? 1 : 0));
    return {
      spec, symbols,
      // anb2n.py's probabilities for n <= length; beyond the training lengths the A's have
      // no true distribution and everything after the first B is determined (generalise.py).
      truth(seq) {
        let phase = 0, n = 0, remaining = 0, off = false;
        return seq.map(symbol => {
          if (!off) {
            if (symbol === 0) {
              if (phase === 0) n += 1;
              else if (phase === phases && remaining === 0) { phase = 0; n = 1; } else off = true;
            } else if (phase === 0 && symbol === 1 && n > 0) {
              phase = 1; remaining = multiples[0] * n - 1;
            } else if (symbol === phase && remaining > 0) {
              remaining -= 1;
            } else if (symbol === phase + 1 && remaining === 0 && phase > 0) {
              phase = symbol; remaining = multiples[phase - 1] * n - 1;
            } else off = true;
          }
          if (off) return { state: null, probs: null };
          if (phase === 0) {
            if (n < L) {
              const row = only(-1);
              row[0] = pMoreA; row[1] = 1 - pMoreA;
              return { state: n, probs: row };
            }
            return { state: n, probs: n === L ? only(1) : null };
          }
          const next = remaining > 0 ? phase : (phase < phases ? phase + 1 : 0);
          return { state: remaining, probs: only(next) };
        });
      },
      generate(source, n) {
        const seq = new Array(n).fill(0);
        multiples.forEach((k, p) => { for (let i = 0; i < k * n; i++) seq.push(p + 1); });
        return seq;
      },
    };
  }

  function start(data) {
    const runs = data.runs;
    const byName = new Map();
    for (const entry of runs) for (const cp of entry.checkpoints) byName.set(cp.name, cp);
    const nets = new Map();
    const netOf = cp => { if (!nets.has(cp.name)) nets.set(cp.name, network(cp)); return nets.get(cp.name); };

    function parse(cp, text) {
      const symbols = cp.language.symbols;
      const seq = [];
      for (const ch of text.toUpperCase()) {
        if (/\s/.test(ch)) continue;
        const k = symbols.indexOf(ch);
        if (k < 0) throw new Error(`'${ch}' is not a symbol of ${cp.lang} (symbols ${symbols})`);
        seq.push(k);
      }
      return seq;
    }

    function run(name, text) {
      const cp = byName.get(name);
      if (!cp) throw new Error(`no checkpoint ${name}; networks() lists them`);
      return forward(netOf(cp), parse(cp, text));
    }

    noteLines('p3-notes', data.notes);
    const api = { networks: () => [...byName.keys()], run };
    let shown = null;           // the checkpoint shown: the train mode may start from it
    Object.assign(api, Part3Train.start(data.train, () => shown));
    if (!runs.length) { $('p3-body').hidden = true; return api; }

    // --- the panel ----------------------------------------------------------------------
    let current = null, lang = null, seq = [], result = null, truth = [], step = 0;
    let scatter = null, generated = 1, machine = null, machineLines = [];
    const canvas = $('p3-scatter').getContext('2d');
    const bars = $('p3-probs').getContext('2d');

    for (const r of runs) $('p3-run').appendChild(make('option', { value: r.stem }, r.stem));

    function chooseRun() {
      const r = runs.find(item => item.stem === $('p3-run').value) || runs[0];
      machine = r.machine;
      $('p3-machine-box').hidden = !machine;
      if (machine) {
        $('p3-machine').textContent = '';
        machineLines = machine.text.split('\n').map(line => {
          const span = make('span', {}, line + '\n');
          $('p3-machine').appendChild(span);
          return span;
        });
      }
      $('p3-slider').max = String(r.checkpoints.length - 1);
      $('p3-slider').value = String(r.checkpoints.length - 1);
      chooseCheckpoint();
    }

    function chooseCheckpoint() {
      const r = runs.find(item => item.stem === $('p3-run').value) || runs[0];
      const cp = r.checkpoints[Number($('p3-slider').value)];
      const first = !current || current.hid !== cp.hid || current.lang !== cp.lang;
      current = shown = cp;
      lang = language(cp.language);
      $('p3-checkpoint').textContent = `${cp.name} (${cp.thousands} thousand examples)`;
      buildScatter();
      if (first) {
        for (const id of ['p3-ux', 'p3-uy']) {
          $(id).textContent = '';
          for (let j = 0; j < cp.hid; j++) $(id).appendChild(make('option', { value: j }, `unit ${j}`));
        }
        $('p3-uy').value = String(Math.min(1, cp.hid - 1));
        $('p3-cells').checked = false;
        $('p3-n').value = String(cp.language.kind === 'reber' ? 1 : Math.min(3, cp.language.length));
        $('p3-n').disabled = cp.language.kind === 'reber';
        if (!$('p3-text').value || !setText($('p3-text').value, true)) generate();
      }
      // only an LSTM has cell states: another kind shows its hidden states
      $('p3-cells-box').hidden = cp.kind !== 'lstm';
      if (cp.kind !== 'lstm') $('p3-cells').checked = false;
      compute();
    }

    // The hidden states of generated strings, fed one after another from the initial state
    // as in training: n = 1..length for a counting language, 30 random strings for Reber.
    function buildScatter() {
      let stream = [];
      if (lang.spec.kind === 'reber') {
        const source = randomSource(1);
        for (let k = 0; k < SCATTER_REBER_STRINGS; k++) stream = stream.concat(lang.generate(source));
      } else {
        for (let n = 1; n <= lang.spec.length; n++) stream = stream.concat(lang.generate(null, n));
      }
      const out = forward(netOf(current), stream);
      scatter = { out, truth: lang.truth(stream) };
    }

    function setText(text, quiet) {
      try {
        seq = parse(current, text);
      } catch (err) {
        if (!quiet) say('p3-message', err.message);
        return false;
      }
      say('p3-message', '');
      step = seq.length ? 1 : 0;
      compute();
      return true;
    }

    function generate() {
      let made;
      if (lang.spec.kind === 'reber') made = lang.generate(randomSource(generated++));
      else {
        const n = Math.max(1, Math.min(1000, Math.floor(Number($('p3-n').value) || 1)));
        made = lang.generate(null, n);
      }
      $('p3-text').value = made.map(k => lang.symbols[k]).join('');
      setText($('p3-text').value);
    }

    function compute() {
      if (!current) return;
      result = forward(netOf(current), seq);
      truth = lang.truth(seq);
      step = Math.min(Math.max(step, seq.length ? 1 : 0), seq.length);
      draw();
    }

    // The state seq_plot.py --fsm assigns the network's state after `step` symbols to
    // (fsm.assign: the cluster whose centre is nearest, each unit in its scale, and that
    // cluster's state), when the checkpoint shown is the one it looked at; else null.
    function machineState() {
      const table = machine && machine.table;
      if (!table || (current.file || `${current.name}.pth`) !== machine.checkpoint) return null;
      if (step === 0) return table.start;
      const vector = Array.from(result.hidden[step - 1]);
      if (table.withCell) vector.push(...result.cells[step - 1]);
      let nearest = 0, least = Infinity;
      table.centres.forEach((centre, c) => {
        let distance = 0;
        for (let i = 0; i < vector.length; i++) distance += ((vector[i] - centre[i]) / table.scale[i]) ** 2;
        if (distance < least) { nearest = c; least = distance; }
      });
      return table.stateOfCluster[nearest];
    }

    function drawMachine() {
      if (!machine) return;
      const state = machineState();
      const lit = new Set(state && machine.table.lines[state] ? machine.table.lines[state] : []);
      machineLines.forEach((span, k) => { span.className = lit.has(k) ? 'lit' : ''; });
      $('p3-machine-from').textContent = `from ${machine.checkpoint} (${machine.command}); ` +
        (state ? `after ${step} symbol(s) it is in state ${state} (lit)` :
          machine.table ? 'move the slider to that checkpoint to follow its state' :
            `run ${machine.command} again to follow its states here`);
      const first = $('p3-machine').querySelector('.lit');
      if (first) $('p3-machine').scrollTop = first.offsetTop - $('p3-machine').offsetTop - 40;
    }

    function values(out, useCells) { return useCells && out.cells ? out.cells : out.hidden; }

    function draw() {
      const useCells = $('p3-cells').checked;
      const ux = Number($('p3-ux').value), uy = Number($('p3-uy').value);
      const cloud = values(scatter.out, useCells), path = values(result, useCells);
      const all = cloud.concat(path);
      let lo = [Infinity, Infinity], hi = [-Infinity, -Infinity];
      for (const v of all) {
        lo = [Math.min(lo[0], v[ux]), Math.min(lo[1], v[uy])];
        hi = [Math.max(hi[0], v[ux]), Math.max(hi[1], v[uy])];
      }
      if (!all.length) { lo = [-1, -1]; hi = [1, 1]; }
      const size = 420, pad = 24;
      const px = v => pad + (v[ux] - lo[0]) / ((hi[0] - lo[0]) || 1) * (size - 2 * pad);
      const py = v => size - pad - (v[uy] - lo[1]) / ((hi[1] - lo[1]) || 1) * (size - 2 * pad);
      canvas.clearRect(0, 0, size, size);
      canvas.strokeStyle = '#ccc';
      canvas.strokeRect(0.5, 0.5, size - 1, size - 1);
      const max = lang.spec.max_state;
      cloud.forEach((v, k) => {
        canvas.fillStyle = stateColour(scatter.truth[k].state, max);
        canvas.beginPath();
        canvas.arc(px(v), py(v), 3, 0, 2 * Math.PI);
        canvas.fill();
      });
      canvas.strokeStyle = 'rgba(0,0,0,0.5)';
      canvas.beginPath();
      for (let t = 0; t < step; t++) {
        if (t) canvas.lineTo(px(path[t]), py(path[t])); else canvas.moveTo(px(path[t]), py(path[t]));
      }
      canvas.stroke();
      if (step > 0) {
        const v = path[step - 1];
        canvas.fillStyle = stateColour(truth[step - 1].state, max);
        canvas.strokeStyle = '#000';
        canvas.lineWidth = 2;
        canvas.beginPath();
        canvas.arc(px(v), py(v), 8, 0, 2 * Math.PI);
        canvas.fill();
        canvas.stroke();
        canvas.lineWidth = 1;
      }
      canvas.fillStyle = '#333';
      const what = useCells ? 'cell' : 'hidden';
      canvas.fillText(`${what} unit ${ux}: ${fmt(lo[0], 2)} .. ${fmt(hi[0], 2)}`, pad, size - 6);
      canvas.fillText(`${what} unit ${uy}: ${fmt(lo[1], 2)} .. ${fmt(hi[1], 2)}`, 4, 12);
      $('p3-legend').textContent = `dots: the states after each symbol of generated strings, coloured by ` +
        `the language's state (0..${max}); large dot: the string below after ${step} symbol(s)`;
      drawString();
      drawProbs();
      drawMachine();
    }

    function drawString() {
      const box = $('p3-string');
      box.textContent = '';
      seq.forEach((k, t) => {
        const cls = t === step - 1 ? 'current' : (t < step ? 'read' : 'unread');
        box.appendChild(make('span', { class: cls }, lang.symbols[k]));
      });
      $('p3-where').textContent = `${step} of ${seq.length} symbols read`;
    }

    function drawProbs() {
      const width = 360, height = 220, symbols = lang.symbols;
      bars.clearRect(0, 0, width, height);
      const table = $('p3-state');
      table.textContent = '';
      if (step === 0) return;
      const predicted = result.probs[step - 1], right = truth[step - 1].probs;
      const slot = (width - 20) / symbols.length, base = height - 24, tall = height - 50;
      symbols.split('').forEach((name, s) => {
        const x = 10 + s * slot;
        bars.fillStyle = '#1f77b4';
        bars.fillRect(x + 4, base - predicted[s] * tall, slot / 2 - 6, predicted[s] * tall);
        if (right) {
          bars.fillStyle = '#ff7f0e';
          bars.fillRect(x + slot / 2, base - right[s] * tall, slot / 2 - 6, right[s] * tall);
        }
        bars.fillStyle = '#333';
        bars.fillText(name, x + slot / 2 - 3, height - 8);
      });
      bars.fillText('blue: predicted, orange: true' + (right ? '' : ' (not determined here)'), 10, 14);
      const rows = [['symbol read', lang.symbols[seq[step - 1]]],
        ['state', truth[step - 1].state === null ? '-' : String(truth[step - 1].state)],
        ['hidden', result.hidden[step - 1].map(v => fmt(v)).join(', ')]];
      if (result.cells) rows.push(['cell', result.cells[step - 1].map(v => fmt(v)).join(', ')]);
      rows.push(['predicted', predicted.map(v => fmt(v, 3)).join(', ')]);
      rows.push(['true', right ? right.map(v => fmt(v, 3)).join(', ') : '-']);
      const state = machineState();
      if (state) rows.push(['machine state', state]);
      for (const [name, value] of rows) {
        const row = make('tr');
        row.appendChild(make('th', {}, name));
        row.appendChild(make('td', {}, value));
        table.appendChild(row);
      }
    }

    const go = to => { step = Math.max(0, Math.min(seq.length, to)); draw(); };
    $('p3-run').addEventListener('change', chooseRun);
    $('p3-slider').addEventListener('input', chooseCheckpoint);
    $('p3-text').addEventListener('input', () => setText($('p3-text').value));
    $('p3-generate').addEventListener('click', generate);
    $('p3-first').addEventListener('click', () => go(0));
    $('p3-back').addEventListener('click', () => go(step - 1));
    $('p3-next').addEventListener('click', () => go(step + 1));
    $('p3-last').addEventListener('click', () => go(seq.length));
    for (const id of ['p3-ux', 'p3-uy', 'p3-cells']) $(id).addEventListener('change', draw);

    $('p3-run').value = runs[0].stem;
    chooseRun();
    api.machineState = machineState;
    return api;
  }

  // language: for the tests, which check its true next symbols against Python's
  return { start, language };
})();
