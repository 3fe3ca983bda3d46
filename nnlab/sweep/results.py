"""DIR/results.csv: one row per setting and seed, rewritten as each task finishes.

The whole file is rewritten atomically (temporary file, then rename) after every task
rather than appended to: it is small (a thousand rows are about 100 kB, written in
milliseconds), a reader never sees half a row, and a crash, Ctrl-C or full disk during a
write leaves the previous complete file. Rows are kept sorted (setting, then seed), so
the file does not depend on which task happened to finish first: two runs of the same
sweep give the same file apart from the seconds.

Reading checks every row against the script's columns and their types
(nnlab/formats/sweep_results.py): a row that is cut short, has a cell too many or a value
of the wrong kind is not done (one `warning:` line names the file and row), so `--resume`
runs it again and the summary leaves it out.
"""
import csv
import io
import os
import sys

from nnlab.cli import UserError
from nnlab.files import atomic_write_text
from nnlab.formats import schema, sweep_results
from nnlab.formats.sweep_results import MAX_BYTES, OK


class Results:
    """The rows of one sweep folder (ResultRow), keyed by (setting key, seed)."""

    def __init__(self, folder, kind, grid_names):
        self.path = os.path.join(folder, sweep_results.FILE)
        self.kind = kind
        self.grid_names = list(grid_names)
        self.columns = sweep_results.columns(kind.columns, grid_names)
        self.rows = {}

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
                try:
                    row = sweep_results.parse(row, self.kind.columns, self.grid_names)
                except schema.FormatError as problem:
                    if warn:
                        print(f"warning: {self.path} row {number}: {problem}; it counts as "
                              f"not done (--resume runs it again)", file=sys.stderr,
                              flush=True)
                    continue
                self.rows[row.setting, row.seed] = row
        except csv.Error as err:
            raise UserError(f"cannot read {self.path} ({err}); fix or remove it, or choose "
                            f"another --out")
        return self

    def added_since(self, found):
        """The script's figure columns missing from an earlier version's header `found`
        (which is otherwise ours, in our order), [] if none, None if it is not ours."""
        found = list(found or [])
        figures = {name for name, _ in self.kind.columns}
        added = [name for name in self.columns if name not in found]
        if [n for n in self.columns if n in found] != found or not set(added) <= figures:
            return None
        return added

    def done(self, setting_key, seed):
        row = self.rows.get((setting_key, seed))
        return row is not None and row.status == OK

    def add(self, setting_key, seed, values):
        """Keep the row of a task that just ended (see sweep_results.fresh); returns it."""
        row = sweep_results.fresh(setting_key, seed, values, self.kind.columns)
        self.rows[(row.setting, seed)] = row
        return row

    def ordered(self, settings=()):
        """Rows sorted by setting (in the order of `settings`, others after) and seed."""
        position = {s.key: i for i, s in enumerate(settings)}
        return [self.rows[k] for k in sorted(
            self.rows, key=lambda k: (position.get(k[0], len(position)), k[0], k[1]))]

    def write(self, settings=()):
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=self.columns, lineterminator='\n')
        writer.writeheader()
        writer.writerows(row.cells(self.grid_names, self.kind.columns)
                         for row in self.ordered(settings))
        atomic_write_text(self.path, text.getvalue())
