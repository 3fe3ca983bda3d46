"""What every run record holds, whichever script wrote it, and how it is written.

A run record is one JSON file per training run, beside its outputs: the command line, the
configuration, the seed(s), package versions, the git commit, the wall time, the status
and the results. The three scripts' records (kuzu_run.py, check_run.py, seq_run.py) are
this header with their own `config` and `results`. It is written atomically when the run
ends (also when it is interrupted: `status` says so), so sweep.py and report.py read
finished runs only.
"""
import dataclasses
import datetime
import platform
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from typing import ClassVar

from nnlab import ROOT
from nnlab.cli import Invocation
from nnlab.formats import schema

STATUSES = ('running', 'finished', 'interrupted')
# The records of the release before typed records: one format for all three scripts.
FIRST_FORMAT = 'nnlab-run-1'


@dataclass(kw_only=True)
class RunHeader(schema.Document):
    SCRIPT: ClassVar[str] = ''          # the script that writes this kind of record
    script: str = ''
    argv: list[str] = field(default_factory=list)
    command: str = ''
    seeds: list[int] = field(default_factory=list)
    seed_drawn: bool = False
    versions: dict[str, str] = field(default_factory=dict)
    git_commit: str | None = None
    started: str = ''
    status: str = 'running'
    wall_seconds: float | None = None

    def problem(self):
        if self.script != self.SCRIPT:
            return f"script is {self.script!r}, not {self.SCRIPT}"
        if self.status not in STATUSES:
            return f"status is {self.status!r}, not one of {', '.join(STATUSES)}"
        return None



def run_record(name, format, script, config, results, doc):
    """The record class of one script: the header with its `config` and `results` types.
    Records of the first release (one format for all scripts) cannot be read: they say
    to run the script again."""
    return dataclasses.make_dataclass(
        name, [('config', config, field(default_factory=config)),
               ('results', results, field(default_factory=results))],
        bases=(RunHeader,), kw_only=True,
        namespace={'FORMAT': format, 'SCRIPT': script, 'OLDER': (FIRST_FORMAT,),
                   'AGAIN': f'run {script} again to make it with this version',
                   '__doc__': doc, '__module__': config.__module__})


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


class RunWriter:
    """Starts a record of class `kind` (config, results) and writes it when asked:

        writer = RunWriter(KuzuRun, config, KuzuResults(), seeds)
        writer.results.epochs.append(...)
        writer.write(path, 'finished')
    """

    def __init__(self, kind, config, results, seeds, seed_drawn=False):
        self.started = time.monotonic()
        _, argv = Invocation.current()
        self.record = kind(
            script=kind.SCRIPT, argv=argv, command=shlex.join(['python3', kind.SCRIPT, *argv]),
            seeds=[int(s) for s in seeds], seed_drawn=bool(seed_drawn),
            versions=package_versions(), git_commit=git_commit(),
            started=datetime.datetime.now().astimezone().isoformat(timespec='seconds'),
            config=config, results=results)

    @property
    def results(self):
        return self.record.results

    def write(self, path, status):
        self.record.status = status
        self.record.wall_seconds = round(time.monotonic() - self.started, 3)
        return schema.save(path, self.record)
