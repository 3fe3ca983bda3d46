"""Every file a run writes, planned once before the work starts.

Each run (kuzu_main.py, check_main.py, seq_train.py, seq_plot.py) builds one plan: a
subclass of `Plan` whose attributes are the paths it will write. Entering the plan checks
all of it at once: the folders can be made and written, each named file can be replaced,
no other run is writing the same outputs (a lock), and an earlier run's files that would
mix with the new ones are moved aside. The writers then take their paths from the plan,
so a path is derived once.

    class KuzuOutputs(Plan):
        def __init__(self, config):
            super().__init__(config.plot_dir, 'kuzu_conv', 'the kuzu_conv outputs')
            self.record = self.file(...)

    with KuzuOutputs(config) as out:
        ... write out.record ...

The run record (nnlab/formats/runs.py) is started and written by a RunWriter.
"""
import datetime
import os
import shlex
import time

from nnlab import machine
from nnlab.cli import Invocation
from nnlab.files import (
    check_writable_file,
    ensure_dir,
    move_aside,
    probe_temporary,
)
from nnlab.formats import schema
from nnlab.locking import OutputLock


class Plan:
    def __init__(self, lock_folder, lock_name, what, announce=None):
        """`announce()` runs once everything is checked, before earlier files move aside
        (e.g. printing a drawn seed as the first line)."""
        self.lock_folder, self.lock_name, self.what = lock_folder, lock_name, what
        self._files, self._folders, self._aside = [], [], []
        self._lock, self._announce = None, announce

    def file(self, path, flag=None):
        """Register a file the run writes; `flag` names the flag that chose it (its
        messages say so). Returns the path."""
        self._files.append((os.fspath(path), flag))
        return os.fspath(path)

    def chosen(self, given, flag, default):
        """The file a flag names (checked as the flag's: an empty name is refused), or
        `default` when the flag was not given."""
        return self.file(given, flag) if given is not None else self.file(default)

    def folder(self, path):
        """Register a folder the run writes files into whose names come later."""
        self._folders.append(os.fspath(path))
        return os.fspath(path)

    def set_aside(self, paths_of, folder, why):
        """Before the run, move the files `paths_of()` lists into folder/previous-.../."""
        self._aside.append((paths_of, folder, why))

    def check(self):
        """Fail now, not after the training, if anything cannot be written."""
        for folder in self._folders:
            probe_temporary(ensure_dir(folder), folder)
        for path, flag in self._files:
            check_writable_file(path, flag)

    def __enter__(self):
        self._lock = OutputLock(ensure_dir(self.lock_folder), self.lock_name, self.what)
        self._lock.__enter__()
        try:
            self.check()
            if self._announce is not None:
                self._announce()
            for paths_of, folder, why in self._aside:
                move_aside(paths_of(), folder, why)
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        self._lock.__exit__(*exc)
        return False


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
            versions=machine.package_versions(), git_commit=machine.git_commit(),
            started=datetime.datetime.now().astimezone().isoformat(timespec='seconds'),
            config=config, results=results)

    @property
    def results(self):
        return self.record.results

    def write(self, path, status):
        self.record.status = status
        self.record.wall_seconds = round(time.monotonic() - self.started, 3)
        return schema.save(path, self.record)
