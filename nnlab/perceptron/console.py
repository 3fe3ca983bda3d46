"""What check_main.py prints after the course's lines, formatted from data: accuracy lines,
each hidden unit's dividing line, the activation table, the restarts. report.py renders
Part 2 of its page with the same functions, from the run record, so the page and the
console never disagree. No torch here (the page is built without it)."""

from nnlab.formats.check_run import DividingLine, Point

# A line steeper than this (|slope| of y over x) is printed solved for x.
STEEP = 10.0


def accuracy_line(title, accuracy):
    """'Final Accuracy:  100.0': the course printed `print(title, round(acc, 2))` with a
    title that ends in a space; 7/9 -> 77.78."""
    return f"{title} {round(accuracy, 2)}"


def _signed(value):
    """' + 0.50' or ' - 0.50'."""
    value = round(value, 2) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f" {'-' if value < 0 else '+'} {abs(value):.2f}"


def line_equation(wx, wy, bias):
    """'1.00*x + 1.00*y - 0.50 = 0'."""
    return f"{wx:.2f}*x{_signed(wy)}*y{_signed(bias)} = 0"


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


def lines_of(weights):
    """Each hidden unit's DividingLine, from check_run.Weights."""
    return [DividingLine(f"h{j}", float(wx), float(wy), float(b))
            for j, ((wx, wy), b) in enumerate(zip(weights.in_hid_weight, weights.hid_bias))]


def table_header(hid):
    """The activation table's column names."""
    return ('x', 'y', *(f'h{j}' for j in range(hid)), 'output', 'target')


def wrong(point):
    """The network classifies this point wrongly (output >= 0.5 means class 1)."""
    return (point.output >= 0.5) != (point.target >= 0.5)


def table_cells(point):
    """A point's row of the activation table, as text cells."""
    return (f"{point.x:.2f}", f"{point.y:.2f}", *(f"{h:.3f}" for h in point.hidden),
            f"{point.output:.3f}", f"{int(point.target)}")


def activation_table(points, hid):
    """One line per point: x, y | each hidden activation | output, target, a mark."""
    names = ''.join(f" {name:>6}" for name in table_header(hid)[2:-2])
    lines = [f"{'x':>6} {'y':>6} |{names} | {'output':>6} {'target':>6}"]
    for point in points:
        cells = table_cells(point)
        hidden = ''.join(f" {c:>6}" for c in cells[2:-2])
        mark = '  <- wrong' if wrong(point) else ''
        lines.append(f"{cells[0]:>6} {cells[1]:>6} |{hidden} | {cells[-2]:>6} "
                     f"{cells[-1]:>6}{mark}")
    return lines


LINES_TITLE = "Dividing lines (unit on where the left side is >= 0):"
TABLE_TITLE = "Activations per point (on / class 1 where >= 0.5):"


def analysis_text(lines, points, hid):
    """The dividing lines and the activation table, as printed after the final weights."""
    out = ['', LINES_TITLE]
    out += [dividing_line(line.unit, line.wx, line.wy, line.bias) for line in lines]
    out += ['', TABLE_TITLE]
    out += activation_table(points, hid)
    return '\n'.join(out)


def points_of(inputs, targets, hidden, output):
    """Point records from the data and a forward pass (sequences of numbers)."""
    return [Point(float(p[0]), float(p[1]), float(t[0]), [float(h) for h in hid], float(o[0]))
            for p, t, hid, o in zip(inputs, targets, hidden, output)]


def restart_outcome(restart):
    """How a restart ended: '100% from epoch 3400, stopped after epoch 5399' or
    ' 88.9% after epoch 200000'."""
    if restart.perfect_since is not None:
        return f"100% from epoch {restart.perfect_since}, stopped after epoch {restart.stopped}"
    return f"{restart.final_accuracy:5.1f}% after epoch {restart.stopped}"


def restarts_text(restarts, kept, epochs, interrupted=False, first_done=None):
    """The block printed after training K > 1 restarts (check_run.Restart records)."""
    wins = sum(r.reached_100 for r in restarts)
    if interrupted:
        note = f" (training stopped by Ctrl-C at epoch {epochs})"
    elif first_done is not None:
        note = (f" by epoch {epochs}, when restart {first_done} finished "
                f"first (--first: the others stopped there)")
    else:
        note = ""
    lines = [f"Restarts: {wins} of {len(restarts)} reached 100%{note}"]
    for i, r in enumerate(restarts):
        loss = 'nan' if r.final_loss is None else f"{r.final_loss:.4f}"
        lines.append(f"  restart {i} (seed {r.seed}): {restart_outcome(r)}, loss {loss}")
    lines.append(f"Kept restart {kept} (the same network as a single run with "
                 f"--seed {restarts[kept].seed})")
    return '\n'.join(lines)
