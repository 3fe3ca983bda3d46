"""DIR/results.csv: one row per setting and seed, rewritten as each task finishes.

The whole file is rewritten atomically (temporary file, then rename) after every task
rather than appended to: it is small (a thousand rows are about 100 kB, written in
milliseconds), a reader never sees half a row, and a crash, Ctrl-C or full disk during a
write leaves the previous complete file. Rows are kept sorted (setting, then seed), so
the file does not depend on which task happened to finish first: two runs of the same
sweep give the same file apart from the seconds.

Reading checks every row against the script's columns and their types: a row that is
cut short, has a cell too many or a value of the wrong kind is not done (one `warning:`
line names the file and row), so `--resume` runs it again and the summary leaves it out.
"""
import csv
import io
import os
import sys

from nnlab.cli import UserError
from nnlab.files import atomic_write_text
from nnlab.formats import schema

FILE = 'results.csv'
OK, FAILED = 'ok', 'failed'
MAX_BYTES = 64 * 2**20


def columns(kind, grid_names):
    """[grid flags..., seed, status, exit_code, the script's figures..., seconds, task, error]"""
    return [*grid_names, 'seed', 'status', 'exit_code', *(n for n, _ in kind.columns),
            'seconds', 'task', 'error']


def _cell(value):
    if value is None:
        return ''
    return str(value)       # floats as repr: the record's exact value, read back unchanged


def _number_problem(text, kind):
    if text == '':
        return None
    if kind is bool:
        return None if text in ('True', 'False') else f"{text[:20]!r} is not True or False"
    try:
        int(text) if kind is int else float(text)
    except ValueError:
        return f"{text[:20]!r} is not a {'whole number' if kind is int else 'number'}"
    return None               # also a diverged run's NaN, written by us


def row_problem(row, kind):
    """Why a row read from results.csv is not one the sweep wrote, or None."""
    if None in row:
        return 'it has more cells than the header'
    if any(value is None for value in row.values()):
        return 'it has fewer cells than the header (cut short?)'
    if not (row['seed'].isascii() and row['seed'].isdigit() and len(row['seed']) <= 10):
        return f"its seed {row['seed'][:20]!r} is not a whole number"
    if row['status'] not in (OK, FAILED):
        return f"its status {row['status'][:20]!r} is not ok or failed"
    checks = [('exit_code', int), ('seconds', float), *kind.columns]
    for name, kind_of in checks:
        problem = _number_problem(row[name], kind_of)
        if problem:
            return f"{name}: {problem}"
    return None


class Results:
    """The rows of one sweep folder, keyed by (setting key, seed)."""

    def __init__(self, folder, kind, grid_names):
        self.path = os.path.join(folder, FILE)
        self.kind = kind
        self.grid_names = list(grid_names)
        self.columns = columns(kind, grid_names)
        self.rows = {}

    @staticmethod
    def key_of(row, grid_names):
        return tuple(row[n] for n in grid_names), int(row['seed'])

    def load(self, warn=True):
        """Read the rows an earlier run of the sweep wrote (none if there is no file)."""
        if not os.path.lexists(self.path):
            return self
        try:
            text = schema.read_bytes(self.path, MAX_BYTES).decode('utf-8')
        except (schema.FormatError, UnicodeDecodeError) as err:
            raise UserError(f"{self.path}: {err}; fix or remove it, or choose another --out")
        try:
            reader = csv.DictReader(io.StringIO(text, newline=''))
            added = self.added_since(reader.fieldnames)
            if added is None:
                raise UserError(f"{self.path} has the columns {reader.fieldnames}, not "
                                f"this sweep's; was it written by another sweep or "
                                f"edited? Choose another --out")
            if added and warn:
                print(f"note: {self.path} was written by an earlier version, without the "
                      f"column(s) {', '.join(added)}: its rows leave them empty",
                      file=sys.stderr, flush=True)
            for number, row in enumerate(reader, 2):
                row.update({name: '' for name in added})
                problem = row_problem(row, self.kind)
                if problem:
                    if warn:
                        print(f"warning: {self.path} row {number}: {problem}; it counts as "
                              f"not done (--resume runs it again)", file=sys.stderr,
                              flush=True)
                    continue
                self.rows[self.key_of(row, self.grid_names)] = row
        except csv.Error as err:
            raise UserError(f"cannot read {self.path} ({err}); fix or remove it, or choose "
                            f"another --out")
        return self

    def added_since(self, found):
        """The script's figure columns missing from an earlier version's header `found`
        (which is otherwise ours, in our order), [] if none, None if it is not ours."""
        found = list(found or [])
        if found == self.columns:
            return []
        figures = {name for name, _ in self.kind.columns}
        added = [name for name in self.columns if name not in found]
        if [n for n in self.columns if n in found] != found or not set(added) <= figures:
            return None
        return added

    def done(self, setting_key, seed):
        row = self.rows.get((setting_key, seed))
        return row is not None and row['status'] == OK

    def add(self, setting_key, seed, values):
        row = {name: _cell(values.get(name)) for name in self.columns}
        row.update({n: v for n, v in zip(self.grid_names, setting_key)}, seed=str(seed))
        self.rows[(setting_key, seed)] = row

    def ordered(self, settings=()):
        """Rows sorted by setting (in the order of `settings`, others after) and seed."""
        position = {s.key: i for i, s in enumerate(settings)}
        return [self.rows[k] for k in sorted(
            self.rows, key=lambda k: (position.get(k[0], len(position)), k[0], k[1]))]

    def write(self, settings=()):
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=self.columns, lineterminator='\n')
        writer.writeheader()
        writer.writerows(self.ordered(settings))
        atomic_write_text(self.path, text.getvalue())
