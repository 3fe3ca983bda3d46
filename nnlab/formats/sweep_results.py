"""A sweep's DIR/results.csv, row by row: one ResultRow per setting and seed, the same
object whether the sweep just made it or read it back from the file.

The columns: the grid flags, seed, status, exit_code, the script's figures (its
ScriptKind.columns, each with its type), seconds, task, error. A cell is the value's
`str` (floats as repr, so a value reads back unchanged; True/False; an empty cell for
none). Reading checks every cell against its column's type: a row cut short, with a cell
too many or a value of the wrong kind is a FormatError naming the column.
"""
import csv
import io
import math
from dataclasses import dataclass, field

from nnlab.formats.schema import FormatError

FILE = 'results.csv'
OK, FAILED = 'ok', 'failed'
MAX_BYTES = 64 * 2**20


def columns(figures, grid_names):
    """[grid flags..., seed, status, exit_code, figures..., seconds, task, error]
    (`figures`: the script's (name, type) pairs)."""
    return [*grid_names, 'seed', 'status', 'exit_code', *(n for n, _ in figures),
            'seconds', 'task', 'error']


@dataclass
class ResultRow:
    setting: tuple[str, ...]        # the grid flags' values, as given
    seed: int
    status: str                     # OK or FAILED
    exit_code: int | None = None
    figures: dict = field(default_factory=dict)   # the script's columns: bool, int, float
    seconds: float | None = None
    task: str = ''                  # its task folder, relative to DIR
    error: str = ''                 # why it failed

    @property
    def ok(self):
        return self.status == OK

    @property
    def success(self):
        return self.figures.get('success') is True

    def number(self, column):
        """The finite number in `column` (a figure or seconds), else None."""
        value = self.seconds if column == 'seconds' else self.figures.get(column)
        if value is None or isinstance(value, bool) or not math.isfinite(value):
            return None
        return float(value)

    def cells(self, grid_names, figures):
        """{column: text} as results.csv holds it."""
        return {**dict(zip(grid_names, self.setting)), 'seed': str(self.seed),
                'status': self.status, 'exit_code': _cell(self.exit_code),
                **{name: _cell(self.figures.get(name)) for name, _ in figures},
                'seconds': _cell(self.seconds), 'task': self.task, 'error': self.error}


def fresh(setting, seed, values, figures):
    """The row of a task that just ended (`values`: status, exit_code, seconds, task,
    error and the script's figures, as nnlab/sweep/runner.py add_rows gives them)."""
    return ResultRow(tuple(setting), seed, values['status'], values.get('exit_code'),
                     {name: values.get(name) for name, _ in figures},
                     values.get('seconds'), values.get('task') or '',
                     values.get('error') or '')


def _cell(value):
    return '' if value is None else str(value)


def _value(text, kind, name):
    if text == '':
        return None
    if kind is bool:
        if text not in ('True', 'False'):
            raise FormatError(f"{name}: {text[:20]!r} is not True or False")
        return text == 'True'
    try:
        return int(text) if kind is int else float(text)     # a diverged run's NaN too
    except ValueError:
        raise FormatError(f"{name}: {text[:20]!r} is not a "
                          f"{'whole number' if kind is int else 'number'}") from None


def parse(cells, figures, grid_names):
    """The ResultRow of a csv.DictReader row; FormatError saying what is wrong."""
    if None in cells:
        raise FormatError('it has more cells than the header')
    if any(value is None for value in cells.values()):
        raise FormatError('it has fewer cells than the header (cut short?)')
    seed = cells['seed']
    if not (seed.isascii() and seed.isdigit() and len(seed) <= 10):
        raise FormatError(f"its seed {seed[:20]!r} is not a whole number")
    if cells['status'] not in (OK, FAILED):
        raise FormatError(f"its status {cells['status'][:20]!r} is not ok or failed")
    return ResultRow(tuple(cells[n] for n in grid_names), int(seed), cells['status'],
                     _value(cells['exit_code'], int, 'exit_code'),
                     {name: _value(cells[name], kind, name) for name, kind in figures},
                     _value(cells['seconds'], float, 'seconds'), cells['task'],
                     cells['error'])


def count_rows(text):
    """(rows, header) of results.csv's text, as shown by the page; (None, []) if it is
    not CSV."""
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error:
        return None, []
    return max(len(rows) - 1, 0), rows[0] if rows else []
