/* global Common, Part3Engine */
/* exported Part3Train */
// Part 3's train mode: pick a language, model and optimiser (seq_train.py's defaults,
// written into the page from nnlab/recurrent/languages.py), train with Part3Engine in a
// Web Worker (a Blob URL: the page is a file:// page) or, where that fails, in slices of
// at most 8 ms on the page's own thread; watch the checks against the criterion, the
// hidden (or cell) states of fixed strings fold into the language's states, the verdict
// and largest n right; replay the snapshots; save the network for seq_plot.py --weights.

const Part3Train = (() => {
  'use strict';
  const { $, make, fmt, randomSource, say, stateColour, download, unitChoosers,
    scatterAxes } = Common;

  // The training loop both the Worker and the page's own thread run: messages in
  // (start, pause, resume, step), messages out (started, progress, done). `budget` ms per
  // slice (0: up to the next check).
  function loop(engine, post, budget) {
    let trainer = null, running = false, stepping = false, scheduled = false, slices = [];
    const channel = new MessageChannel();
    const schedule = () => { if (!scheduled) { scheduled = true; channel.port2.postMessage(0); } };
    // a message: where the training is, its type and `more`
    const send = (type, more) => post(Object.assign({ done: trainer.done,
      total: trainer.total, verdict: trainer.verdict(), largest: trainer.largest,
      diverged: trainer.diverged, type }, more));
    const paused = () => send('paused', { weights: trainer.theta.slice() });
    function work() {
      scheduled = false;
      if (!trainer || !running) return;
      const begun = performance.now();
      const before = trainer.checks.length;
      trainer.train(engine.CHECK_EVERY, budget ? () => performance.now() - begun > budget : null);
      slices.push(performance.now() - begun);
      const checked = trainer.checks.length > before;
      const finished = trainer.done >= trainer.total || trainer.diverged !== null;
      send('progress', { check: checked ? trainer.checks[before] : null,
        snapshot: checked || finished ? trainer.snapshot() : null });
      if (finished) {
        running = false;
        send('done', { weights: trainer.theta.slice(),
          losses: trainer.losses.slice(0, trainer.done), checks: trainer.checks.slice(), slices });
      } else if (stepping && checked) {
        running = stepping = false;
        paused();
      } else schedule();
    }
    channel.port1.onmessage = work;
    return function receive(message) {
      if (message.type === 'start') {
        try {
          trainer = engine.Trainer(message.config);
          slices = [];
        } catch (err) {
          post({ type: 'error', message: err.message });
          return;
        }
        send('started', { snapshot: trainer.snapshot(), shownState: trainer.shownState,
          weights: trainer.theta.slice() });
        running = !message.paused;
      } else if (message.type === 'pause') {
        running = stepping = false;
        if (trainer) paused();
        return;
      } else if (message.type === 'resume') running = true;
      else if (message.type === 'step') running = stepping = true;
      if (running) schedule();
    };
  }

  // A trainer behind messages: in a Worker made from this page's own scripts (the engine's
  // `settings` as JSON), else (or when `here`) on the page's thread.
  function backendOf(settings, onMessage, here) {
    let worker = null, local = null;
    const source = "'use strict';\n" +
      `const randomSource = ${randomSource};\nconst create = ${Part3Engine.create};\nconst loop = ${loop};\n` +
      `const receive = loop(create(${JSON.stringify(settings)}, randomSource), m => postMessage(m), 0);\n` +
      'onmessage = e => receive(e.data);\n';
    const useLocal = () => {
      if (!local) local = loop(Part3Engine.create(settings, randomSource), m => onMessage(m), 8);
      return local;
    };
    let where = 'worker', sent = [];
    try {
      if (here) throw new Error('asked to train on the page\'s thread');
      const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
      worker = new Worker(url);
      worker.onmessage = e => { sent = null; onMessage(e.data); };
      worker.onerror = e => {
        // a worker that cannot run here (e.g. a browser refusing Blob workers on file://):
        // the same loop on the page's thread, replaying what was asked of it
        e.preventDefault();
        if (sent === null) { onMessage({ type: 'error', message: `the worker failed: ${e.message}` }); return; }
        worker.terminate();
        worker = null;
        where = 'page';
        for (const message of sent) useLocal()(message);
        sent = null;
      };
    } catch {
      worker = null;
      where = 'page';
    }
    return {
      post(message) {
        if (worker) { if (sent) sent.push(message); worker.postMessage(message); } else useLocal()(message);
      },
      get where() { return where; },
      stop() { if (worker) worker.terminate(); },
    };
  }

  function start(data, shownCheckpoint) {
    const languages = data.languages;
    const byName = new Map(languages.map(entry => [entry.name, entry]));
    const engine = Part3Engine.create(data.engine, randomSource);
    const el = id => $(`p3t-${id}`);
    let backend = null, run = null, loaded = null, waiting = null, drawAt = 0, drawPending = false;
    let changed = false;

    for (const entry of languages) el('lang').appendChild(make('option', { value: entry.name }, entry.name));

    // Set the controls: {id: value}.
    function setPanel(values) {
      for (const [id, value] of Object.entries(values)) el(id).value = String(value);
    }

    function fillDefaults() {
      const d = byName.get(el('lang').value).defaults[el('model').value];
      setPanel({ hid: d.hid, optim: d.optim, lr: d.lr, epoch: d.epoch });
    }

    // What the controls ask for or, given `options` (part3.train's), what they say, the
    // missing ones as seq_train.py's defaults (anb2n, srn, the language's settings).
    function settings(given) {
      const fromPanel = !given, options = given || {};
      const name = fromPanel ? el('lang').value : (options.lang || 'anb2n');
      const entry = byName.get(name);
      if (!entry) throw new Error(`unknown language ${name}; choose one of ${[...byName.keys()].join(', ')}`);
      const model = fromPanel ? el('model').value : (options.model || 'srn');
      if (!entry.defaults[model]) throw new Error(`unknown model ${model}; choose srn, lstm or gru`);
      const d = entry.defaults[model];
      const pick = (key, panel, fallback) => (options[key] !== undefined ? options[key] : (fromPanel ? panel : fallback));
      const hid = Number(pick('hid', el('hid').value, d.hid));
      const optim = pick('optim', el('optim').value, d.optim);
      const lr = Number(pick('lr', el('lr').value, d.lr));
      const seed = Number(pick('seed', el('seed').value, 0));
      const examples = Number(options.examples !== undefined ? options.examples
        : (fromPanel ? Number(el('epoch').value) * 1000 : d.epoch * 1000));
      if (!(Number.isInteger(hid) && hid >= 1 && hid <= data.max_hid)) throw new Error(`hidden units must be a whole number 1..${data.max_hid}`);
      if (optim !== 'sgd' && optim !== 'adam') throw new Error('the optimiser is sgd or adam');
      if (!(lr > 0 && Number.isFinite(lr))) throw new Error('the learning rate must be a number above 0');
      if (!(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32)) throw new Error('the seed is a whole number 0..2**32-1');
      if (!(Number.isInteger(examples) && examples >= 1 && examples <= 1e8)) throw new Error('the examples must be a whole number 1..100,000,000');
      let init = null, from = 'seed';
      if (options.init) {
        init = options.init.weights || options.init;
        from = 'given weights';
      } else if (fromPanel && el('init').value === 'checkpoint') {
        const cp = shownCheckpoint();
        if (!cp) throw new Error('no checkpoint is shown in the stepper to start from');
        if (cp.kind !== model || cp.hid !== hid || cp.lang !== name) throw new Error(`the checkpoint shown is ${cp.lang} ${cp.kind} ${cp.hid}: choose that language, model and size to start from it`);
        init = cp.weights;
        from = `checkpoint ${cp.name}`;
      } else if (fromPanel && el('init').value === 'file') {
        if (!loaded) throw new Error('load a saved network first (Load)');
        if (loaded.network.model !== model || loaded.network.hid !== hid || loaded.name !== name) throw new Error(`the loaded file is ${loaded.name} ${loaded.network.model} ${loaded.network.hid}: choose that language, model and size to start from it`);
        init = loaded.weights;
        from = `file ${loaded.file}`;
      }
      const strings = options.strings || null;
      return { entry, name, model, hid, optim, lr, seed, examples: strings ? strings.length : examples,
        init: init ? Float64Array.from(init) : null, from, strings };
    }

    function configOf(s) {
      const d = s.entry.defaults[s.model];
      return { kind: s.model, hid: s.hid, optim: s.optim, lr: s.lr, mom: d.mom,
        weight_decay: d.weight_decay, seed: s.seed, examples: s.examples, language: s.entry.language,
        threshold: s.entry.threshold, consistently: s.entry.consistently, init: s.init,
        srn_std: data.srn_std, strings: s.strings };
    }

    function verdictText(r) {
      const used = Math.min(r.checks.length, engine.VERDICT_CHECKS);
      if (!used) return `${r.s.entry.label}: no check yet (one every ${engine.CHECK_EVERY} examples)`;
      const largest = r.largest === null ? '' : `, largest n right ${r.largest}`;
      return `${r.s.entry.label}: ${r.s.entry.criteria[used - 1]}: ${r.verdict ? 'yes' : 'no'}${largest}`;
    }

    function begin(s, paused, here) {
      if (backend) backend.stop();
      changed = false;
      run = { s, config: configOf(s), checks: [], snapshots: [], largestAt: [], done: 0, total: s.examples,
        // weights known at the start (a checkpoint, a file) are the run's at once: Save right
        // after Load must not wait for the trainer's first message
        verdict: false, largest: null, weights: s.init ? s.init.slice() : null, losses: null,
        began: performance.now(), seconds: null,
        finished: false, state: paused ? 'paused' : 'running', shownState: [] };
      const mine = run;
      backend = backendOf(data.engine, message => receive(mine, message), here);
      backend.post({ type: 'start', config: run.config, paused });
      el('replay').disabled = true;
      if (el('ux').options.length !== s.hid) unitChoosers([el('ux'), el('uy')], s.hid);
      say('p3t-message', '');
      draw(true);
    }

    function receive(r, m) {
      if (r !== run) return;                 // an older run's late message
      if (m.type === 'error') {
        say('p3t-message', m.message);
        r.state = 'stopped';
        if (waiting) { waiting.reject(new Error(m.message)); waiting = null; }
        return;
      }
      r.done = m.done; r.verdict = m.verdict; r.largest = m.largest;
      if (m.weights) r.weights = m.weights;
      if (m.shownState) r.shownState = m.shownState;
      if (m.check !== null && m.check !== undefined) { r.checks.push(m.check); r.largestAt.push(m.largest); }
      if (m.snapshot) r.snapshots.push(m.snapshot);
      if (m.type === 'paused') r.state = 'paused';
      if (m.type === 'done') {
        r.finished = true;
        r.state = 'finished';
        r.seconds = (performance.now() - r.began) / 1000;
        r.losses = m.losses;
        if (m.diverged) say('p3t-message', m.diverged);
        el('replay').max = String(r.snapshots.length - 1);
        el('replay').value = el('replay').max;
        el('replay').disabled = false;
        draw(true);
        if (waiting) {
          const w = waiting;
          waiting = null;
          w.resolve({ weights: Array.from(r.weights), losses: Array.from(r.losses), checks: r.checks.slice(),
            verdict: verdictText(r), success: r.verdict, largest_n_right: r.largest, seconds: r.seconds,
            where: backend.where, slices_ms: m.slices });
        }
        return;
      }
      draw(m.type !== 'progress');
    }

    // --- drawing (throttled: at most every 100 ms while training) --------------------------
    function draw(now) {
      if (!now) {
        if (drawPending) return;
        const wait = Math.max(0, 100 - (performance.now() - drawAt));
        drawPending = true;
        setTimeout(() => requestAnimationFrame(() => { drawPending = false; draw(true); }), wait);
        return;
      }
      drawAt = performance.now();
      if (!run) return;
      const r = run;
      const k = r.finished && !el('replay').disabled ? Number(el('replay').value) : r.snapshots.length - 1;
      const snap = r.snapshots[Math.max(0, k)];
      const upTo = snap ? snap.examples : r.done;
      drawCurve(r, upTo);
      if (snap) drawStates(r, snap);
      el('replay-at').textContent = snap ? `after ${snap.examples.toLocaleString()} examples` : '';
      el('verdict').textContent = verdictText(r);
      const where = backend ? (backend.where === 'worker' ? 'in a Web Worker' : 'on the page\'s thread, in slices') : '';
      const timing = r.seconds !== null ? `, ${r.seconds.toFixed(2)} s` : '';
      el('status').textContent = `${r.state}: ${r.done.toLocaleString()} of ${r.total.toLocaleString()} examples ` +
        `(${r.s.name} ${r.s.model} ${r.s.hid}, ${r.s.optim} lr ${r.s.lr}, from ${r.s.from}${r.s.from === 'seed' ? ` ${r.s.seed}` : ''}) ${where}${timing}`;
    }

    function drawCurve(r, upTo) {
      const ctx = el('curve').getContext('2d'), width = 420, height = 260, pad = 34;
      ctx.clearRect(0, 0, width, height);
      const shown = r.checks.slice(0, Math.floor(upTo / engine.CHECK_EVERY));
      const totalChecks = Math.max(1, Math.ceil(r.total / engine.CHECK_EVERY));
      const threshold = r.s.entry.threshold;
      const finite = shown.filter(Number.isFinite);
      const top = Math.max(threshold * 4, ...finite.slice(-50)) * 1.05;
      const x = i => pad + (i + 1) / totalChecks * (width - pad - 8);
      const y = v => height - pad - Math.min(v, top) / top * (height - pad - 10);
      ctx.strokeStyle = '#ccc';
      ctx.strokeRect(pad + 0.5, 10.5, width - pad - 8, height - pad - 10);
      ctx.strokeStyle = '#d62728';
      ctx.setLineDash([5, 4]);
      ctx.beginPath(); ctx.moveTo(pad, y(threshold)); ctx.lineTo(width - 8, y(threshold)); ctx.stroke();
      ctx.setLineDash([]);
      ctx.strokeStyle = '#1f77b4';
      ctx.beginPath();
      shown.forEach((v, i) => { if (i) ctx.lineTo(x(i), y(v)); else ctx.moveTo(x(i), y(v)); });
      ctx.stroke();
      ctx.fillStyle = '#333';
      ctx.fillText(`${r.s.entry.metric} at each check (every ${engine.CHECK_EVERY} examples); dashed: ${threshold}`, pad, height - 18);
      ctx.fillText(`0 .. ${(r.total / 1000).toLocaleString()}k examples; top ${fmt(top, 3)}`, pad, height - 5);
    }

    function drawStates(r, snap) {
      const hid = r.s.hid, useCells = el('cells').checked && snap.cells;
      const values = useCells ? snap.cells : snap.hidden;
      const ux = Number(el('ux').value), uy = Number(el('uy').value);
      const pairs = Array.from({ length: values.length / hid },
        (_, t) => [values[t * hid + ux], values[t * hid + uy]]);
      // hidden states on tanh's range, -1..1: the folding shows
      const plot = scatterAxes(el('scatter').getContext('2d'), pairs, !useCells);
      const max = r.s.entry.language.max_state;
      pairs.forEach((pair, t) => plot.dot(pair, stateColour(r.shownState[t], max)));
      plot.label(useCells ? 'cell' : 'hidden', ux, uy);
    }

    // --- save and load ------------------------------------------------------------------
    function saveJSON() {
      if (!run || !run.weights) throw new Error('nothing trained yet: start a training first');
      const r = run, s = r.s, d = s.entry.defaults[s.model];
      return {
        format: data.format,
        network: { lang: s.entry.lang, embed: s.entry.embed, length: s.entry.length, model: s.model, hid: s.hid },
        num_symbols: s.entry.language.symbols.length,
        weights: Array.from(r.weights),
        training: { optim: s.optim, lr: s.lr, weight_decay: d.weight_decay, mom: d.mom, init: s.from,
          seed: s.from === 'seed' ? s.seed : null, examples: r.done, check_every: engine.CHECK_EVERY,
          checks: r.checks.map(v => (Number.isFinite(v) ? v : null)), metric: s.entry.metric,
          threshold: s.entry.threshold, success: r.verdict, verdict: verdictText(r),
          largest_n_right: r.largest, seconds: r.seconds, engine: 'explore page (JavaScript, float64)' },
      };
    }

    function save() {
      try {
        const doc = saveJSON(), name = `${run.s.name}_${run.s.model}${run.s.hid}_page.json`;
        download(name, JSON.stringify(doc, null, 1));
        say('p3t-message', `saved ${name}: python3 seq_plot.py --weights ${name} --fsm`);
      } catch (err) {
        say('p3t-message', err.message);
      }
    }

    // A saved network, checked as seq_plot.py checks it; throws with the reason.
    function readNetwork(doc, file) {
      if (!doc || typeof doc !== 'object' || doc.format !== data.format) throw new Error(`${file} is not a network the page saved (format ${data.format})`);
      const n = doc.network || {};
      const name = n.lang === 'reber' && n.embed ? 'reber_embed' : n.lang;
      const entry = byName.get(name);
      if (!entry) throw new Error(`${file}: unknown language ${n.lang}`);
      if (!entry.defaults[n.model]) throw new Error(`${file}: unknown model ${n.model}`);
      if (!(Number.isInteger(n.hid) && n.hid >= 1 && n.hid <= data.max_hid)) throw new Error(`${file}: hid is not a whole number 1..${data.max_hid}`);
      const size = engine.layout(n.model, entry.language.symbols.length, n.hid).size;
      if (!Array.isArray(doc.weights) || doc.weights.length !== size) throw new Error(`${file}: the ${n.model} with ${n.hid} units has ${size} weights`);
      if (!doc.weights.every(v => typeof v === 'number' && Number.isFinite(v))) throw new Error(`${file}: a weight is not a finite number`);
      return { network: n, name, weights: doc.weights, file, training: doc.training || {} };
    }

    function load(file) {
      const reader = new FileReader();
      reader.onload = () => {
        try {
          loaded = readNetwork(JSON.parse(reader.result), file.name);
        } catch (err) {
          say('p3t-message', err instanceof SyntaxError ? `${file.name} is not JSON` : err.message);
          return;
        }
        setPanel({ lang: loaded.name, model: loaded.network.model });
        fillDefaults();
        setPanel({ hid: loaded.network.hid, init: 'file' });
        begin(settings(), true);
        const t = loaded.training;
        say('p3t-message', `loaded ${file.name}` + (t.verdict ? ` (the page showed: ${t.verdict})` : '') +
          ': start trains on from its weights');
      };
      reader.readAsText(file);
    }

    // --- the controls -------------------------------------------------------------------
    const guarded = action => () => {
      try { action(); } catch (err) { say('p3t-message', err.message); }
    };
    for (const id of ['lang', 'model']) el(id).addEventListener('change', fillDefaults);
    // a paused run resumes on start unless a setting changed since it began
    for (const id of ['lang', 'model', 'hid', 'optim', 'lr', 'epoch', 'init', 'seed']) {
      el(id).addEventListener('change', () => { changed = true; });
    }
    el('start').addEventListener('click', guarded(() => {
      if (run && run.state === 'paused' && !changed) { run.state = 'running'; backend.post({ type: 'resume' }); draw(true); } else begin(settings(), false);
    }));
    el('pause').addEventListener('click', () => { if (run && run.state === 'running') backend.post({ type: 'pause' }); });
    el('step').addEventListener('click', guarded(() => {
      if (!run || run.finished || changed) begin(settings(), true);
      run.state = 'running';
      backend.post({ type: 'step' });
    }));
    el('rewind').addEventListener('click', guarded(() => begin(run ? run.s : settings(), true)));
    el('replay').addEventListener('input', () => draw(true));
    for (const id of ['cells', 'ux', 'uy']) el(id).addEventListener('change', () => draw(true));
    el('save').addEventListener('click', save);
    el('load').addEventListener('change', () => { if (el('load').files[0]) load(el('load').files[0]); el('load').value = ''; });
    el('lang').value = languages[0].name;
    fillDefaults();

    return {
      // part3.train(options) -> Promise of {weights, losses, checks, verdict, success,
      // largest_n_right, seconds}: the panel trains as its start button does, animated.
      train(options = {}) {
        const s = settings(options);
        setPanel({ lang: s.name, model: s.model, hid: s.hid, optim: s.optim, lr: s.lr,
          seed: s.seed, epoch: s.examples / 1000 });
        if (waiting) waiting.reject(new Error('another training started'));
        return new Promise((resolve, reject) => {
          waiting = { resolve, reject };
          begin(s, false, options.worker === false);
        });
      },
      saveJSON,
      loadJSON(doc) { loaded = readNetwork(doc, 'the object given'); return loaded.name; },
    };
  }

  return { start };
})();
