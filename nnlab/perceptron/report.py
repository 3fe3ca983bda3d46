"""The printed report of Part 2: weights, dividing lines, activation table, restarts."""
import torch

from check import accuracy


def print_weights(title, net):
    """`title`, then the four tensors as the course printed them."""
    print(title)
    for tensor in net.get_weights().values():
        print(tensor)


def print_accuracy(title, net, inputs, targets):
    with torch.no_grad():
        acc = accuracy(net(inputs), targets)
    # print's separator gives the course's two spaces after the colon; 7/9 -> 77.78
    print(title, round(acc, 2))
    return acc


def _signed(value):
    """' + 0.50' or ' - 0.50'."""
    value = round(value, 2) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f" {'-' if value < 0 else '+'} {abs(value):.2f}"


def line_equation(wx, wy, bias):
    """'1.00*x + 1.00*y - 0.50 = 0'."""
    return f"{wx:.2f}*x{_signed(wy)}*y{_signed(bias)} = 0"


# A line steeper than this (|slope| of y over x) is printed solved for x.
STEEP = 10.0


def dividing_line(name, wx, wy, bias):
    """The line where unit `name` switches (wx*x + wy*y + bias = 0), solved for y or x.

    The unit is on (activation >= 0.5) on the side where wx*x + wy*y + bias >= 0.
    """
    equation = f"{name}: {line_equation(wx, wy, bias)}"
    scale = max(abs(wx), abs(wy))
    if scale == 0.0:
        state = 'on' if bias >= 0 else 'off'
        return f"{equation}  (no line: both input weights are 0, so {name} is always {state})"
    if abs(wy) <= 1e-6 * scale:  # vertical, up to float noise
        return f"{equation}  (x = {-bias / wx + 0.0:.2f})"
    if abs(wx) > STEEP * abs(wy):
        # Nearly vertical: y = 97.26*x - 85.56 hides where the line is; x = 0.01*y + 0.88
        # says it at a glance.
        return f"{equation}  ({_solved('x', 'y', -wy / wx, -bias / wx)})"
    return f"{equation}  ({_solved('y', 'x', -wx / wy, -bias / wy)})"


def _solved(left, right, slope, intercept):
    """'y = 2.00*x + 0.25', 'y = -x + 0.50', or 'y = 0.50' when the slope rounds to 0."""
    rounded = round(slope, 2) + 0.0
    if rounded == 0.0:
        return f"{left} = {intercept + 0.0:.2f}"
    term = {1.0: right, -1.0: f'-{right}'}.get(rounded, f"{slope:.2f}*{right}")
    return f"{left} = {term}{_signed(intercept)}"


def dividing_lines(net):
    w = net.get_weights()
    return [dividing_line(f"h{j}", float(wx), float(wy), float(b))
            for j, ((wx, wy), b) in enumerate(zip(w['in_hid_weight'].tolist(),
                                                  w['hid_bias'].tolist()))]


def activation_table(net, inputs, targets):
    """One row per point: x, y, each hidden activation, the output, the target, a mark."""
    with torch.no_grad():
        output = net(inputs)
        hidden = net.hid
    names = ''.join(f" {f'h{j}':>6}" for j in range(hidden.shape[1]))
    lines = [f"{'x':>6} {'y':>6} |{names} | {'output':>6} {'target':>6}"]
    for point, hid, out, target in zip(inputs.tolist(), hidden.tolist(),
                                       output[:, 0].tolist(), targets[:, 0].tolist()):
        values = ''.join(f" {h:6.3f}" for h in hid)
        wrong = '  <- wrong' if (out >= 0.5) != (target >= 0.5) else ''
        lines.append(f"{point[0]:6.2f} {point[1]:6.2f} |{values} | {out:6.3f} "
                     f"{int(target):6d}{wrong}")
    return lines


def print_analysis(net, inputs, targets):
    """The dividing lines and the activation table, for a report."""
    print()
    print("Dividing lines (unit on where the left side is >= 0):")
    for line in dividing_lines(net):
        print(line)
    print()
    print("Activations per point (on / class 1 where >= 0.5):")
    for line in activation_table(net, inputs, targets):
        print(line)


def print_restarts(result, seed):
    """How the K restarts did, and which one is kept."""
    restarts = result.restarts
    wins = [r for r in restarts if r.success]
    if result.interrupted:
        note = f" (training stopped by Ctrl-C at epoch {result.epochs})"
    elif result.first_done is not None:
        note = (f" by epoch {result.epochs}, when restart {result.first_done} finished "
                f"first (--first: the others stopped there)")
    else:
        note = ""
    print(f"Restarts: {len(wins)} of {len(restarts)} reached 100%{note}")
    for r in restarts:
        if r.perfect_since is not None:
            how = f"100% from epoch {r.perfect_since}, stopped after epoch {r.stopped}"
        else:
            how = f"{r.accuracy:5.1f}% after epoch {r.stopped}"
        print(f"  restart {r.index} (seed {seed + r.index}): {how}, loss {r.loss:.4f}")
    kept = result.kept()
    print(f"Kept restart {kept.index} (the same network as a single run with "
          f"--seed {seed + kept.index})")
