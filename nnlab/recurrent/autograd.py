"""seq_models.py's models trained as written: building them, the probe against the
compiled kernels, and PyTorch autograd training for a model the kernels do not compute
(nnlab/engine.py says when).

Training here is the kernels' (kernels.train), step for step: one example per optimiser
step, the mean NLL of the next symbols, torch.optim.SGD or Adam, float64. Each run's
parameters are views of its row of the trainer's weight array, so the trainer's
checkpoints, checks and records work unchanged. So the shipped seq_models.py trained
here prints the kernels' numbers, only slower.
"""
import contextlib
import copy

import numpy as np
import torch
import torch.nn.functional as F

from nnlab import engine, student
from nnlab.cli import UserError
from nnlab.recurrent import kernels
from nnlab.recurrent.languages import MODEL_CLASSES

PROBE_SEED = 20240607        # the probe's own weights and examples: --seed's numbers stay
PROBE_EXAMPLES = 3


@contextlib.contextmanager
def float64():
    """New tensors default to float64 while the block runs."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(before)


def model_class(kind):
    name = MODEL_CLASSES[kind]
    return getattr(student.load('seq_models', need=(name,)), name)


def build(kind, num_input, hid, num_out, init=None, generator=None, dtype=None):
    """The student's model of `kind`, constructed as the file says (with `init` and
    `generator` where its constructor takes them; else on a fork of torch's global
    generator, seeded from `generator`, so the run's own random numbers do not move)."""
    cls = model_class(kind)
    given = {name: value for name, value in (('init', init), ('generator', generator))
             if value is not None and student.accepts(cls, name)}
    with contextlib.ExitStack() as stack:
        if dtype == torch.float64:
            stack.enter_context(float64())
        if generator is not None and 'generator' not in given:
            stack.enter_context(torch.random.fork_rng(devices=[]))
            torch.manual_seed(generator.initial_seed())
        model = student.call('seq_models', f'{cls.__name__}.__init__', cls, num_input, hid,
                             num_out, **given)
    return model if dtype is None else model.to(dtype)


def parameters_problem(model, layout):
    """None when the model's parameters are the course's (names, order, shapes), else why."""
    try:
        layout.from_model(model)
    except ValueError as err:
        return str(err)
    return None


def checked_layout(model, layout, what):
    problem = parameters_problem(model, layout)
    if problem:
        raise UserError(f"{student.path('seq_models')}'s {what}: {problem}; the toolkit "
                        f"trains and analyses the course's parameters (docs/your-code.md)")
    return layout


def one_hot(seq, num_symbols):
    """(1, T-1, S) float64 inputs of an example's symbols but the last."""
    return F.one_hot(torch.as_tensor(seq[:-1], dtype=torch.int64),
                     num_symbols).to(torch.float64).unsqueeze(0)


def outputs(model, seq, num_symbols):
    """(hidden (T-1, hid), logits (T-1, S)) of the model reading one example."""
    result = model(one_hot(seq, num_symbols))
    if not isinstance(result, tuple) or len(result) < 2:
        raise UserError(f"{student.path('seq_models')}'s {type(model).__name__}.forward "
                        f"returns {type(result).__name__}; it should return (hidden "
                        f"sequence, output logits)")
    hidden, logits = result[0], result[1]
    steps = len(seq) - 1
    if tuple(logits.shape) != (1, steps, num_symbols):
        raise UserError(f"{student.path('seq_models')}'s {type(model).__name__}.forward "
                        f"returns logits of shape {tuple(logits.shape)} for one example of "
                        f"{steps} steps; expected (1, {steps}, {num_symbols})")
    return hidden[0], logits[0]


def probe(kind, layout, lang):
    """None where the student's model of `kind` computes the kernel's loss, gradient and
    hidden states (to engine.TOLERANCE) on random weights and examples, else what
    differed, in words. Its own random numbers: --seed's stay where they were."""
    with student.blame('seq_models', None, 'comparing the model with the compiled kernel'):
        model = build(kind, layout.num_symbols, layout.hid, layout.num_symbols,
                      generator=torch.Generator().manual_seed(PROBE_SEED),
                      dtype=torch.float64).eval()
        problem = parameters_problem(model, layout)
        if problem:
            return f"its parameters differ from the course's ({problem})"
        rng = np.random.default_rng(PROBE_SEED)
        row = rng.normal(0.0, 0.5, layout.size)
        layout.to_model(row, model)
        params = list(model.parameters())
        differences = {}
        for ex in lang.sample_many(rng, PROBE_EXAMPLES):
            want_loss, want_grad = kernels.loss_and_grad(kind, layout, row, ex.seq)
            want_hidden, _, _ = kernels.forward(kind, layout, row, ex.seq)
            model.zero_grad()
            hidden, logits = outputs(model, ex.seq, layout.num_symbols)
            loss = F.cross_entropy(logits, torch.as_tensor(ex.seq[1:], dtype=torch.int64))
            loss.backward()
            grad = np.concatenate([np.zeros(p.numel()) if p.grad is None
                                   else p.grad.detach().numpy().ravel() for p in params])
            found = [('the loss', abs(loss.item() - want_loss)),
                     ('the hidden states',
                      float(np.max(np.abs(hidden.detach().numpy() - want_hidden))))]
            found += [(f'the gradient of {name}',
                       float(np.max(np.abs(grad[start:stop] - want_grad[start:stop]))))
                      for name, (start, stop, _) in layout.offsets.items()]
            for what, value in found:
                differences[what] = max(differences.get(what, 0.0), value) \
                    if value == value else float('nan')
    return engine.differences_text(list(differences.items()))


def initial_weights(kind, layout, init, seed):
    """Run `seed`'s initial weights (P,) drawn by the student's own code (a torch
    generator from the seed), for a model whose initialisation is not the shipped one."""
    generator = torch.Generator().manual_seed(seed)
    model = build(kind, layout.num_symbols, layout.hid, layout.num_symbols, init=init,
                  generator=generator)
    return checked_layout(model, layout, MODEL_CLASSES[kind]).from_model(model)


def _bind(model, layout, row):
    """Make the model's parameters views of `row` (P,) float64: an update of one is an
    update of the other."""
    for name, param in model.named_parameters():
        start, stop, shape = layout.offsets[name]
        param.data = torch.from_numpy(row[start:stop]).view(shape)


class Engine:
    """K runs of the student's model trained by autograd, on the weights `theta` (K, P)
    (views of its rows), each with its own optimiser."""

    def __init__(self, kind, layout, theta, optim, lr, mom=0.0, weight_decay=0.0):
        self.kind, self.layout, self.theta = kind, layout, theta
        self.models, self.optimisers = [], []
        for k in range(theta.shape[0]):
            model = build(kind, layout.num_symbols, layout.hid, layout.num_symbols,
                          generator=torch.Generator().manual_seed(0), dtype=torch.float64)
            checked_layout(model, layout, MODEL_CLASSES[kind])
            _bind(model, layout, theta[k])
            params = list(model.parameters())
            self.models.append(model)
            self.optimisers.append(
                torch.optim.SGD(params, lr=lr, momentum=mom, weight_decay=weight_decay)
                if optim == 'sgd' else
                torch.optim.Adam(params, lr=lr, weight_decay=weight_decay))

    def train(self, symbols, starts):
        """kernels.train's work: one optimiser step per example; the losses (K, n)."""
        losses = np.zeros((len(self.models), starts.shape[1] - 1))
        with engine.one_torch_thread(), \
                student.blame('seq_models', None, 'training with PyTorch autograd'):
            for k, (model, optimiser) in enumerate(zip(self.models, self.optimisers)):
                for e in range(starts.shape[1] - 1):
                    seq = symbols[starts[k, e]:starts[k, e + 1]]
                    optimiser.zero_grad()
                    _, logits = outputs(model, seq, self.layout.num_symbols)
                    loss = F.cross_entropy(logits, torch.as_tensor(seq[1:], dtype=torch.int64))
                    loss.backward()
                    optimiser.step()
                    losses[k, e] = loss.item()
        return losses

    def forward(self, k, seq):
        """kernels.forward's result for run k: hidden (T-1, hid), probabilities (T-1, S)."""
        with torch.no_grad(), engine.one_torch_thread(), \
                student.blame('seq_models', None, 'a check example'):
            hidden, logits = outputs(self.models[k], seq, self.layout.num_symbols)
            return hidden.numpy().copy(), torch.softmax(logits, -1).numpy().copy(), None


def models_of(kind, layout, theta):
    """Float64 copies of the student's model holding each row of `theta` (R, P)."""
    found = []
    for row in np.atleast_2d(theta):
        model = build(kind, layout.num_symbols, layout.hid, layout.num_symbols,
                      generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        found.append(checked_layout(model, layout, MODEL_CLASSES[kind])
                     .to_model(row, model).eval())
    return found


def probabilities(model, symbols, num_symbols):
    """Softmax outputs (B, T-1, S) of the model reading each row of `symbols` (B, T) but
    the last symbol (float64, no gradient)."""
    with torch.no_grad(), student.blame('seq_models', None, 'strings n = 1..N'):
        x = F.one_hot(torch.as_tensor(symbols[:, :-1]), num_symbols).to(torch.float64)
        _, logits = model(x)[:2]
        return torch.softmax(logits, -1).numpy()



def generalise(kind, layout, theta, multiples, count):
    """generalise.evaluate() of the runs `theta` (R, P), run by the student's model."""
    from nnlab.recurrent import generalise as rule
    symbols, _ = rule.strings(multiples, count)
    probs = np.stack([probabilities(model, symbols, layout.num_symbols)
                      for model in models_of(kind, layout, theta)])
    return rule.evaluate_probs(probs, multiples, count)


def run_strings(model, seqs):
    """generalise.run_strings() by the student's model: per sequence hidden (T-1, hid),
    probabilities (T-1, S) and the LSTM's cell states where its forward gives them."""
    model = copy.deepcopy(model).to(torch.float64).eval()
    num_symbols = model.W.shape[0]
    found = []
    with torch.no_grad(), student.blame('seq_models', None, 'strings n = 1..N'):
        for seq in seqs:
            x = one_hot(np.asarray(seq), num_symbols)
            cell = None
            if student.accepts(model.forward, 'context'):
                hidden, logits, context = model(x, context=True)
                if isinstance(context, dict) and 'cell' in context:
                    cell = context['cell'][0].numpy().copy()
            else:
                hidden, logits = model(x)[:2]
            found.append((hidden[0].numpy().copy(),
                          torch.softmax(logits[0], -1).numpy().copy(), cell))
    return found
