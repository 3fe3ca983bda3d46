"""`report.py --run`: run the assignment's commands one after the other, each as its own
process, with one progress line per command; keep what each printed and how it ended.

- A command's output goes to `{out}/logs/{key}.txt` (the console gets one line per
  command); the page links it where a command failed.
- What happened is written to `{out}/runs.json` after every command, so the page can say
  which command failed, was interrupted or was not run, even after a crash. A run of some
  parts (`--part 3`) keeps what an earlier `--run` recorded of the others, and their logs.
- A failing command does not stop the list; a command that needs the files of one that
  failed (seq_plot.py after its seq_train.py) is skipped with the reason.
- Ctrl-C (or SIGTERM) is passed on to the running command once, which stops at its next
  step boundary and keeps what it finished; the rest is not run and the page is built
  from what there is. The commands run in their own session (nnlab/child.py) so that a
  Ctrl-C at the terminal reaches them only through report.py, once (a second signal would
  make them stop at once). A second Ctrl-C stops everything at once.
"""
import datetime
import os
import time
from collections import Counter

from nnlab import ROOT
from nnlab.child import Child, last_line, python_script
from nnlab.cli import SIGNAL_NAMES, stop
from nnlab.files import ensure_dir
from nnlab.formats import schema
from nnlab.formats.page_runs import PageRuns, StepRecord
from nnlab.page.sources import MANIFEST, Sources

LOGS = 'logs'
INTERRUPTED = tuple(128 + signum for signum in SIGNAL_NAMES)


def _now():
    return datetime.datetime.now().astimezone().isoformat(timespec='seconds')


def run_one(script, argv, log_path, cwd=None):
    """Run one command with its output in `log_path`; its exit code. A stop request is
    passed on once (the command saves what it finished); a second Ctrl-C stops it too."""
    env = dict(os.environ, MPLBACKEND='Agg', PYTHONUNBUFFERED='1')
    child = Child(python_script(os.path.join(ROOT, script), argv), cwd=cwd, env=env,
                  stdout=log_path, stderr='stdout').start()
    try:
        while True:
            code = child.wait(0.25)
            if code is not None:
                return code
            if stop.requested:
                child.stop(stop.exit_code - 128)
    except KeyboardInterrupt:           # a second signal: the command stops at once too
        child.stop_and_wait(grace=10)
        raise


class Runner:
    """Runs `steps` (commands.Step) and keeps the manifest up to date."""

    def __init__(self, steps, out_dir, quick=False, say=print):
        self.steps, self.out_dir, self.quick, self.say = steps, out_dir, quick, say
        # What an earlier --run recorded of the other steps is kept (its damaged steps
        # are dropped with a warning: they never stop this run).
        earlier = Sources(out_dir, out_dir, out_dir).manifest
        ours = {step.key for step in steps}
        kept = [e for e in earlier.steps if e.key not in ours] if earlier else []
        self.manifest = PageRuns(started=_now(), steps=kept)

    def _save(self):
        schema.save(os.path.join(self.out_dir, MANIFEST), self.manifest)

    def _status_of(self, key):
        return next((entry.status for entry in self.manifest.steps if entry.key == key), None)

    def run(self):
        """Run every step; the number of steps that did not finish."""
        logs = ensure_dir(os.path.join(self.out_dir, LOGS))
        total, began = len(self.steps), time.monotonic()
        entries = []
        for number, step in enumerate(self.steps, 1):
            entry = StepRecord(key=step.key, part=step.part, command=step.command(self.quick),
                               argv=step.argv(self.quick), quick=self.quick)
            self.manifest.steps.append(entry)
            entries.append(entry)
            self._one(number, total, step, entry, logs)
            self._save()
        self.manifest.seconds = round(time.monotonic() - began, 1)
        self._save()
        counts = Counter(entry.status for entry in entries)     # in the order first seen
        summary = ', '.join(f'{n} {status}' for status, n in counts.items())
        self.say(f'ran the commands in {self.manifest.seconds:.1f} s: {summary}')
        return len(entries) - counts['finished']

    def _one(self, number, total, step, entry, logs):
        head = f'[{number}/{total}] {entry.command}'
        if stop.requested:
            entry.status, entry.reason = 'not run', f'{stop.reason} before it started'
            return
        needed = self._status_of(step.needs) if step.needs else 'finished'
        if needed != 'finished':
            entry.status = 'skipped'
            entry.reason = (f'it reads the files of {step.needs}, which '
                            f'{needed if needed else "was not run"}')
            self.say(f'{head} ... skipped ({entry.reason})')
            return
        self.say(f'{head} ...', end=' ', flush=True)
        log = os.path.join(logs, f'{step.key}.txt')
        entry.log, entry.started, entry.started_ts = \
            os.path.relpath(log, self.out_dir), _now(), time.time()
        self._save()
        code = run_one(step.script, step.argv(self.quick), log)
        entry.exit_code, entry.ended_ts = code, time.time()
        entry.seconds = round(entry.ended_ts - entry.started_ts, 1)
        took = f'{entry.seconds:.1f} s'
        if code == 0:
            entry.status = 'finished'
            self.say(f'done in {took}')
        elif code in INTERRUPTED or stop.requested:
            entry.status, entry.reason = 'interrupted', last_line(log)
            self.say(f'interrupted after {took}')
        else:
            entry.status, entry.reason = 'failed', last_line(log)
            self.say(f'failed in {took} (exit code {code}): {entry.reason}')
