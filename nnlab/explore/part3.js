/* global Common, Part3Engine, Part3Train */
/* exported Part3 */
// Part 3, the stepper: the SRN, LSTM and GRU of seq_models.py in float64 on a
// checkpoint's stored weights (laid out as nnlab/recurrent/parameters.py's Layout), run by
// the train mode's engine (part3engine.js), the language's true next-symbol probabilities,
// and a scatter of the hidden states of generated strings. A language's numbers (its
// symbols, Reber's transitions, anb2n.py's P(another A)) come from Python with each
// checkpoint (gather._language).

const Part3 = (() => {
  'use strict';
  const { $, make, fmt, randomSource, say, noteLines, stateColour, unitChoosers,
    scatterAxes } = Common;

  // The language: after every symbol read the state (for colour) and the true next-symbol
  // distribution (null where it is not determined or the text left the language).
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
    };
  }

  function start(data) {
    const runs = data.runs;
    const byName = new Map(runs.flatMap(entry => entry.checkpoints.map(cp => [cp.name, cp])));
    const engine = Part3Engine.create(data.train.engine, randomSource), nets = new Map();

    // The engine's model of a checkpoint and its weights (made once per checkpoint).
    function netOf(cp) {
      if (nets.has(cp.name)) return nets.get(cp.name);
      const l = engine.layout(cp.kind, cp.symbols, cp.hid), w = cp.weights;
      if (l.size !== w.length) {
        throw new Error(`${cp.name}: ${w.length} weights, expected ${l.size}`);
      }
      nets.set(cp.name, { l, model: engine.model(l), theta: Float64Array.from(w) });
      return nets.get(cp.name);
    }

    // The forward pass over symbol indices: per symbol read, the hidden state, the
    // predicted next-symbol probabilities and (LSTM) the cell state, each a list of rows.
    function forward(net, seq) {
      const { hid, symbols } = net.l, out = net.model.states(net.theta, seq);
      const rows = (flat, width) => Array.from(seq, (_, t) =>
        Array.from(flat.subarray(t * width, (t + 1) * width)));
      const result = { hidden: rows(out.hidden, hid), probs: rows(out.probs, symbols) };
      if (out.cells) result.cells = rows(out.cells, hid);
      return result;
    }

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
    // lang: the language's truth; strings: its strings, made by the engine
    let current = null, lang = null, strings = null, seq = [], result = null, truth = [], step = 0;
    let scatter = null, generated = 1, machine = null, machineLines = [];
    const canvas = $('p3-scatter').getContext('2d');
    const bars = $('p3-probs').getContext('2d');

    for (const r of runs) $('p3-run').appendChild(make('option', { value: r.stem }, r.stem));
    const runShown = () => runs.find(item => item.stem === $('p3-run').value) || runs[0];

    function chooseRun() {
      const r = runShown();
      machine = r.machine;
      $('p3-machine-box').hidden = !machine;
      if (machine) {
        machineLines = machine.text.split('\n').map(line => make('span', {}, line + '\n'));
        $('p3-machine').replaceChildren(...machineLines);
      }
      $('p3-slider').max = String(r.checkpoints.length - 1);
      $('p3-slider').value = String(r.checkpoints.length - 1);
      chooseCheckpoint();
    }

    function chooseCheckpoint() {
      const cp = runShown().checkpoints[Number($('p3-slider').value)];
      const first = !current || current.hid !== cp.hid || current.lang !== cp.lang;
      current = shown = cp;
      lang = language(cp.language);
      strings = engine.language(cp.language);
      $('p3-checkpoint').textContent = `${cp.name} (${cp.thousands} thousand examples)`;
      buildScatter();
      if (first) {
        unitChoosers([$('p3-ux'), $('p3-uy')], cp.hid);
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

    // The hidden states of the strings the train mode draws too (n = 1..length for a
    // counting language, 30 random strings for Reber), fed one after another from the
    // initial state as in training.
    function buildScatter() {
      const stream = strings.shown().seq;
      scatter = { out: forward(netOf(current), stream), truth: lang.truth(stream) };
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
      const n = Math.max(1, Math.min(1000, Math.floor(Number($('p3-n').value) || 1)));
      const made = lang.spec.kind === 'reber' ? strings.generate(randomSource(generated++))
        : strings.generate(null, n);
      $('p3-text').value = made.seq.map(k => lang.symbols[k]).join('');
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

    function draw() {
      const useCells = $('p3-cells').checked;
      const ux = Number($('p3-ux').value), uy = Number($('p3-uy').value);
      // each state (or cell state) as its two units shown
      const pairs = out => (useCells && out.cells ? out.cells : out.hidden)
        .map(v => [v[ux], v[uy]]);
      const cloud = pairs(scatter.out), path = pairs(result);
      const all = cloud.concat(path), plot = scatterAxes(canvas, all, !all.length);
      const max = lang.spec.max_state;
      cloud.forEach((v, k) => plot.dot(v, stateColour(scatter.truth[k].state, max)));
      canvas.strokeStyle = 'rgba(0,0,0,0.5)';
      canvas.beginPath();
      for (let t = 0; t < step; t++) {
        if (t) canvas.lineTo(...plot.at(path[t])); else canvas.moveTo(...plot.at(path[t]));
      }
      canvas.stroke();
      if (step > 0) {                       // where the string is: a large dot, outlined
        plot.dot(path[step - 1], stateColour(truth[step - 1].state, max), 8);
        canvas.strokeStyle = '#000';
        canvas.lineWidth = 2;
        canvas.stroke();
        canvas.lineWidth = 1;
      }
      plot.label(useCells ? 'cell' : 'hidden', ux, uy);
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
        row.append(make('th', {}, name), make('td', {}, value));
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
