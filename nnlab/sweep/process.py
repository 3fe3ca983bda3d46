"""One task = one process of a training script, in its own folder.

The script runs as the user would run it (its own threads, signals, one-line errors), with
its run record, console output and pictures/checkpoints in the task's folder:

    run.json     the run record (--summary)
    stdout.txt   what it printed
    stderr.txt   its warnings and, if it failed, its one-line error (the last line)
    ...          its pictures or checkpoints (--plot_dir / --out_path point here)

Each process gets its own session (process group), so a Ctrl-C at the terminal reaches
the sweep only; the sweep then stops its tasks itself (SIGTERM, which the scripts handle
like Ctrl-C). The same code runs a task on a Ray worker. Standard library only.
"""
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

# Each task process computes with one thread: --jobs N processes then share N cores
# instead of N*cores threads fighting over them (the course's nets are small; a second
# thread per process mostly adds waiting). A user's own setting wins.
ONE_THREAD = {name: '1' for name in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS',
                                     'OPENBLAS_NUM_THREADS', 'NUMBA_NUM_THREADS')}
RECORD, STDOUT, STDERR = 'run.json', 'stdout.txt', 'stderr.txt'
STOP_GRACE_SECONDS = 30   # after SIGTERM, how long a task may take to save and exit


@dataclass
class TaskSpec:
    """Everything needed to run one task, as plain data (it travels to Ray workers)."""
    script: str               # absolute path of the script
    args: list                # its flags, including --seed/--restarts/--summary/outputs
    folder: str               # absolute path of the task's folder
    cwd: str                  # where the user started the sweep: relative paths mean the same
    env: dict = field(default_factory=dict)   # added to the environment of the process


def task_environment(extra):
    env = dict(os.environ)
    for name, value in ONE_THREAD.items():
        env.setdefault(name, value)
    env['MPLBACKEND'] = 'Agg'
    env.update(extra)
    return env


class TaskProcess:
    """A running task: start(), poll(), stop() (SIGTERM), kill(), outcome()."""

    CANNOT_START = 127      # the shell's code for a command that could not be run

    def __init__(self, spec):
        self.spec = spec
        self.process = None
        self.started = self.ended = None
        self.start_error = None     # e.g. the folder to run in is missing on this node

    def start(self):
        # The folder holds exactly one attempt: remove what an interrupted one left.
        shutil.rmtree(self.spec.folder, ignore_errors=True)
        os.makedirs(self.spec.folder, exist_ok=True)
        with open(os.path.join(self.spec.folder, STDOUT), 'wb') as out, \
                open(os.path.join(self.spec.folder, STDERR), 'wb') as err:
            self.started = time.monotonic()
            try:
                self.process = subprocess.Popen(
                    [sys.executable, self.spec.script, *self.spec.args], cwd=self.spec.cwd,
                    env=task_environment(self.spec.env), stdin=subprocess.DEVNULL,
                    stdout=out, stderr=err, start_new_session=True)
            except OSError as error:
                self.start_error = f"cannot start {self.spec.script} in {self.spec.cwd} " \
                                   f"({error.strerror or error})"
                self.ended = time.monotonic()
        return self

    def poll(self):
        """The exit code, or None while it runs."""
        if self.start_error:
            return self.CANNOT_START
        code = self.process.poll()
        if code is not None and self.ended is None:
            self.ended = time.monotonic()
        return code

    def _signal(self, signum):
        try:
            os.killpg(self.process.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self):
        """Ask it to stop (the scripts save what is finished and exit 143)."""
        if self.poll() is None:
            self._signal(signal.SIGTERM)

    def kill(self):
        if self.poll() is None:
            self._signal(signal.SIGKILL)
            self.process.wait()
            self.poll()

    def outcome(self):
        """What the driver needs: exit code, seconds, the error line of a failure."""
        code = self.poll()
        return dict(exit_code=code, seconds=round(self.ended - self.started, 3),
                    error=self.start_error or error_line(self.spec.folder, code))


def error_line(folder, code):
    """Why a task failed, in one line: its last stderr line (the scripts' `error: ...`),
    or the signal that ended it. Empty for a task that exited 0."""
    if code == 0:
        return ''
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return f'killed by signal {name}'
    try:
        with open(os.path.join(folder, STDERR), 'rb') as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - 4096))
            lines = f.read().decode('utf-8', 'replace').splitlines()
    except OSError:
        lines = []
    last = next((line.strip() for line in reversed(lines) if line.strip()), '')
    return last or f'exit code {code} and nothing on stderr'


def run_to_end(spec, poll_seconds=0.2):
    """Run a task to its end (a Ray worker's way). A KeyboardInterrupt (how Ray cancels a
    running task) stops the process, waits for it, then propagates."""
    task = TaskProcess(spec).start()
    try:
        while task.poll() is None:
            time.sleep(poll_seconds)
    except BaseException:
        task.stop()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while task.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        task.kill()
        raise
    return task.outcome()
