"""Part 1's nets as the student's kuzu.py defines them: found by name, built, and checked
against the course's contract before a batch is spent on training.

kuzu.py needs only the three classes the assignment asks for (docs/your-code.md); the
registry, the hidden-size argument and the checks live here.
"""
import copy
import inspect

import torch

from nnlab import student
from nnlab.kmnist.facts import FULL_HIDDEN, NET_CLASSES

PROBE_IMAGES = 3      # not a divisor of 64, so a batch size written into the code shows
LOG_PROB_TOLERANCE = 1e-3


def net_class(name):
    """The class of the student's kuzu.py for net `name` (one error line if it has none;
    the other two classes need not exist yet)."""
    return getattr(student.load('kuzu', need=(NET_CLASSES[name],)), NET_CLASSES[name])


def takes_hidden_size(cls):
    """Whether a net class's constructor takes an argument (NetFull's hidden size)."""
    try:
        parameters = list(inspect.signature(cls).parameters.values())
    except (TypeError, ValueError):
        return False
    return any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
               for p in parameters)


def build(name, hid=None):
    """(the student's net called `name`, notes): NetFull gets `hid` (default FULL_HIDDEN)
    when its constructor takes an argument; otherwise a given --hid is reported unused."""
    cls = net_class(name)
    notes, args = [], ()
    if name == 'full' and takes_hidden_size(cls):
        args = (hid or FULL_HIDDEN,)
    elif hid is not None and name != 'full':
        notes.append(f"note: --hid {hid} is not used: it is NetFull's hidden size "
                     f"(--net full)")
    elif hid is not None:
        notes.append(f"note: --hid {hid} is not used: {student.path('kuzu')}'s "
                     f"{cls.__name__}() takes no hidden size")
    try:
        inspect.signature(cls).bind(*args)
    except TypeError as err:
        given = 'one argument, the hidden size' if args else 'no arguments'
        raise student.StudentError(f"{_at(cls, '__init__')}: {cls.__name__}'s constructor "
                                   f"cannot be called with {given} ({err})",
                                   student.path('kuzu')) from None
    except ValueError:                      # no signature to read: try it
        pass
    net = student.call('kuzu', f'{cls.__name__}.__init__', cls, *args)
    if not isinstance(net, torch.nn.Module):
        raise student.StudentError(f"{student.path('kuzu')}: {cls.__name__}() is a "
                                   f"{type(net).__name__}, not a torch nn.Module; derive it "
                                   f"from nn.Module", student.path('kuzu'))
    return net, notes


def make_net(name, hid=None):
    """The student's net called `name` ('lin', 'full', 'conv'); `hid` only matters for a
    NetFull whose constructor takes it."""
    return build(name, hid)[0]


def hidden_size_of(state):
    """NetFull's hidden size in a saved state dict: the outputs of its first weight matrix
    (None if it has none)."""
    for value in state.values():
        if getattr(value, 'ndim', 0) == 2:
            return int(value.shape[0])
    return None


def _at(net, method='forward'):
    """'in kuzu.py, line 31, NetLin.forward' (without the line if it cannot be found) of a
    net or its class."""
    cls = net if isinstance(net, type) else type(net)
    try:
        line = inspect.getsourcelines(getattr(cls, method, None))[1]
    except (OSError, TypeError):
        line = None
    where = f', line {line}' if line else ''
    return f"in {student.path('kuzu')}{where}, {cls.__name__}.{method}"


def forward_probe(net, images):
    """The net's output on `images` in eval mode without gradients, its mode restored;
    an exception inside kuzu.py is the student's."""
    training = net.training
    net.eval()
    try:
        with torch.no_grad(), student.blame('kuzu', None,
                                            f'on a batch of {len(images)} images'):
            return net(images)
    finally:
        net.train(training)


def check_contract(net, name, images):
    """One forward pass on the first PROBE_IMAGES images: the course's contract, before
    training. Raises StudentError for a wrong shape or non-finite values; returns the
    warning and note lines (rows that are not log-probabilities; a NetConv with fewer
    than two conv layers)."""
    images = images[:PROBE_IMAGES]
    n = len(images)
    if not any(p.requires_grad for p in net.parameters()):
        raise student.StudentError(f"{_at(net, '__init__')}: {type(net).__name__} has no "
                                   f"parameters to train; define its layers in __init__ as "
                                   f"attributes (self.fc = nn.Linear(...))")
    out = forward_probe(net, images)
    expected = f'a tensor of shape ({n}, 10), one log-probability per class'
    if not isinstance(out, torch.Tensor):
        raise student.StudentError(f'{_at(net)} returns a {type(out).__name__} for a batch '
                                   f'of {n} images; expected {expected}')
    if tuple(out.shape) != (n, 10):
        raise student.StudentError(f'{_at(net)} returns shape {list(out.shape)} for a batch '
                                   f'of {n} images (input shape {list(images.shape)}); '
                                   f'expected {expected}')
    if not out.is_floating_point():
        raise student.StudentError(f'{_at(net)} returns {out.dtype} values; expected '
                                   f'{expected}')
    if not torch.isfinite(out).all():
        raise student.StudentError(f'{_at(net)} returns values that are not finite numbers '
                                   f'(nan or inf) for a batch of {n} images; the net must '
                                   f'give finite log-probabilities before training')
    lines = []
    total = torch.logsumexp(out.double(), dim=1)
    worst = float(total.abs().max())
    if worst > LOG_PROB_TOLERANCE:
        lines.append(f'warning: {_at(net)} does not return log-probabilities (a row\'s '
                     f'logsumexp is {float(total[total.abs().argmax()]):.3g}, not 0): end '
                     f'it with F.log_softmax(x, dim=1); without it the NLL loss trained on '
                     f'is not the cross-entropy, only minus the score of the right class, '
                     f'and it can fall without bound')
    if name == 'conv':
        convs = sum(isinstance(m, torch.nn.modules.conv._ConvNd) for m in net.modules())
        if convs < 2:
            lines.append(f"note: {student.path('kuzu')}'s NetConv has {convs} convolutional "
                         f"layer{'s' if convs != 1 else ''}; the assignment asks for two")
    return lines


def runs_channels_last(net, images):
    """Whether the net computes the same in the channels-last layout (our optimisation for
    conv nets on the CPU): a copy of it on the probe batch against the default layout.
    A `view` that needs the default layout, or any other difference, means no."""
    if not any(isinstance(m, torch.nn.modules.conv._ConvNd) for m in net.modules()):
        return False
    images = images[:PROBE_IMAGES]
    try:
        twin = copy.deepcopy(net).to(memory_format=torch.channels_last)
        twin.eval()
        with torch.no_grad():
            got = twin(images.contiguous(memory_format=torch.channels_last))
        want = forward_probe(net, images)
    except Exception:        # the student's code under a layout it was not written for
        return False
    return (isinstance(got, torch.Tensor) and got.shape == want.shape
            and bool(torch.allclose(got, want, rtol=1e-4, atol=1e-5)))
