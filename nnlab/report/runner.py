"""`report.py --run`: run the assignment's commands one after the other, each as its own
process, with one progress line per command; keep what each printed and how it ended.

- A command's output goes to `{out}/logs/{key}.txt` (the console gets one line per
  command); the page quotes from it what the run records do not hold (Part 2's lines and
  table) and links it where a command failed.
- What happened is written to `{out}/runs.json` after every command, so the page can say
  which command failed, was interrupted or was not run, even after a crash. A run of some
  parts (`--part 3`) keeps what an earlier `--run` recorded of the others, and their logs.
- A failing command does not stop the list; a command that needs the files of one that
  failed (seq_plot.py after its seq_train.py) is skipped with the reason.
- Ctrl-C (or SIGTERM) is passed on to the running command once, which stops at its next
  step boundary and keeps what it finished; the rest is not run and the page is built
  from what there is. The commands run in their own session so that a Ctrl-C at the
  terminal reaches them only through report.py, once (a second signal would make them
  stop at once). A second Ctrl-C stops everything at once.
"""
import datetime
import os
import signal
import subprocess
import sys
import time

from nnlab import ROOT
from nnlab.cli import stop
from nnlab.files import atomic_write_json, ensure_dir
from nnlab.report.sources import MANIFEST, MANIFEST_FORMAT, read_json

LOGS = 'logs'
INTERRUPTED = (128 + signal.SIGINT, 128 + signal.SIGTERM, 128 + signal.SIGHUP)


def _now():
    return datetime.datetime.now().astimezone().isoformat(timespec='seconds')


def _last_line(path):
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            lines = [line.strip() for line in f.read()[-4000:].splitlines() if line.strip()]
    except OSError:
        return ''
    return lines[-1][:300] if lines else ''


def _signal_to_pass():
    """The signal that stopped report.py, to pass on to the command (SIGTERM if the stop
    came from elsewhere, e.g. a closed stdout)."""
    signum = stop.exit_code - 128
    return signum if signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP) else signal.SIGTERM


def run_one(script, argv, log_path, cwd=None):
    """Run one command with its output in `log_path`; its exit code."""
    env = dict(os.environ, MPLBACKEND='Agg', PYTHONUNBUFFERED='1')
    with open(log_path, 'w', encoding='utf-8') as log:
        proc = subprocess.Popen([sys.executable, os.path.join(ROOT, script), *argv],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                env=env, cwd=cwd, start_new_session=True)
        passed = False
        try:
            while True:
                try:
                    return proc.wait(timeout=0.25)
                except subprocess.TimeoutExpired:
                    if stop.requested and not passed:
                        proc.send_signal(_signal_to_pass())
                        passed = True
        except KeyboardInterrupt:           # a second signal: the command stops at once too
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            raise


class Runner:
    """Runs `steps` (commands.Step) and keeps the manifest up to date."""

    def __init__(self, steps, out_dir, quick=False, say=print):
        self.steps, self.out_dir, self.quick, self.say = steps, out_dir, quick, say
        earlier = read_json(os.path.join(out_dir, MANIFEST)) or {}
        ours = {step.key for step in steps}
        kept = [e for e in earlier.get('steps') or [] if isinstance(e, dict)
                and e.get('key') not in ours] if earlier.get('format') == MANIFEST_FORMAT else []
        self.manifest = {'format': MANIFEST_FORMAT, 'started': _now(), 'steps': kept}

    def _save(self):
        atomic_write_json(os.path.join(self.out_dir, MANIFEST), self.manifest)

    def _status_of(self, key):
        for entry in self.manifest['steps']:
            if entry['key'] == key:
                return entry['status']
        return None

    def run(self):
        """Run every step; the number of steps that did not finish."""
        logs = ensure_dir(os.path.join(self.out_dir, LOGS))
        total, began = len(self.steps), time.monotonic()
        entries = []
        for number, step in enumerate(self.steps, 1):
            entry = dict(key=step.key, part=step.part, command=step.command(self.quick),
                         argv=step.argv(self.quick), quick=self.quick, status='pending')
            self.manifest['steps'].append(entry)
            entries.append(entry)
            self._one(number, total, step, entry, logs)
            self._save()
        self.manifest['seconds'] = round(time.monotonic() - began, 1)
        self._save()
        counts = {}
        for entry in entries:
            counts[entry['status']] = counts.get(entry['status'], 0) + 1
        summary = ', '.join(f'{n} {status}' for status, n in counts.items())
        self.say(f'ran the commands in {self.manifest["seconds"]:.1f} s: {summary}')
        return sum(n for status, n in counts.items() if status != 'finished')

    def _one(self, number, total, step, entry, logs):
        head = f'[{number}/{total}] {entry["command"]}'
        if stop.requested:
            entry.update(status='not run', reason=f'{stop.reason} before it started')
            return
        needed = self._status_of(step.needs) if step.needs else 'finished'
        if needed != 'finished':
            entry.update(status='skipped', reason=f'it reads the files of {step.needs}, which '
                                                  f'{needed if needed else "was not run"}')
            self.say(f'{head} ... skipped ({entry["reason"]})')
            return
        self.say(f'{head} ...', end=' ', flush=True)
        log = os.path.join(logs, f'{step.key}.txt')
        entry.update(log=os.path.relpath(log, self.out_dir), started=_now(),
                     started_ts=time.time())
        self._save()
        code = run_one(step.script, step.argv(self.quick), log)
        entry.update(exit_code=code, ended_ts=time.time(),
                     seconds=round(time.time() - entry['started_ts'], 1))
        took = f'{entry["seconds"]:.1f} s'
        if code == 0:
            entry['status'] = 'finished'
            self.say(f'done in {took}')
        elif code in INTERRUPTED or stop.requested:
            entry.update(status='interrupted', reason=_last_line(log))
            self.say(f'interrupted after {took}')
        else:
            entry.update(status='failed', reason=_last_line(log))
            self.say(f'failed in {took} (exit code {code}): {entry["reason"]}')
