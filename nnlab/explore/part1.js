'use strict';
// Part 1, draw a character: kuzu.py's NetLin, NetFull and NetConv (eval mode) in float64
// on the saved weights, a drawing canvas and a sample of KMNIST's test images.

const SIDE = 28, DRAW = 280, FIT = 20, BN_EPS = 1e-5;

function decodeFloats(text) {
  const bytes = Uint8Array.from(atob(text), ch => ch.charCodeAt(0));
  return Float64Array.from(new Float32Array(bytes.buffer));
}

function decodeBytes(text) { return Uint8Array.from(atob(text), ch => ch.charCodeAt(0)); }

// out = W x (+ b): W (rows, cols) row-major
function linear(W, b, x, rows, cols) {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let total = 0.0;
    const at = r * cols;
    for (let c = 0; c < cols; c++) total += W[at + c] * x[c];
    out[r] = b ? total + b[r] : total;
  }
  return out;
}

// 3x3 convolution, padding 1, no bias: x (inC, size, size) -> (outC, size, size). The
// input is copied into a zero border first, so the inner loop has no bounds to check.
function conv3(W, x, inC, outC, size) {
  const p = size + 2, padded = new Float64Array(inC * p * p);
  for (let i = 0; i < inC; i++) {
    for (let y = 0; y < size; y++) {
      for (let xx = 0; xx < size; xx++) padded[i * p * p + (y + 1) * p + xx + 1] = x[i * size * size + y * size + xx];
    }
  }
  const out = new Float64Array(outC * size * size);
  for (let o = 0; o < outC; o++) {
    const plane = o * size * size;
    for (let i = 0; i < inC; i++) {
      const base = (o * inC + i) * 9, source = i * p * p;
      for (let ky = 0; ky < 3; ky++) {
        for (let kx = 0; kx < 3; kx++) {
          const w = W[base + ky * 3 + kx];
          for (let y = 0; y < size; y++) {
            const row = plane + y * size, from = source + (y + ky) * p + kx;
            for (let xx = 0; xx < size; xx++) out[row + xx] += w * padded[from + xx];
          }
        }
      }
    }
  }
  return out;
}

function maxPool2(x, channels, size) {
  const half = size / 2, out = new Float64Array(channels * half * half);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < half; y++) {
      for (let xx = 0; xx < half; xx++) {
        const at = c * size * size + 2 * y * size + 2 * xx;
        out[c * half * half + y * half + xx] =
          Math.max(x[at], x[at + 1], x[at + size], x[at + size + 1]);
      }
    }
  }
  return out;
}

// batch normalisation with the running statistics, then relu; `per` values per channel
function normRelu(x, p, name, channels, per) {
  const mean = p[`${name}.running_mean`], variance = p[`${name}.running_var`];
  const weight = p[`${name}.weight`], bias = p[`${name}.bias`];
  for (let c = 0; c < channels; c++) {
    const scale = 1 / Math.sqrt(variance[c] + BN_EPS);
    for (let k = c * per; k < (c + 1) * per; k++) {
      x[k] = Math.max(0, (x[k] - mean[c]) * scale * weight[c] + bias[c]);
    }
  }
  return x;
}

function softmaxOf(logits) {
  const largest = Math.max(...logits);
  const exps = Array.from(logits, v => Math.exp(v - largest));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map(v => v / sum);
}

// Class probabilities of a 28x28 image (784 values 0..1), normalised as in training.
function classifyWith(net, pixels) {
  const p = net.params, x = Float64Array.from(pixels, v => (v - 0.5) / 0.5);
  let logits;
  if (net.name === 'lin') {
    logits = linear(p['fc.weight'], p['fc.bias'], x, 10, SIDE * SIDE);
  } else if (net.name === 'full') {
    const hidden = linear(p['hid.weight'], p['hid.bias'], x, net.hid, SIDE * SIDE).map(Math.tanh);
    logits = linear(p['out.weight'], p['out.bias'], hidden, 10, net.hid);
  } else {
    let a = maxPool2(conv3(p['conv1.weight'], x, 1, 16, 28), 16, 28);
    a = normRelu(a, p, 'bn1', 16, 14 * 14);
    a = maxPool2(conv3(p['conv2.weight'], a, 16, 32, 14), 32, 14);
    a = normRelu(a, p, 'bn2', 32, 7 * 7);
    const f = normRelu(linear(p['fc.weight'], null, a, 128, 32 * 7 * 7), p, 'bn3', 128, 1);
    logits = linear(p['out.weight'], p['out.bias'], f, 10, 128);
  }
  return softmaxOf(logits);
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

function paintImage(canvas, pixels) {
  const context = canvas.getContext('2d'), image = context.createImageData(SIDE, SIDE);
  for (let k = 0; k < SIDE * SIDE; k++) {
    const v = Math.round(255 * Math.max(0, Math.min(1, pixels[k])));
    image.data.set([v, v, v, 255], 4 * k);
  }
  context.putImageData(image, 0, 0);
}

function Part1(data) {
  const nets = new Map();
  for (const net of data.nets) {
    const params = {};
    for (const [name, [, text]] of Object.entries(net.params)) params[name] = decodeFloats(text);
    nets.set(net.name, { name: net.name, hid: net.hid, params });
  }
  const classify = (name, pixels) => {
    const net = nets.get(name);
    if (!net) throw new Error(`no net ${name}; nets() lists them`);
    if (!pixels || pixels.length !== SIDE * SIDE) throw new Error('pixels must be 784 numbers 0..1');
    return classifyWith(net, pixels);
  };
  const api = { nets: () => [...nets.keys()], classify, preprocess };
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
    const row = make('tr');
    const cell = make('td');
    const example = samples && samples.find(s => s.label === c);
    if (example) {
      const icon = make('canvas', { width: SIDE, height: SIDE, class: 'pixels icon' });
      paintImage(icon, example.pixels);
      cell.appendChild(icon);
    }
    row.appendChild(cell);
    row.appendChild(make('td', {}, `${c} ${name}`));
    const bar = make('td', { class: 'bar' }), fill = make('div');
    bar.appendChild(fill);
    row.appendChild(bar);
    const percent = make('td');
    row.appendChild(percent);
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

  function update() {
    const pixels = input();
    paintImage($('p1-input'), pixels);
    const probs = classify($('p1-net').value, pixels);
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
    const small = make('canvas', { width: SIDE, height: SIDE });
    paintImage(small, sample.pixels);
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
