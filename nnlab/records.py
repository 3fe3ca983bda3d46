"""Run records: one JSON file per training run, beside its outputs.

A record holds what is needed to repeat the run and to compare it with others: the
command line, the configuration, the seed(s), package versions, the git commit, the wall
time and the results. It is written atomically when the run ends (also when it is
interrupted: `status` says so), so sweep.py and report.py read finished runs only.
"""
import datetime
import platform
import shlex
import subprocess
import time
from dataclasses import asdict, is_dataclass

from nnlab import ROOT
from nnlab.cli import Invocation
from nnlab.files import atomic_write_json, read_json

FORMAT = 'nnlab-run-1'


def package_versions():
    """The versions of the packages a run's numbers depend on (installed ones: a run
    that never imports torch still records which torch would have written its files)."""
    from importlib import metadata
    versions = {'python': platform.python_version()}
    for name in ('torch', 'numpy', 'numba', 'matplotlib', 'scikit-learn'):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def git_commit():
    """The checkout's commit (with '+changes' if files differ from it), or None."""
    try:
        commit = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=ROOT, capture_output=True,
                                text=True, timeout=5)
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'],
                               cwd=ROOT, capture_output=True, text=True, timeout=5)
        return commit.stdout.strip() + ('+changes' if dirty.stdout.strip() else '')
    except (OSError, subprocess.SubprocessError):
        return None


def _plain(value):
    """JSON-safe: dataclasses as dicts, numpy numbers as Python numbers, NaN as None."""
    if is_dataclass(value):
        value = asdict(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, 'item') and callable(value.item):      # numpy / torch scalars
        value = value.item()
    if isinstance(value, float) and value != value or value in (float('inf'), float('-inf')):
        return None
    return value


class RunRecord:
    """Collects a run's facts as it goes; `write()` puts them in one JSON file."""

    def __init__(self, script, config, seeds, seed_drawn=False):
        self.started = time.time()
        _, argv = Invocation.current()
        self.data = {
            'format': FORMAT,
            'script': script,
            'argv': argv,
            'command': shlex.join(['python3', script, *argv]),
            'config': _plain(config),
            'seeds': [int(s) for s in seeds],
            'seed_drawn': bool(seed_drawn),
            'versions': package_versions(),
            'git_commit': git_commit(),
            'started': datetime.datetime.now().astimezone().isoformat(timespec='seconds'),
            'status': 'running',
            'results': {},
        }

    @property
    def results(self):
        return self.data['results']

    def write(self, path, status):
        self.data['status'] = status
        self.data['wall_seconds'] = round(time.time() - self.started, 3)
        return atomic_write_json(path, _plain(self.data))


def read_record(path):
    """A run record as a dict; None if it is missing or not a record."""
    data = read_json(path)
    return data if data is not None and data.get('format') == FORMAT else None
