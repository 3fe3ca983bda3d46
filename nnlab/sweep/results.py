"""DIR/results.csv: one row per setting and seed, rewritten as each task finishes.

The whole file is rewritten atomically (temporary file, then rename) after every task
rather than appended to: it is small (a thousand rows are about 100 kB, written in
milliseconds), a reader never sees half a row, and a crash, Ctrl-C or full disk during a
write leaves the previous complete file. Rows are kept sorted (setting, then seed), so
the file does not depend on which task happened to finish first: two runs of the same
sweep give the same file apart from the seconds.
"""
import csv
import io
import os

from nnlab.cli import UserError
from nnlab.files import atomic_write_text

FILE = 'results.csv'
OK, FAILED = 'ok', 'failed'


def columns(kind, grid_names):
    """[grid flags..., seed, status, exit_code, the script's figures..., seconds, task, error]"""
    return [*grid_names, 'seed', 'status', 'exit_code', *kind.columns, 'seconds', 'task',
            'error']


def _cell(value):
    if value is None:
        return ''
    return str(value)       # floats as repr: the record's exact value, read back unchanged


class Results:
    """The rows of one sweep folder, keyed by (setting key, seed)."""

    def __init__(self, folder, kind, grid_names):
        self.path = os.path.join(folder, FILE)
        self.grid_names = list(grid_names)
        self.columns = columns(kind, grid_names)
        self.rows = {}

    @staticmethod
    def key_of(row, grid_names):
        return tuple(row[n] for n in grid_names), int(row['seed'])

    def load(self):
        """Read the rows an earlier run of the sweep wrote (none if there is no file)."""
        if not os.path.exists(self.path):
            return self
        try:
            with open(self.path, newline='', encoding='utf-8') as f:
                reader = csv.DictReader(f)
                if reader.fieldnames != self.columns:
                    raise UserError(f"{self.path} has the columns {reader.fieldnames}, not "
                                    f"this sweep's; was it written by another sweep or "
                                    f"edited? Choose another --out")
                for row in reader:
                    self.rows[self.key_of(row, self.grid_names)] = row
        except (OSError, csv.Error, ValueError, KeyError) as err:
            raise UserError(f"cannot read {self.path} ({err}); fix or remove it, or choose "
                            f"another --out")
        return self

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
