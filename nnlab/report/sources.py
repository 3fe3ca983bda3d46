"""What the runs left, read tolerantly: run records, analysis files, texts, pictures.

Nothing here raises on a missing, half-written or foreign file: a file that cannot be read
is treated as absent, and the page then says which command makes it. The report imports
no torch or numpy, so building the page takes about a second.
"""
import datetime
import glob
import os

from nnlab.files import read_json
from nnlab.records import read_record

MANIFEST = 'runs.json'              # what `report.py --run` ran, in the report folder
MANIFEST_FORMAT = 'nnlab-report-runs-1'
MAX_TEXT = 2_000_000                # characters: a text file beyond this is not a result


def read_text(path, limit=MAX_TEXT):
    """A text file's content (undecodable bytes replaced), or None."""
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            return f.read(limit)
    except OSError:
        return None


def is_file(path):
    return bool(path) and os.path.isfile(path)


def _folders(top):
    """`top` and its direct subfolders, except the `previous-*` folders where a new run
    moves an earlier run's files (those are history, not results)."""
    found = [top]
    for sub in sorted(glob.glob(os.path.join(glob.escape(top), '*', ''))):
        if not os.path.basename(os.path.normpath(sub)).startswith('previous-'):
            found.append(os.path.normpath(sub))
    return found


def started_at(record):
    """When the run started, as a datetime (the epoch if the record does not say)."""
    try:
        return datetime.datetime.fromisoformat(record.get('started', ''))
    except (TypeError, ValueError):
        return datetime.datetime.fromtimestamp(0).astimezone()


def when(record):
    moment = started_at(record)
    return moment.strftime('%Y-%m-%d %H:%M') if moment.year > 1970 else 'unknown time'


class Sources:
    """The folders a report reads, and what `report.py --run` recorded of its commands."""

    def __init__(self, plot_dir, net_dir, out_dir):
        self.plot_dir, self.net_dir, self.out_dir = plot_dir, net_dir, out_dir
        self.manifest = read_json(os.path.join(out_dir, MANIFEST))
        if self.manifest and self.manifest.get('format') != MANIFEST_FORMAT:
            self.manifest = None
        self.shortened = []         # (anchor, text): results of shortened runs, for the top

    def records(self, script, pattern, top):
        """[(path, record)] of `script`'s run records named like `pattern` in `top` and its
        subfolders, oldest first."""
        found = []
        for folder in _folders(top):
            for path in sorted(glob.glob(os.path.join(glob.escape(folder), pattern))):
                record = read_record(path)
                if record is not None and record.get('script') == script:
                    found.append((path, record))
        return sorted(found, key=lambda item: started_at(item[1]))

    def attempt(self, key):
        """What `report.py --run` did about question `key` (a dict), or None."""
        if not self.manifest:
            return None
        for step in self.manifest.get('steps') or []:
            if isinstance(step, dict) and step.get('key') == key:
                return step
        return None

    def log_text(self, record):
        """The console output of the run that made `record`, if `report.py --run` ran it:
        the manifest's step with the same command line, started just before the record."""
        if not self.manifest or not record:
            return None
        started = started_at(record).timestamp()
        for step in self.manifest.get('steps') or []:
            if not isinstance(step, dict) or not step.get('log'):
                continue
            begun, ended = step.get('started_ts') or 0, step.get('ended_ts') or 0
            same = step.get('argv') == record.get('argv')
            # records store the start to the second: allow a second before the launch
            if same and begun - 1 <= started <= (ended or started) + 1:
                return read_text(os.path.join(self.out_dir, step['log']))
        return None


def picture(record_path, recorded):
    """The file of a picture a record lists: beside the record (the folder may have moved
    since the run, or the run was given a relative folder), else where the record says."""
    if not recorded:
        return None
    beside = os.path.join(os.path.dirname(record_path), os.path.basename(recorded))
    for candidate in (beside, recorded):
        if is_file(candidate):
            return candidate
    return None


def shown(path):
    """A path as a reader should see it: relative to the working folder when inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:          # another drive (Windows)
        return path
    return path if relative.startswith('..') else relative
