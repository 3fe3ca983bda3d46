"""The one way the toolkit starts a child process: the sweep's tasks, `report.py --run`'s
commands, SLURM's commands, the git lookup, the benches and the tests all start it here.

A child starts in its own session (POSIX) or process group (Windows), so a Ctrl-C at the
terminal reaches the parent only; the parent then passes a stop on once, which the
scripts handle like Ctrl-C (save what is finished, exit). Its output goes to files (the
log is kept) or is captured; its one-line error is the last line of its stderr.

    child = Child([sys.executable, 'seq_train.py', ...], stdout=path, stderr=path).start()
    child.poll() / child.wait(timeout) / child.stop() / child.kill() / child.last_line()

Standard library only.
"""
import contextlib
import os
import signal
import subprocess
import sys
import time

WINDOWS = os.name == 'nt'
STOP_GRACE_SECONDS = 30     # after a stop, how long a child may take to save and exit
CANNOT_START = 127          # the shell's code for a command that could not be run
TAIL_BYTES = 4096


def stop_signal(requested=None):
    """The signal that asks a child to stop: the one the parent got where it can be passed
    on (Ctrl-C, SIGTERM, SIGHUP), else SIGTERM; CTRL_BREAK on Windows (the only event a
    process group can be sent there)."""
    if WINDOWS:
        return signal.CTRL_BREAK_EVENT
    passable = {signal.SIGINT, signal.SIGTERM, getattr(signal, 'SIGHUP', signal.SIGTERM)}
    return requested if requested in passable else signal.SIGTERM


class Child:
    """One child process. `stdout`/`stderr` are file paths (`stderr='stdout'` joins them
    in one log), or None with `capture=True` to keep them in memory."""

    def __init__(self, argv, cwd=None, env=None, stdout=None, stderr=None, capture=False):
        self.argv, self.cwd, self.env = [os.fspath(a) for a in argv], cwd, env
        self.stdout_path, self.stderr_path, self.capture = stdout, stderr, capture
        self.process = self.start_error = None
        self.started = self.ended = None
        self.stopped = False

    def start(self):
        files = []
        try:
            out = err = subprocess.PIPE if self.capture else subprocess.DEVNULL
            if self.stdout_path:
                out = open(self.stdout_path, 'wb')
                files.append(out)
            if self.stderr_path == 'stdout':
                err = subprocess.STDOUT
            elif self.stderr_path:
                err = open(self.stderr_path, 'wb')
                files.append(err)
            session = ({'creationflags': subprocess.CREATE_NEW_PROCESS_GROUP} if WINDOWS
                       else {'start_new_session': True})    # a process group of its own
            self.started = time.monotonic()
            self.process = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env,
                                            stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                            **session)
        except OSError as error:
            what = self.argv[1] if len(self.argv) > 1 else self.argv[0]
            self.start_error = (f"cannot start {what} in {self.cwd or os.getcwd()} "
                                f"({error.strerror or error})")
            self.ended = time.monotonic()
        finally:
            for f in files:
                f.close()
        return self

    @property
    def pid(self):
        return self.process.pid if self.process else None

    def poll(self):
        """The exit code, or None while it runs."""
        if self.start_error:
            return CANNOT_START
        code = self.process.poll()
        if code is not None and self.ended is None:
            self.ended = time.monotonic()
        return code

    def wait(self, timeout=None):
        """The exit code once it has ended; None if `timeout` seconds passed first."""
        if self.start_error:
            return CANNOT_START
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.poll()

    def communicate(self, timeout=None):
        """(stdout, stderr) of a captured child, once it has ended (text)."""
        out, err = self.process.communicate(timeout=timeout)
        self.poll()
        return (out or b'').decode('utf-8', 'replace'), (err or b'').decode('utf-8', 'replace')

    def send(self, signum):
        """A signal to the child's whole process group (Windows: the group gets
        CTRL_BREAK; any other signum ends the child at once)."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            if WINDOWS:
                if signum == signal.CTRL_BREAK_EVENT:
                    self.process.send_signal(signal.CTRL_BREAK_EVENT)
                else:
                    self.process.kill()
            else:
                os.killpg(self.process.pid, signum)

    def stop(self, requested=None):
        """Ask it, once, to save what is finished and stop."""
        if not self.stopped and self.poll() is None:
            self.stopped = True
            self.send(stop_signal(requested))

    def kill(self):
        """End it (and its process group) at once, and wait for it."""
        if self.poll() is None:
            self.send(signal.SIGKILL if not WINDOWS else signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
            self.poll()

    def stop_and_wait(self, grace=STOP_GRACE_SECONDS, requested=None):
        """stop(), then kill() if it has not ended within `grace` seconds; its exit code."""
        self.stop(requested)
        if self.wait(grace) is None:
            self.kill()
        return self.poll()

    @property
    def seconds(self):
        end = self.ended if self.ended is not None else time.monotonic()
        return round(end - self.started, 3) if self.started is not None else 0.0

    def last_line(self):
        """The last non-empty line of its stderr (or joined log): a script's `error: ...`."""
        path = self.stdout_path if self.stderr_path == 'stdout' else self.stderr_path
        return last_line(path) if path else ''

    def failure(self):
        """Why it failed, in one line ('' if it exited 0)."""
        code = self.poll()
        if self.start_error:
            return self.start_error
        if code == 0:
            return ''
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = str(-code)
            return f'killed by signal {name}'
        return self.last_line() or f'exit code {code} and nothing on stderr'


def last_line(path, limit=TAIL_BYTES):
    """The last non-empty line of a text file's last `limit` bytes ('' if none)."""
    try:
        with open(path, 'rb') as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - limit))
            lines = f.read().decode('utf-8', 'replace').splitlines()
    except OSError:
        return ''
    return next((line.strip()[:300] for line in reversed(lines) if line.strip()), '')


def python_script(script, args):
    """The argv that runs a script with this Python."""
    return [sys.executable, os.fspath(script),
            *(os.fspath(a) if isinstance(a, os.PathLike) else str(a) for a in args)]


def run_captured(argv, cwd=None, env=None, timeout=None):
    """Run a child to its end with its output captured: (exit code, stdout, stderr); a
    command that cannot start gives CANNOT_START and why. A timeout kills it and raises
    TimeoutError."""
    child = Child(argv, cwd=cwd, env=env, capture=True).start()
    if child.start_error:
        return CANNOT_START, '', child.start_error
    try:
        out, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise TimeoutError(f"{child.argv[0]} did not end within {timeout} s") from None
    except BaseException:
        child.kill()
        raise
    return child.poll(), out, err
