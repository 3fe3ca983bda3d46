/* global Common */
/* exported Part1 */
// Part 1, draw a character: the student's NetLin, NetFull and NetConv run by a general
// executor in float64 on the saved weights (the steps nnlab/explore/netgraph.py exported),
// what each layer sees, a drawing canvas and a sample of KMNIST's test images.

const Part1 = (() => {
  'use strict';
  const { $, make, softmax, fmt, noteLines } = Common;
  const SIDE = 28, DRAW = 280, FIT = 20;

  function decodeBytes(text) { return Uint8Array.from(atob(text), ch => ch.charCodeAt(0)); }
  const decodeFloats = text => Float64Array.from(new Float32Array(decodeBytes(text).buffer));

  // --- the executor: the steps nnlab/explore/netgraph.py made of the student's exported
  // net, run in float64 on the float32 weights. Every value is a flat Float64Array in
  // torch's row-major order; `shape` and `inShape` are the static shapes torch.export saw
  // (batch 1).

  const product = dims => dims.reduce((a, b) => a * b, 1);

  // y = x W^T (+ b), for each row of x: W (m, k)
  function runLinear(step, x, t) {
    const W = t.values[step.w], [m, k] = t.shapes[step.w], b = step.b ? t.values[step.b] : null;
    const rows = x.length / k, out = new Float64Array(rows * m);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < m; j++) {
        let total = 0.0;
        const at = j * k, from = r * k;
        for (let c = 0; c < k; c++) total += W[at + c] * x[from + c];
        out[r * m + j] = b ? total + b[j] : total;
      }
    }
    return out;
  }

  // 2-d convolution (stride, padding, dilation, groups), as a matrix product: the input
  // values each output position reads are laid out first (a row per weight of a filter,
  // zero where the window leaves the image), so the inner loop runs over all positions.
  function runConv2d(step, x, t) {
    const [, C, H, Wd] = step.inShape, [, O, OH, OW] = step.shape;
    const [kh, kw] = step.kernel, [sh, sw] = step.stride, [ph, pw] = step.padding;
    const [dh, dw] = step.dilation, groups = step.groups;
    const W = t.values[step.w], b = step.b ? t.values[step.b] : null;
    const perIn = C / groups, perOut = O / groups, size = OH * OW, depth = perIn * kh * kw;
    const columns = new Float64Array(depth * size), out = new Float64Array(O * size);
    for (let g = 0; g < groups; g++) {
      if (g > 0) columns.fill(0);
      for (let i = 0; i < perIn; i++) {
        const plane = (g * perIn + i) * H * Wd;
        for (let ky = 0; ky < kh; ky++) {
          for (let kx = 0; kx < kw; kx++) {
            const row = ((i * kh + ky) * kw + kx) * size;
            for (let y = 0; y < OH; y++) {
              const iy = y * sh - ph + ky * dh;
              if (iy < 0 || iy >= H) continue;
              for (let xx = 0; xx < OW; xx++) {
                const ix = xx * sw - pw + kx * dw;
                if (ix >= 0 && ix < Wd) columns[row + y * OW + xx] = x[plane + iy * Wd + ix];
              }
            }
          }
        }
      }
      for (let o = g * perOut; o < (g + 1) * perOut; o++) {
        const at = o * size, base = o * depth;
        let k = 0;
        for (; k + 4 <= depth; k += 4) {      // four rows at a time: a quarter of the stores
          const w0 = W[base + k], w1 = W[base + k + 1], w2 = W[base + k + 2], w3 = W[base + k + 3];
          const r0 = k * size, r1 = r0 + size, r2 = r1 + size, r3 = r2 + size;
          for (let p = 0; p < size; p++) {
            out[at + p] += w0 * columns[r0 + p] + w1 * columns[r1 + p] + w2 * columns[r2 + p]
              + w3 * columns[r3 + p];
          }
        }
        for (; k < depth; k++) {
          const w = W[base + k], row = k * size;
          for (let p = 0; p < size; p++) out[at + p] += w * columns[row + p];
        }
        if (b) for (let p = at; p < at + size; p++) out[p] += b[o];
      }
    }
    return out;
  }

  // 2-d pooling over the last two dimensions, each window read by `reduce(values, y0, y1,
  // x0, x1, plane)` as torch's CPU kernels bound it.
  function pool2d(step, x, reduce) {
    const dims = step.inShape, H = dims[dims.length - 2], W = dims[dims.length - 1];
    const OH = step.shape[step.shape.length - 2], OW = step.shape[step.shape.length - 1];
    const planes = product(dims) / (H * W), out = new Float64Array(planes * OH * OW);
    for (let p = 0; p < planes; p++) {
      for (let oy = 0; oy < OH; oy++) {
        for (let ox = 0; ox < OW; ox++) out[(p * OH + oy) * OW + ox] = reduce(x, p * H * W, oy, ox, H, W);
      }
    }
    return out;
  }

  function runMaxPool2d(step, x) {
    const [kh, kw] = step.kernel, [sh, sw] = step.stride, [ph, pw] = step.padding;
    const [dh, dw] = step.dilation;
    return pool2d(step, x, (v, at, oy, ox, H, W) => {
      let best = -Infinity;
      for (let ky = 0; ky < kh; ky++) {
        const y = oy * sh - ph + ky * dh;
        if (y < 0 || y >= H) continue;
        for (let kx = 0; kx < kw; kx++) {
          const xx = ox * sw - pw + kx * dw;
          if (xx < 0 || xx >= W) continue;
          const value = v[at + y * W + xx];
          if (value > best || Number.isNaN(value)) best = value;
        }
      }
      return best;
    });
  }

  function runAvgPool2d(step, x) {
    const [kh, kw] = step.kernel, [sh, sw] = step.stride, [ph, pw] = step.padding;
    return pool2d(step, x, (v, at, oy, ox, H, W) => {
      let y0 = oy * sh - ph, x0 = ox * sw - pw;
      let y1 = Math.min(y0 + kh, H + ph), x1 = Math.min(x0 + kw, W + pw);
      const padded = (y1 - y0) * (x1 - x0);
      y0 = Math.max(y0, 0); x0 = Math.max(x0, 0); y1 = Math.min(y1, H); x1 = Math.min(x1, W);
      let total = 0.0;
      for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) total += v[at + y * W + xx];
      const divisor = step.divisor ? step.divisor : step.countPad ? padded : (y1 - y0) * (x1 - x0);
      return total / divisor;
    });
  }

  function runAdaptiveAvgPool2d(step, x) {
    const OH = step.shape[step.shape.length - 2], OW = step.shape[step.shape.length - 1];
    return pool2d(step, x, (v, at, oy, ox, H, W) => {
      const y0 = Math.floor(oy * H / OH), y1 = Math.ceil((oy + 1) * H / OH);
      const x0 = Math.floor(ox * W / OW), x1 = Math.ceil((ox + 1) * W / OW);
      let total = 0.0;
      for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) total += v[at + y * W + xx];
      return total / ((y1 - y0) * (x1 - x0));
    });
  }

  // the mean over some dimensions (keepdim or not: the same values in the same order)
  function runMean(step, x) {
    const dims = step.inShape, out = new Float64Array(product(step.shape));
    let count = 1;
    for (const d of step.dims) count *= dims[d];
    for (let k = 0; k < x.length; k++) {
      let rest = k, at = 0, scale = 1;
      for (let d = dims.length - 1; d >= 0; d--) {
        const index = rest % dims[d];
        rest = Math.floor(rest / dims[d]);
        if (!step.dims.includes(d)) { at += index * scale; scale *= dims[d]; }
      }
      out[at] += x[k];
    }
    return out.map(v => v / count);
  }

  // batch normalisation with the running statistics (eval mode); channels are dimension 1
  function runBatchNorm(step, x, t) {
    const channels = step.inShape[1], per = product(step.inShape.slice(2));
    const mean = t.values[step.mean], variance = t.values[step.var];
    const weight = step.weight ? t.values[step.weight] : null;
    const bias = step.bias ? t.values[step.bias] : null;
    const out = new Float64Array(x.length);
    for (let k = 0; k < x.length; k++) {
      const c = Math.floor(k / per) % channels;
      const normal = (x[k] - mean[c]) / Math.sqrt(variance[c] + step.eps);
      out[k] = (weight ? normal * weight[c] : normal) + (bias ? bias[c] : 0);
    }
    return out;
  }

  // (log-)softmax along dimension `dim`
  function runSoftmax(step, x, log) {
    const dims = step.inShape, dim = step.dim < 0 ? step.dim + dims.length : step.dim;
    const n = dims[dim], inner = product(dims.slice(dim + 1)), outer = x.length / (n * inner);
    const out = new Float64Array(x.length);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const at = o * n * inner + i;
        let largest = -Infinity, sum = 0.0;
        for (let j = 0; j < n; j++) largest = Math.max(largest, x[at + j * inner]);
        for (let j = 0; j < n; j++) sum += Math.exp(x[at + j * inner] - largest);
        for (let j = 0; j < n; j++) {
          const shifted = x[at + j * inner] - largest;
          out[at + j * inner] = log ? shifted - Math.log(sum) : Math.exp(shifted) / sum;
        }
      }
    }
    return out;
  }

  const STEPS = {
    same: (s, x) => x,
    linear: runLinear,
    conv2d: runConv2d,
    max_pool2d: runMaxPool2d,
    avg_pool2d: runAvgPool2d,
    adaptive_avg_pool2d: runAdaptiveAvgPool2d,
    mean: runMean,
    batch_norm: runBatchNorm,
    relu: (s, x) => x.map(v => (v > 0 ? v : 0)),
    leaky_relu: (s, x) => x.map(v => (v > 0 ? v : v * s.slope)),
    tanh: (s, x) => x.map(Math.tanh),
    sigmoid: (s, x) => x.map(v => 1 / (1 + Math.exp(-v))),
    log_softmax: (s, x) => runSoftmax(s, x, true),
    softmax: (s, x) => runSoftmax(s, x, false),
  };

  // Every step's output for a 28x28 image (784 values 0..1), normalised as in training:
  // a Map from the step's name to its values.
  function runSteps(net, pixels) {
    const values = new Map([[net.input, Float64Array.from(pixels, v => (v - 0.5) / 0.5)]]);
    for (const step of net.steps) values.set(step.out, STEPS[step.op](step, values.get(step.x), net.tensors));
    return values;
  }

  // Resample a row of `n` values to `m` by area (each output averages what it covers).
  function resampleLine(src, n, m) {
    const out = new Float64Array(m), ratio = n / m;
    for (let j = 0; j < m; j++) {
      const from = j * ratio, to = (j + 1) * ratio;
      let total = 0.0;
      for (let k = Math.floor(from); k < Math.min(n, Math.ceil(to)); k++) {
        total += src[k] * (Math.min(to, k + 1) - Math.max(from, k));
      }
      out[j] = total / ratio;
    }
    return out;
  }

  // A drawing (width x height values 0..1, row-major) as MNIST-style images are made:
  // cropped to its strokes, scaled to fit 20x20 (keeping its proportions), placed in the
  // 28x28 frame with its centre of mass at the centre.
  function preprocess(ink, width, height) {
    let top = height, bottom = -1, left = width, right = -1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (ink[y * width + x] > 0.02) {
          top = Math.min(top, y); bottom = Math.max(bottom, y);
          left = Math.min(left, x); right = Math.max(right, x);
        }
      }
    }
    const frame = new Float64Array(SIDE * SIDE);
    if (bottom < 0) return Array.from(frame);
    const w = right - left + 1, h = bottom - top + 1, scale = FIT / Math.max(w, h);
    const tw = Math.max(1, Math.round(w * scale)), th = Math.max(1, Math.round(h * scale));
    const rows = [];                      // each row of the crop resampled to tw
    for (let y = top; y <= bottom; y++) {
      rows.push(resampleLine(ink.slice(y * width + left, y * width + right + 1), w, tw));
    }
    const small = new Float64Array(tw * th);
    for (let x = 0; x < tw; x++) {
      const column = resampleLine(rows.map(row => row[x]), h, th);
      for (let y = 0; y < th; y++) small[y * tw + x] = Math.min(1, column[y]);
    }
    let mass = 0, cx = 0, cy = 0;
    for (let y = 0; y < th; y++) {
      for (let x = 0; x < tw; x++) {
        const v = small[y * tw + x];
        mass += v; cx += v * (x + 0.5); cy += v * (y + 0.5);
      }
    }
    const dx = Math.round(SIDE / 2 - cx / mass), dy = Math.round(SIDE / 2 - cy / mass);
    for (let y = 0; y < th; y++) {
      for (let x = 0; x < tw; x++) {
        const fy = y + dy, fx = x + dx;
        if (fx >= 0 && fx < SIDE && fy >= 0 && fy < SIDE) frame[fy * SIDE + fx] = small[y * tw + x];
      }
    }
    return Array.from(frame);
  }

  // A 28x28 picture on a canvas; returns the canvas. `shade(k, rgb)` sets pixel k's red,
  // green and blue in `rgb`, one array for all pixels: this runs on every pen stroke.
  function paint(canvas, shade) {
    const context = canvas.getContext('2d'), image = context.createImageData(SIDE, SIDE);
    const rgb = [0, 0, 0];
    for (let k = 0; k < SIDE * SIDE; k++) {
      shade(k, rgb);
      image.data[4 * k] = rgb[0];
      image.data[4 * k + 1] = rgb[1];
      image.data[4 * k + 2] = rgb[2];
      image.data[4 * k + 3] = 255;
    }
    context.putImageData(image, 0, 0);
    return canvas;
  }

  // an image, 0..1 from black to white
  const paintImage = (canvas, pixels) => paint(canvas, (k, rgb) => {
    rgb.fill(Math.round(255 * Math.max(0, Math.min(1, pixels[k]))));
  });

  // values red (positive) or blue (negative), full at +-scale, white at 0
  const paintSigned = (canvas, values, scale) => paint(canvas, (k, rgb) => {
    const a = Math.round(255 * Math.min(1, Math.abs(values[k]) / scale));
    rgb[0] = values[k] > 0 ? 255 : 255 - a;
    rgb[1] = 255 - a;
    rgb[2] = values[k] > 0 ? 255 - a : 255;
  });

  // A net of the data as the executor reads it: its weights decoded to Float64Arrays.
  function loadNet(entry) {
    const graph = entry.graph, tensors = { values: {}, shapes: {} };
    for (const [name, [shape, text]] of Object.entries(graph.tensors)) {
      tensors.values[name] = decodeFloats(text);
      tensors.shapes[name] = shape;
    }
    const shapes = new Map([[graph.input, [1, 1, SIDE, SIDE]]]);
    for (const step of graph.steps) shapes.set(step.out, step.shape);
    return { name: entry.name, hid: entry.hid, input: graph.input, output: graph.output,
      steps: graph.steps, tensors, shapes, layers: graph.layers, evidence: graph.evidence };
  }

  // torch's shape of a value without the batch dimension (the static batch of 1)
  const withoutBatch = shape => (shape.length > 1 && shape[0] === 1 ? shape.slice(1) : shape);

  // What each layer sees: [{name, shape, values}] in call order (docs/explore.md).
  function layersOf(net, pixels, values = runSteps(net, pixels)) {
    return net.layers.map(layer => ({ name: layer.name, shape: withoutBatch(net.shapes.get(layer.node)),
      values: values.get(layer.node) }));
  }

  // Greyscale tiles of one layer's output on a canvas: (C, H, W) as C tiles of H x W,
  // anything else as rows of up to 50 cells; black the layer's lowest value, white its highest.
  function paintLayer(canvas, shape, values) {
    const maps = shape.length === 3, count = maps ? shape[0] : 1;
    const w = maps ? shape[2] : Math.min(values.length, 50);
    const h = maps ? shape[1] : Math.ceil(values.length / w);
    const zoom = maps ? Math.max(1, Math.round(42 / Math.max(h, w))) : Math.min(16, Math.floor(500 / w));
    const across = maps ? Math.min(count, Math.max(1, Math.floor(600 / ((w + 1) * zoom)))) : 1;
    const down = Math.ceil(count / across);
    const width = across * (w + 1) - 1, height = down * (h + 1) - 1;
    if (canvas.width !== width || canvas.height !== height) {   // resizing clears the canvas
      canvas.width = width;
      canvas.height = height;
      canvas.style.width = `${width * zoom}px`;
      canvas.style.height = `${height * zoom}px`;
    }
    let low = Infinity, high = -Infinity;
    for (const v of values) { low = Math.min(low, v); high = Math.max(high, v); }
    const scale = high > low ? 255 / (high - low) : 0;
    const context = canvas.getContext('2d'), image = context.createImageData(width, height);
    const pixels = image.data;
    for (let k = 0; k < pixels.length; k += 4) {    // the gaps between tiles
      pixels[k] = 200; pixels[k + 1] = 210; pixels[k + 2] = 230; pixels[k + 3] = 255;
    }
    for (let c = 0; c < count; c++) {
      const left = (c % across) * (w + 1), top = Math.floor(c / across) * (h + 1);
      for (let y = 0, k = c * h * w; y < h; y++) {
        let at = 4 * ((top + y) * width + left);
        for (let x = 0; x < w && k < values.length; x++, k++, at += 4) {
          const v = ((values[k] - low) * scale + 0.5) | 0;
          pixels[at] = v; pixels[at + 1] = v; pixels[at + 2] = v;
        }
      }
    }
    context.putImageData(image, 0, 0);
    return [low, high];
  }

  function start(data) {
    const nets = new Map(data.nets.map(entry => [entry.name, loadNet(entry)]));
    const get = name => {
      const net = nets.get(name);
      if (!net) throw new Error(`no net ${name}; nets() lists them`);
      return net;
    };
    const checked = pixels => {
      if (!pixels || pixels.length !== SIDE * SIDE) throw new Error('pixels must be 784 numbers 0..1');
      return pixels;
    };
    // class probabilities: the softmax of the net's output (its log-probabilities, or scores)
    const classify = (name, pixels) => {
      const net = get(name);
      return softmax(runSteps(net, checked(pixels)).get(net.output));
    };
    const layers = (name, pixels) => layersOf(get(name), checked(pixels)).map(
      layer => ({ name: layer.name, shape: layer.shape, values: Array.from(layer.values) }));
    const api = { nets: () => [...nets.keys()], classify, layers, preprocess };
    noteLines('p1-notes', data.notes);

    let samples = null;
    if (data.samples) {
      const bytes = decodeBytes(data.samples.pixels);
      samples = data.samples.labels.map((label, k) => ({
        label, pixels: Array.from(bytes.subarray(k * 784, (k + 1) * 784), v => v / 255) }));
    }
    api.samples = () => (samples || []).map(s => ({ label: s.label, pixels: s.pixels }));
    if (!nets.size) { $('p1-body').hidden = true; return api; }

    const draw = $('p1-draw'), pen = draw.getContext('2d');
    let drawing = null;
    for (const name of nets.keys()) $('p1-net').appendChild(make('option', { value: name }, name));
    $('p1-net').value = nets.has('conv') ? 'conv' : [...nets.keys()][0];

    // the class table, each class shown by its first test image
    const bars = [];
    data.classes.forEach((name, c) => {
      const row = make('tr'), cell = make('td');
      const example = samples && samples.find(s => s.label === c);
      if (example) {
        const icon = make('canvas', { width: SIDE, height: SIDE, class: 'pixels icon' });
        cell.appendChild(paintImage(icon, example.pixels));
      }
      const bar = make('td', { class: 'bar' }), fill = make('div'), percent = make('td');
      bar.appendChild(fill);
      row.append(cell, make('td', {}, `${c} ${name}`), bar, percent);
      $('p1-probs').appendChild(row);
      bars.push({ row, fill, percent });
    });

    function input() {
      const image = pen.getImageData(0, 0, DRAW, DRAW).data;
      const ink = new Float64Array(DRAW * DRAW);
      for (let k = 0; k < ink.length; k++) ink[k] = image[4 * k] / 255;
      if ($('p1-centre').checked) return preprocess(ink, DRAW, DRAW);
      const frame = new Array(SIDE * SIDE).fill(0);         // 10x10 blocks averaged
      for (let y = 0; y < DRAW; y++) {
        for (let x = 0; x < DRAW; x++) frame[Math.floor(y / 10) * SIDE + Math.floor(x / 10)] += ink[y * DRAW + x] / 100;
      }
      return frame;
    }

    // what each layer sees, below the drawing; NetLin's weights and evidence
    const seen = make('div', { id: 'p1-layers-box' });
    $('p1-body').after(seen);
    const layerBox = make('div', { id: 'p1-layers' });
    const evidenceBox = make('div', { id: 'p1-evidence' });
    const about = make('div', { class: 'small' }, 'The output of every leaf module and '
      + 'every step of the forward pass, for the image the net sees: each feature map a '
      + 'tile, a vector a row of cells; black is the layer\'s lowest value, white its highest.');
    seen.append(make('h3', {}, 'What each layer sees'), about, evidenceBox, layerBox);
    let shownNet = null, views = [], evidence = null;

    function buildViews(net) {
      layerBox.textContent = '';
      evidenceBox.textContent = '';
      views = net.layers.map(() => {
        const row = make('div', { class: 'layer', style: 'display: inline-block; vertical-align: top; margin: 0 1em 0.6em 0' });
        const label = make('div', { class: 'small' });
        const canvas = make('canvas', { class: 'pixels' });
        row.append(label, canvas);
        layerBox.appendChild(row);
        return { label, canvas };
      });
      evidence = null;
      if (!net.evidence) return;
      evidenceBox.appendChild(make('div', { class: 'small' }, 'Weights of each class (top) and '
        + 'this image\'s evidence for it (below): weight times normalised pixel (x - 0.5) / 0.5, '
        + 'so the black background (-1) counts too, against the weights there. Red positive, '
        + 'blue negative; the number: the sum plus the bias, the class\'s score.'));
      const W = net.tensors.values[net.evidence.w], b = net.evidence.b ? net.tensors.values[net.evidence.b] : null;
      let largest = 0;
      for (const v of W) largest = Math.max(largest, Math.abs(v));
      const table = make('table', { class: 'evidence' }), top = make('tr'), bottom = make('tr');
      const cells = [];
      for (let c = 0; c < 10; c++) {
        const weights = make('canvas', { width: SIDE, height: SIDE, class: 'pixels', style: 'width: 56px' });
        paintSigned(weights, W.subarray(c * SIDE * SIDE, (c + 1) * SIDE * SIDE), largest);
        const cell = make('td', { style: 'text-align: center' });
        cell.append(weights, make('div', {}, `${c} ${data.classes[c]}`));
        top.appendChild(cell);
        const picture = make('canvas', { width: SIDE, height: SIDE, class: 'pixels', style: 'width: 56px' });
        const total = make('div'), under = make('td', { style: 'text-align: center' });
        under.append(picture, total);
        bottom.appendChild(under);
        cells.push({ picture, total });
      }
      table.append(top, bottom);
      evidenceBox.appendChild(table);
      evidence = { W, b, cells, largest };
    }

    function showLayers(net, pixels, values) {
      if (shownNet !== net) { buildViews(net); shownNet = net; }
      layersOf(net, pixels, values).forEach((layer, k) => {
        const [low, high] = paintLayer(views[k].canvas, layer.shape, layer.values);
        views[k].label.textContent = `${layer.name}  ${layer.shape.join('x')}  (${fmt(low, 2)} to ${fmt(high, 2)})`;
      });
      if (!evidence) return;
      const x = Float64Array.from(pixels, v => (v - 0.5) / 0.5);
      evidence.cells.forEach((cell, c) => {
        const parts = new Float64Array(SIDE * SIDE);
        let total = evidence.b ? evidence.b[c] : 0;
        for (let k = 0; k < parts.length; k++) {
          parts[k] = evidence.W[c * SIDE * SIDE + k] * x[k];
          total += parts[k];
        }
        paintSigned(cell.picture, parts, evidence.largest);
        cell.total.textContent = fmt(total, 2);
      });
    }

    function update() {
      const pixels = input();
      paintImage($('p1-input'), pixels);
      const net = get($('p1-net').value), values = runSteps(net, pixels);
      showLayers(net, pixels, values);
      const probs = softmax(values.get(net.output));
      const best = probs.indexOf(Math.max(...probs));
      probs.forEach((p, c) => {
        bars[c].fill.style.width = `${(100 * p).toFixed(1)}%`;
        bars[c].percent.textContent = `${(100 * p).toFixed(1)}%`;
        bars[c].row.className = c === best ? 'top' : '';
      });
    }

    function clear() {
      pen.fillStyle = '#000';
      pen.fillRect(0, 0, DRAW, DRAW);
    }

    function point(event) {
      const box = draw.getBoundingClientRect();
      return [(event.clientX - box.left) * DRAW / box.width, (event.clientY - box.top) * DRAW / box.height];
    }

    draw.addEventListener('pointerdown', event => {
      event.preventDefault();
      draw.setPointerCapture(event.pointerId);
      drawing = point(event);
      pen.fillStyle = '#fff';
      pen.beginPath();
      pen.arc(drawing[0], drawing[1], Number($('p1-pen').value) / 2, 0, 2 * Math.PI);
      pen.fill();
      update();
    });
    draw.addEventListener('pointermove', event => {
      if (!drawing) return;
      const next = point(event);
      pen.strokeStyle = '#fff';
      pen.lineWidth = Number($('p1-pen').value);
      pen.lineCap = 'round';
      pen.beginPath();
      pen.moveTo(drawing[0], drawing[1]);
      pen.lineTo(next[0], next[1]);
      pen.stroke();
      drawing = next;
      update();
    });
    const stop = () => { drawing = null; };
    draw.addEventListener('pointerup', stop);
    draw.addEventListener('pointercancel', stop);
    $('p1-clear').addEventListener('click', () => { clear(); $('p1-centre').checked = true; update(); });
    for (const id of ['p1-net', 'p1-centre']) $(id).addEventListener('change', update);

    // a test image on the canvas, 10x10 pixels each, as it is (no cropping)
    function show(sample) {
      const small = paintImage(make('canvas', { width: SIDE, height: SIDE }), sample.pixels);
      pen.imageSmoothingEnabled = false;
      pen.drawImage(small, 0, 0, DRAW, DRAW);
      $('p1-centre').checked = false;
      update();
    }
    if (samples) {
      samples.forEach((sample, k) => {
        const icon = make('canvas', { width: SIDE, height: SIDE, class: 'pixels sample',
          id: `p1-sample-${k}`, title: data.classes[sample.label] });
        paintImage(icon, sample.pixels);
        icon.addEventListener('click', () => show(sample));
        $('p1-samples').appendChild(icon);
      });
    }
    clear();
    if (samples) show(samples[0]); else update();
    api.shown = () => input();
    return api;
  }

  return { start };
})();
