"""What the runs left, read with care: run records, analyses, texts, pictures.

Every file is read through its format (nnlab/formats) and only if it is a regular file
inside the folders the page was given (--plot_dir, --net_dir, --out, the sweep folders; a
link is followed only where it stays inside them), with a bound on its size. A file that
cannot be read is never a traceback: report.py prints `warning: FILE: reason`, the page
shows the reason where the result would be, and the page is still written. A missing
file is simply absent, and the page then says which command makes it. The page imports
no torch or numpy, so building it takes about a second.
"""
import datetime
import glob
import os
import sys

from nnlab.formats import page_runs, schema

MANIFEST = 'runs.json'              # what `report.py --run` ran, in the report folder
MAX_TEXT_BYTES = 64 * 2**20         # a text or CSV beyond this is not a result
MAX_PICTURE_BYTES = 50 * 2**20


def _real(path):
    return os.path.normcase(os.path.realpath(path))


class Sources:
    """The folders a page reads, what `report.py --run` recorded of its commands, and the
    files that could not be read (`problems`: (part, path, reason))."""

    def __init__(self, plot_dir, net_dir, out_dir, sweep_dirs=(), say=None):
        self.plot_dir, self.net_dir, self.out_dir = plot_dir, net_dir, out_dir
        self.roots = [_real(d) for d in (plot_dir, net_dir, out_dir, *sweep_dirs)]
        self.say = say or (lambda line: print(line, file=sys.stderr, flush=True))
        self.problems = []
        self.shortened = []         # the anchors of results of shortened runs, for the top
        self.manifest = self.runs_made()

    # --- where a file may be read from --------------------------------------------------
    def inside(self, path):
        """True if `path` (links resolved) lies in one of the page's folders."""
        real = _real(path)
        return any(real == root or real.startswith(root + os.sep) for root in self.roots)

    def readable(self, path):
        """A regular file inside the page's folders (links resolved), else False."""
        return bool(path) and self.inside(path) and os.path.isfile(path)

    def problem(self, part, path, reason):
        self.problems.append((part, path, reason))
        self.say(f"warning: {path}: {reason}")

    def problems_of(self, part):
        return [(path, reason) for p, path, reason in self.problems if p == part]

    # --- files --------------------------------------------------------------------------
    def load(self, part, path, kind):
        """The document of class `kind` in `path`, or None (a problem said if it exists)."""
        if not os.path.lexists(path):
            return None
        if not self.inside(path):
            self.problem(part, path, 'it leads outside the folders the page reads')
            return None
        try:
            return schema.load(path, kind)
        except schema.FormatError as err:
            self.problem(part, path, str(err))
            return None

    def read_bytes(self, path, limit=MAX_PICTURE_BYTES):
        """The bytes of a file (a picture, unless given another bound) inside the page's
        folders, or None."""
        if not self.readable(path):
            return None
        try:
            return schema.read_bytes(path, limit)
        except schema.FormatError:
            return None

    def text(self, path, limit=MAX_TEXT_BYTES):
        """A text file's content (undecodable bytes replaced), or None."""
        data = self.read_bytes(path, limit)
        return None if data is None else data.decode('utf-8', 'replace')

    def records(self, kind, pattern, top, part):
        """[(path, record)] of the records of class `kind` named like `pattern` in `top`
        and its subfolders, oldest first."""
        found = []
        for folder in _folders(top):
            for path in sorted(glob.glob(os.path.join(glob.escape(folder), pattern))):
                record = self.load(part, path, kind)
                if record is not None:
                    found.append((path, record))
        return sorted(found, key=lambda item: started_at(item[1]))

    def located(self, record_path, recorded):
        """The file of a picture a record lists: beside the record (the folder may have
        moved since the run, or the run was given a relative folder), else where the
        record says; only inside the page's folders."""
        if not recorded:
            return None
        beside = os.path.join(os.path.dirname(record_path), os.path.basename(recorded))
        return next((where for where in (beside, recorded) if self.readable(where)), None)

    def located_all(self, record_path, listed):
        """The files found of the pictures a record lists (see `located`)."""
        return [where for where in (self.located(record_path, p) for p in listed) if where]

    # --- what report.py --run did ---------------------------------------------------------
    def runs_made(self):
        """The manifest, its unreadable steps dropped (each said once)."""
        path = os.path.join(self.out_dir, MANIFEST)
        if not os.path.lexists(path):
            return None
        try:
            manifest, reasons = page_runs.load_lenient(path)
        except schema.FormatError as err:
            self.problem('runs', path, str(err))
            return None
        for reason in reasons:
            self.problem('runs', path, reason)
        return manifest

    def attempt(self, key):
        """What `report.py --run` did about question `key` (a StepRecord), or None."""
        steps = self.manifest.steps if self.manifest else []
        return next((step for step in steps if step.key == key), None)


def _folders(top):
    """`top` and its direct subfolders, except the `previous-*` folders where a new run
    moves an earlier run's files (those are history, not results)."""
    subs = [os.path.normpath(sub)
            for sub in sorted(glob.glob(os.path.join(glob.escape(top), '*', '')))]
    return [top] + [sub for sub in subs if not os.path.basename(sub).startswith('previous-')]


def started_at(record):
    """When the run started, as a datetime (the epoch if the record does not say)."""
    try:
        moment = datetime.datetime.fromisoformat(record.started)
    except (TypeError, ValueError):
        moment = datetime.datetime.fromtimestamp(0)
    return moment if moment.tzinfo else moment.astimezone()


def when(record):
    moment = started_at(record)
    return moment.strftime('%Y-%m-%d %H:%M') if moment.year > 1970 else 'unknown time'


def shown(path):
    """A path as a reader should see it: relative to the working folder when inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:          # another drive (Windows)
        return path
    return path if relative.startswith('..') else relative
