/* exported Part3Engine */
// Part 3's training in the page: seq_train.py's algorithm as nnlab/recurrent/kernels.py
// and trainer.py compute it (one optimiser step per example on the mean next-symbol NLL,
// forward and backward through time written out, SGD or Adam as torch.optim, float64,
// the same order of operations), the check every 1000 examples (the mean squared error
// of a fresh example's predictions against the true probabilities), the verdict and
// largest n right (generalise.py's rule on the weights rounded to float32, as a
// checkpoint stores them).
//
// Part3Engine.create(settings, randomSource) refers to nothing outside itself: the page
// hands its source and randomSource's (common.js) to a Web Worker as they are
// (part3train.js). `settings` are seq_train.py's constants, written into the page by
// gather.engine_settings; a language's P(another A) comes with the language.

const Part3Engine = (() => {
  'use strict';

  function create(settings, randomSource) {
    const GATES = { srn: 1, lstm: 4, gru: 3 };
    const STRINGS_PER_EXAMPLE = settings.strings_per_example;
    const CHECK_EVERY = settings.check_every;
    const VERDICT_CHECKS = settings.verdict_checks;
    const ADAM_BETA1 = settings.adam.beta1, ADAM_BETA2 = settings.adam.beta2, ADAM_EPS = settings.adam.eps;
    const GENERALISE_N = settings.generalise_n;

    const sigmoid = x => 1.0 / (1.0 + Math.exp(-x));

    // A^n B^(k1 n) [C^(k2 n)] as symbol indices (anb2n.py's string for n)
    function countingString(multiples, n) {
      const seq = new Array(n).fill(0);
      multiples.forEach((k, p) => { for (let i = 0; i < k * n; i++) seq.push(p + 1); });
      return seq;
    }

    // Where each parameter sits in the flat vector (parameters.py's Layout).
    function layout(kind, symbols, hid) {
      const width = GATES[kind] * hid;
      let at = 0;
      const take = size => { const start = at; at += size; return start; };
      const l = { kind, symbols, hid, width };
      l.H0 = kind === 'srn' ? take(hid) : -1;
      l.W = take(symbols * width);
      l.U = take(hid * width);
      l.bias = take(width);
      l.V = take(hid * symbols);
      l.outBias = take(symbols);
      l.size = at;
      return l;
    }

    // seq_train's initial weights, drawn from the page's own generator: the SRN normal(0,
    // init std), the LSTM and GRU uniform +-1/sqrt(hid) (kernels.initial_weights).
    function initialWeights(l, seed, srnStd) {
      const source = randomSource(seed * 3 + 2);
      const theta = new Float64Array(l.size);
      const bound = 1.0 / Math.sqrt(l.hid);
      for (let p = 0; p < l.size; p++) {
        theta[p] = l.kind === 'srn' ? srnStd * source.normal() : bound * (2 * source.uniform() - 1);
      }
      return theta;
    }

    // --- the languages (anb2n.py, reber.py): examples of 5 strings, true probabilities --
    function language(spec) {
      const S = spec.symbols.length;
      if (spec.kind === 'reber') {
        const next = spec.next, legal = next.map(row => row.filter(to => to >= 0).length);
        // one example: seq, and per position the node reached (its legal symbols equally likely)
        const sample = source => {
          const seq = [], state = [];
          let node = 0, done = 0;
          while (done < STRINGS_PER_EXAMPLE) {
            const pick = Math.floor(source.uniform() * legal[node]);
            let symbol = -1, seen = 0;
            for (let s = 0; s < S; s++) {
              if (next[node][s] >= 0 && seen++ === pick) { symbol = s; break; }
            }
            node = next[node][symbol];
            seq.push(symbol);
            state.push(node);
            if (node === 0) done += 1;
          }
          return { seq, state };
        };
        const probsOf = state => {
          const rows = new Float64Array(state.length * S);
          state.forEach((node, t) => {
            for (let s = 0; s < S; s++) rows[t * S + s] = next[node][s] >= 0 ? 1 / legal[node] : 0;
          });
          return rows;
        };
        // a random string (the stepper's Generate; at most 1000 symbols), the node reached
        // after each symbol
        const generate = source => {
          const seq = [], state = [];
          let node = 0;
          do {
            const choices = next[node].map((to, s) => [to, s]).filter(([to]) => to >= 0);
            const [to, symbol] = choices[Math.floor(source.uniform() * choices.length)];
            seq.push(symbol); state.push(to); node = to;
          } while (node !== 0 && seq.length < 1000);
          return { seq, state };
        };
        // the strings whose states are drawn: 30 random ones (seed 1) in a row
        const shown = () => {
          const source = randomSource(1);
          const strings = Array.from({ length: 30 }, () => generate(source));
          return { seq: strings.flatMap(s => s.seq), state: strings.flatMap(s => s.state) };
        };
        return { S, sample, probsOf, generate, shown, counting: false };
      }
      const multiples = spec.multiples, L = spec.length, P_MORE_A = spec.p_more_a;
      // the string for n: symbols, the true next-symbol rows and the states (anb2n.py's templates)
      const templates = [];
      for (let n = 1; n <= L; n++) {
        const seq = countingString(multiples, n);
        const rows = new Float64Array(seq.length * S), state = new Array(seq.length);
        for (let k = 1; k <= n; k++) {
          if (k < L) { rows[(k - 1) * S] = P_MORE_A; rows[(k - 1) * S + 1] = 1 - P_MORE_A; } else rows[(k - 1) * S + 1] = 1;
          state[k - 1] = k;
        }
        for (let t = n; t < seq.length; t++) {
          rows[t * S + (t + 1 < seq.length ? seq[t + 1] : 0)] = 1;
          let left = 0;
          for (let u = t + 1; u < seq.length; u++) if (seq[u] === seq[t]) left++;
          state[t] = left;
        }
        templates.push({ seq, rows, state });
      }
      // n = min(Geometric(0.2), length): after each A another with 0.8 while n < length
      const drawN = source => {
        let n = 1;
        while (n < L && source.uniform() < P_MORE_A) n++;
        return n;
      };
      const sample = source => {
        const seq = [], state = [], ns = [];
        for (let k = 0; k < STRINGS_PER_EXAMPLE; k++) {
          const n = drawN(source);
          ns.push(n);
          seq.push(...templates[n - 1].seq);
          state.push(...templates[n - 1].state);
        }
        return { seq, state, ns };
      };
      const probsOf = (state, seq) => {
        // rows of the templates, string by string
        const rows = new Float64Array(seq.length * S);
        let t = 0;
        while (t < seq.length) {
          let n = 0;
          while (seq[t + n] === 0) n++;
          const tpl = templates[n - 1];
          rows.set(tpl.rows, t * S);
          t += tpl.seq.length;
        }
        return rows;
      };
      // the string for any n (the stepper's Generate); the strings whose states are drawn:
      // n = 1..length in a row
      const generate = (source, n) => ({ seq: countingString(multiples, n) });
      const shown = () => ({ seq: templates.flatMap(tpl => tpl.seq),
        state: templates.flatMap(tpl => tpl.state) });
      return { S, sample, probsOf, generate, shown, counting: true };
    }

    // --- the networks, forward and backward through time (kernels.py) --------------------
    function model(l) {
      const { kind, symbols: S, hid, width } = l;
      let longest = 0, hidden, probs, cell, gates, cellTanh, hiddenN;
      const dh = new Float64Array(hid), da = new Float64Array(width), carry = new Float64Array(hid);
      const dc = new Float64Array(hid), dRec = new Float64Array(width), rec = new Float64Array(width);
      const dlogit = new Float64Array(S);
      const grad = new Float64Array(l.size);

      function ensure(length) {
        if (length <= longest) return;
        longest = Math.max(length, 2 * longest);
        hidden = new Float64Array(longest * hid);
        probs = new Float64Array(longest * S);
        cell = new Float64Array(longest * hid);
        gates = new Float64Array(longest * width);
        cellTanh = new Float64Array(longest * hid);
        hiddenN = new Float64Array(longest * hid);
      }

      // softmax(h V + out_bias) into probs row t; -log_softmax(...)[target]
      function output(theta, t, target) {
        const hAt = (t + 1) * hid, row = t * S;
        let largest = -Infinity;
        for (let s = 0; s < S; s++) {
          let logit = 0.0;
          for (let j = 0; j < hid; j++) logit += hidden[hAt + j] * theta[l.V + j * S + s];
          probs[row + s] = logit + theta[l.outBias + s];
          largest = Math.max(largest, probs[row + s]);
        }
        let total = 0.0;
        const targetLogit = probs[row + target];
        for (let s = 0; s < S; s++) { probs[row + s] = Math.exp(probs[row + s] - largest); total += probs[row + s]; }
        for (let s = 0; s < S; s++) probs[row + s] /= total;
        return -(targetLogit - largest - Math.log(total));
      }

      // gradient of step t's output into grad; dh = V dlogit + carry
      function outputBackward(theta, t, target, scale) {
        const hAt = (t + 1) * hid, row = t * S;
        for (let s = 0; s < S; s++) {
          dlogit[s] = probs[row + s] * scale;
          if (s === target) dlogit[s] -= scale;
          grad[l.outBias + s] += dlogit[s];
        }
        for (let j = 0; j < hid; j++) {
          let acc = 0.0;
          for (let s = 0; s < S; s++) {
            grad[l.V + j * S + s] += hidden[hAt + j] * dlogit[s];
            acc += theta[l.V + j * S + s] * dlogit[s];
          }
          dh[j] = acc + carry[j];
        }
      }

      const recurrentInput = (theta, t, k) => {
        let total = 0.0;
        for (let i = 0; i < hid; i++) total += hidden[t * hid + i] * theta[l.U + i * width + k];
        return total;
      };

      function forward(theta, seq, n) {
        const steps = n - 1;
        ensure(n);
        let loss = 0.0;
        if (kind === 'srn') {
          for (let j = 0; j < hid; j++) hidden[j] = Math.tanh(theta[l.H0 + j]);
          for (let t = 0; t < steps; t++) {
            const x = seq[t];
            for (let j = 0; j < hid; j++) {
              hidden[(t + 1) * hid + j] = Math.tanh((theta[l.W + x * width + j] + theta[l.bias + j]) + recurrentInput(theta, t, j));
            }
            loss += output(theta, t, seq[t + 1]);
          }
        } else if (kind === 'lstm') {
          for (let j = 0; j < hid; j++) { hidden[j] = 0.0; cell[j] = 0.0; }
          for (let t = 0; t < steps; t++) {
            const x = seq[t], g = t * width;
            for (let k = 0; k < width; k++) {
              const z = (theta[l.W + x * width + k] + theta[l.bias + k]) + recurrentInput(theta, t, k);
              gates[g + k] = (2 * hid <= k && k < 3 * hid) ? Math.tanh(z) : sigmoid(z);
            }
            for (let j = 0; j < hid; j++) {
              const c = gates[g + hid + j] * cell[t * hid + j] + gates[g + j] * gates[g + 2 * hid + j];
              cell[(t + 1) * hid + j] = c;
              cellTanh[t * hid + j] = Math.tanh(c);
              hidden[(t + 1) * hid + j] = gates[g + 3 * hid + j] * cellTanh[t * hid + j];
            }
            loss += output(theta, t, seq[t + 1]);
          }
        } else {
          for (let j = 0; j < hid; j++) hidden[j] = 0.0;
          for (let t = 0; t < steps; t++) {
            const x = seq[t], g = t * width, w = l.W + x * width;
            for (let k = 0; k < width; k++) rec[k] = recurrentInput(theta, t, k);
            for (let j = 0; j < hid; j++) {
              const r = sigmoid((theta[w + j] + theta[l.bias + j]) + rec[j]);
              const z = sigmoid((theta[w + hid + j] + theta[l.bias + hid + j]) + rec[hid + j]);
              const nn = Math.tanh((theta[w + 2 * hid + j] + theta[l.bias + 2 * hid + j]) + r * rec[2 * hid + j]);
              gates[g + j] = r; gates[g + hid + j] = z; gates[g + 2 * hid + j] = nn;
              hiddenN[t * hid + j] = rec[2 * hid + j];
              hidden[(t + 1) * hid + j] = (1.0 - z) * nn + z * hidden[t * hid + j];
            }
            loss += output(theta, t, seq[t + 1]);
          }
        }
        return loss / steps;
      }

      // Step t's pre-activations x W + hid_bias (gradient dIn) and h U (dRec) backward:
      // into W's row x, hid_bias and U; carry = what h_{t-1} receives (the GRU's h_{t-1}
      // also passes straight on, times z: `through`).
      function preActivationBackward(theta, x, t, dIn, dOfRec, through) {
        for (let k = 0; k < width; k++) { grad[l.W + x * width + k] += dIn[k]; grad[l.bias + k] += dIn[k]; }
        for (let i = 0; i < hid; i++) {
          let back = through ? dh[i] * gates[t * width + hid + i] : 0.0;
          for (let k = 0; k < width; k++) {
            grad[l.U + i * width + k] += hidden[t * hid + i] * dOfRec[k];
            back += theta[l.U + i * width + k] * dOfRec[k];
          }
          carry[i] = back;
        }
      }

      // the gradient of the example just run forward, into grad
      function backward(theta, seq, n) {
        const steps = n - 1, scale = 1.0 / steps;
        grad.fill(0.0);
        carry.fill(0.0);
        dc.fill(0.0);
        for (let t = steps - 1; t >= 0; t--) {
          outputBackward(theta, t, seq[t + 1], scale);
          const x = seq[t], g = t * width;
          if (kind === 'srn') {
            for (let j = 0; j < hid; j++) {
              const h = hidden[(t + 1) * hid + j];
              da[j] = dh[j] * (1.0 - h * h);
            }
          } else if (kind === 'lstm') {
            for (let j = 0; j < hid; j++) {
              const iG = gates[g + j], fG = gates[g + hid + j], gG = gates[g + 2 * hid + j], oG = gates[g + 3 * hid + j];
              const tc = cellTanh[t * hid + j];
              const dCell = dc[j] + dh[j] * oG * (1.0 - tc * tc);
              da[j] = dCell * gG * iG * (1.0 - iG);
              da[hid + j] = dCell * cell[t * hid + j] * fG * (1.0 - fG);
              da[2 * hid + j] = dCell * iG * (1.0 - gG * gG);
              da[3 * hid + j] = dh[j] * tc * oG * (1.0 - oG);
              dc[j] = dCell * fG;
            }
          } else {
            for (let j = 0; j < hid; j++) {
              const r = gates[g + j], z = gates[g + hid + j], nn = gates[g + 2 * hid + j];
              const dN = dh[j] * (1.0 - z) * (1.0 - nn * nn);
              const dR = dN * hiddenN[t * hid + j] * r * (1.0 - r);
              const dZ = dh[j] * (hidden[t * hid + j] - nn) * z * (1.0 - z);
              da[j] = dR; da[hid + j] = dZ; da[2 * hid + j] = dN;
              dRec[j] = dR; dRec[hid + j] = dZ; dRec[2 * hid + j] = dN * r;
            }
          }
          preActivationBackward(theta, x, t, da, kind === 'gru' ? dRec : da, kind === 'gru');
        }
        if (kind === 'srn') {
          for (let j = 0; j < hid; j++) grad[l.H0 + j] = carry[j] * (1.0 - hidden[j] * hidden[j]);
        }
        return grad;
      }

      // The states after each symbol of seq (all of it read): hidden, cells (LSTM), probs.
      function states(theta, seq) {
        const n = seq.length + 1, padded = Int32Array.from([...seq, 0]);
        forward(theta, padded, n);
        return { hidden: hidden.slice(hid, n * hid), cells: kind === 'lstm' ? cell.slice(hid, n * hid) : null,
          probs: probs.slice(0, seq.length * S) };
      }

      return { forward, backward, states, grad };
    }

    // torch.optim.SGD / Adam on the flat vector (compiled.py's sgd_step and adam_step)
    function optimiser(kind, size, lr, mom, weightDecay) {
      const first = new Float64Array(size), second = new Float64Array(size);
      let steps = 0;
      function step(theta, grad) {
        steps += 1;
        if (kind === 'sgd') {
          for (let p = 0; p < size; p++) {
            let g = grad[p];
            if (weightDecay !== 0.0) g += weightDecay * theta[p];
            if (mom !== 0.0) { first[p] = mom * first[p] + g; g = first[p]; }
            theta[p] -= lr * g;
          }
          return;
        }
        const stepSize = lr / (1.0 - ADAM_BETA1 ** steps);
        const correction2Sqrt = Math.sqrt(1.0 - ADAM_BETA2 ** steps);
        for (let p = 0; p < size; p++) {
          let g = grad[p];
          if (weightDecay !== 0.0) g += weightDecay * theta[p];
          first[p] += (1.0 - ADAM_BETA1) * (g - first[p]);
          second[p] = second[p] * ADAM_BETA2 + (1.0 - ADAM_BETA2) * g * g;
          const denom = Math.sqrt(second[p]) / correction2Sqrt + ADAM_EPS;
          theta[p] += -stepSize * (first[p] / denom);
        }
      }
      return { step, get steps() { return steps; } };
    }

    // generalise.py's rule on the float32-rounded weights: the strings n = 1, 2, ... until
    // the first one the network is wrong on (at most GENERALISE_N): largest n right.
    function largestNRight(l, theta, multiples, limit = GENERALISE_N) {
      const stored = Float64Array.from(theta, Math.fround);
      const net = model(l);
      for (let n = 1; n <= limit; n++) {
        const seq = countingString(multiples, n);
        seq.push(0);
        const out = net.states(stored, seq.slice(0, -1));
        for (let i = n + 1; i < seq.length; i++) {           // the determined positions
          const row = (i - 1) * l.symbols, target = seq[i];
          const right = Number.isFinite(out.probs[row + target]) ? out.probs[row + target] : 0;
          for (let s = 0; s < l.symbols; s++) {
            if (s !== target && !(right > out.probs[row + s])) return n - 1;
          }
        }
      }
      return limit;
    }

    // One run of training. config: {kind, hid, optim, lr, mom, weight_decay, seed, examples,
    // language (gather's description), threshold, consistently, init (Float64Array or
    // null), srn_std, strings (optional list of examples to train on)}.
    function Trainer(config) {
      const lang = language(config.language);
      const l = layout(config.kind, lang.S, config.hid);
      const theta = config.init ? Float64Array.from(config.init) : initialWeights(l, config.seed, config.srn_std);
      if (theta.length !== l.size) throw new Error(`initial weights: ${theta.length} numbers, the ${config.kind} with ${config.hid} units has ${l.size}`);
      const net = model(l);
      const opt = optimiser(config.optim, l.size, config.lr, config.mom || 0, config.weight_decay);
      const total = config.strings ? config.strings.length : config.examples;
      const losses = new Float64Array(total);
      const dataSource = randomSource(config.seed * 3), checkSource = randomSource(config.seed * 3 + 1);
      const checks = [];
      let done = 0, diverged = null, largest = null;
      let buffer = new Int32Array(64);

      // the fixed strings whose states are drawn (the stepper's too), fed from the initial state
      const { seq: shown, state: shownState } = lang.shown();

      function example() {
        const seq = config.strings ? config.strings[done] : lang.sample(dataSource).seq;
        if (seq.length > buffer.length) buffer = new Int32Array(2 * seq.length);
        for (let t = 0; t < seq.length; t++) buffer[t] = seq[t];
        return seq.length;
      }

      function check() {
        const ex = lang.sample(checkSource);
        const out = net.states(theta, ex.seq.slice(0, -1));
        const truth = lang.probsOf(ex.state, ex.seq);
        let sum = 0.0;
        const count = (ex.seq.length - 1) * lang.S;
        for (let i = 0; i < count; i++) { const d = out.probs[i] - truth[i]; sum += d * d; }
        const error = sum / count;
        checks.push(error);
        if (!Number.isFinite(error)) diverged = `training diverged by step ${done}: the outputs are no longer numbers; lower the learning rate (now ${config.lr})`;
        if (lang.counting) largest = largestNRight(l, theta, config.language.multiples);
      }

      // Train up to `count` more examples, stopping after a check (every 1000) or when
      // `until()` says so.
      function train(count, until) {
        const stop = Math.min(total, done + count);
        while (done < stop && !diverged) {
          const n = example();
          if (n < 2) throw new Error(`example ${done} has ${n} symbol(s): an example needs at least 2`);
          losses[done] = net.forward(theta, buffer, n);
          net.backward(theta, buffer, n);
          opt.step(theta, net.grad);
          done += 1;
          if (done % CHECK_EVERY === 0) { check(); break; }
          if (until && until()) break;
        }
      }

      function verdict() {
        const recent = checks.slice(-VERDICT_CHECKS);
        if (!recent.length || !recent.every(Number.isFinite)) return false;
        const worst = config.consistently ? Math.max(...recent) : recent.reduce((a, b) => a + b, 0) / recent.length;
        return worst < config.threshold;
      }

      function snapshot() {
        const out = net.states(theta, shown);
        return { examples: done, hidden: out.hidden, cells: out.cells };
      }

      return {
        theta, losses, checks, train, verdict, snapshot, shownState,
        get done() { return done; }, get total() { return total; },
        get diverged() { return diverged; }, get largest() { return largest; },
      };
    }

    return { Trainer, language, layout, model, CHECK_EVERY, VERDICT_CHECKS };
  }

  return { create };
})();
