"""How every entry script starts and ends: one-line errors, signals, a closed stdout.

Entry scripts look like

    from nnlab.cli import catch_signals      # the first statement: Ctrl-C from here on
    catch_signals(__name__)                   # is the one line below, never a traceback
    from nnlab import arguments               # noqa: E402 (the other imports follow it)
    from nnlab.cli import run_cli

    def main(argv=None):
        args = parse_args(argv)
        from nnlab.<part>.run import run     # heavy imports (torch) after the flags
        return run(config)

    if __name__ == '__main__':
        run_cli(main)

and raise `UserError("what is wrong; how to fix it")` for bad input: `run_cli` prints it as
one line and exits with 2, never a traceback. An exception raised inside the student's
kuzu.py, check.py or seq_models.py is theirs, reported the same way (nnlab/student.py).

The one interrupt mechanism: `catch_signals`, the first call of every script, installs
handlers for Ctrl-C (SIGINT) and SIGTERM (what `timeout`, schedulers and cluster managers
send) before anything else is imported (`run_cli` installs them too, for a `main` called
from Python). A signal only sets `stop`: one that came while the script was importing ends
it as soon as `run_cli` starts; later, the training loops look at it at every step boundary
(`stop.check()` raises `Interrupted`), save what is finished and let it propagate, and
`run_cli` exits with 130 (SIGINT) or 143 (SIGTERM). Raising inside an import (torch's C++
start-up) is what used to abort with exit 134, so the first signal never raises. A second
signal stops at once (KeyboardInterrupt): files are written atomically, so even then no
half-written file is left under its final name.

A closed or failing stdout (`| head`, `> /dev/full`) is treated like an interrupt: further
output is dropped, training stops at the next step boundary, what is finished is saved,
and the exit code is 141 for a closed pipe (the shell's code for SIGPIPE) or 1 for another
write error, with one line on stderr saying so.

Only the standard library is imported here, so it is cheap to import first.
"""
import errno
import os
import signal
import sys

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_CLOSED_PIPE = 141          # 128 + SIGPIPE, what a shell reports for `cmd | head`
# The stop signals this system has: SIGHUP only on POSIX; CTRL_BREAK (SIGBREAK) only on
# Windows, where it is what a parent can send a child's process group (nnlab/child.py).
SIGNAL_NAMES = {signal.SIGINT: 'Ctrl-C', signal.SIGTERM: 'SIGTERM'}
if hasattr(signal, 'SIGHUP'):
    SIGNAL_NAMES[signal.SIGHUP] = 'SIGHUP (the terminal closed)'
if hasattr(signal, 'SIGBREAK'):
    SIGNAL_NAMES[signal.SIGBREAK] = 'Ctrl-Break'


class UserError(Exception):
    """Bad input a user can fix: printed as one line, exit code 2."""


class Interrupted(Exception):
    """A stop was requested (signal or closed stdout); raised at a step boundary."""

    def __init__(self, reason, exit_code):
        super().__init__(reason)
        self.reason, self.exit_code = reason, exit_code


class StopRequest:
    """The flag the signal handlers set and the training loops read."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.reason, self.exit_code, self.signals = None, 0, 0
        self.caught_early = False       # catch_signals ran: keep what came since

    @property
    def requested(self):
        return self.reason is not None

    def request(self, reason, exit_code):
        if not self.requested:
            self.reason, self.exit_code = reason, exit_code

    def check(self):
        """Raise Interrupted if a stop was requested (call it at step boundaries)."""
        if self.requested:
            raise Interrupted(self.reason, self.exit_code)


stop = StopRequest()


class Invocation:
    """The script and arguments of this run, as run_cli received them (for the run record
    and the command that repeats the run); outside run_cli, the process's own."""
    script = None
    argv = None

    @classmethod
    def current(cls):
        script = cls.script or os.path.basename(sys.argv[0] or 'python3')
        return script, list(sys.argv[1:] if cls.argv is None else cls.argv)


def _on_signal(signum, frame):
    stop.signals += 1
    if stop.signals > 1:                       # asked twice: stop right now
        raise KeyboardInterrupt
    stop.request(f'stopped by {SIGNAL_NAMES.get(signum, signum)}', 128 + signum)


STOPPED_AT_ONCE = "interrupted: stopped at once; files already written are complete"


def _interrupt_hook(kind, error, traceback, previous=sys.excepthook):
    """A second Ctrl-C while the script still imports is one line too (Python then exits
    as killed by SIGINT, 130 in a shell)."""
    if issubclass(kind, KeyboardInterrupt):
        _say(STOPPED_AT_ONCE)
    else:
        previous(kind, error, traceback)


def catch_signals(module_name):
    """The first call of every entry script, `catch_signals(__name__)`, before its other
    imports: from here on a stop signal sets `stop` (kept for run_cli) instead of raising
    inside an import. Only where the script is the program (`__main__`): a test importing
    it keeps its own handlers, and a process multiprocessing spawns, which imports the
    script again as `__mp_main__`, keeps the signals its parent left it
    (nnlab/recurrent/writer.py starts its helper with them ignored)."""
    if module_name != '__main__':
        return
    stop.reset()
    stop.caught_early = True
    for sig in SIGNAL_NAMES:
        signal.signal(sig, _on_signal)
    sys.excepthook = _interrupt_hook


class GuardedStdout:
    """sys.stdout that turns a write error into a stop request instead of a traceback."""

    def __init__(self, stream):
        self.stream = stream
        self.failed = None

    def _fail(self, err):
        if self.failed is None:
            self.failed = err
            closed = err.errno == errno.EPIPE
            why = 'the reader closed it' if closed else (err.strerror or str(err))
            stop.request(f'standard output failed ({why})',
                         EXIT_CLOSED_PIPE if closed else EXIT_FAILURE)
            try:   # what is still buffered now goes nowhere, also at interpreter exit
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self.stream.fileno())
                os.close(devnull)
            except (OSError, ValueError, AttributeError):
                pass

    def write(self, text):
        if self.failed is None:
            try:
                self.stream.write(text)
            except UnicodeEncodeError:      # e.g. a path with undecodable bytes
                encoding = getattr(self.stream, 'encoding', None) or 'ascii'
                self.write(text.encode(encoding, 'backslashreplace').decode(encoding))
            except OSError as err:
                self._fail(err)
        return len(text)

    def flush(self):
        if self.failed is None:
            try:
                self.stream.flush()
            except OSError as err:
                self._fail(err)

    def __getattr__(self, name):
        return getattr(self.stream, name)


def _say(line):
    """One line on stderr; stderr may be gone too, and that is no reason for a traceback."""
    try:
        print(line.encode('utf-8', 'backslashreplace').decode('utf-8'), file=sys.stderr,
              flush=True)
    except (OSError, ValueError, UnicodeError):
        pass


def out_of_memory(err):
    """torch reports a failed allocation as a RuntimeError, numpy as a MemoryError."""
    return isinstance(err, MemoryError) or (
        isinstance(err, RuntimeError) and "can't allocate memory" in str(err))


def _student_mistake(err):
    """The StudentError for an exception raised inside the student's kuzu.py, check.py or
    seq_models.py that nobody wrapped (nnlab/student.py), else None: those are theirs.
    Only the student's files load nnlab.student, so when it is not loaded no student code
    ran (and cli, which student.py imports, imports nothing back)."""
    student = sys.modules.get('nnlab.student')
    if student is None:
        return None
    try:
        return student.attribute(err)
    except Exception:                         # judging must never hide the original error
        return None


def _bug_report(err):
    """Keep the traceback of an unexpected error in a file and point to it (the console
    gets one line); NNLAB_TRACEBACK=1 prints it instead."""
    import tempfile
    import traceback
    text = ''.join(traceback.format_exception(err))
    if os.environ.get('NNLAB_TRACEBACK'):
        _say(text.rstrip())
        return 'the traceback is above'
    try:
        fd, path = tempfile.mkstemp(prefix='nnlab-error-', suffix='.txt')
        with os.fdopen(fd, 'w') as f:
            f.write(' '.join(sys.argv) + '\n' + text)
        return f'details in {path}'
    except OSError:
        return 'run again with NNLAB_TRACEBACK=1 for details'


def _check_environment():
    """Settings the libraries read at import and would reject with a traceback."""
    backend = os.environ.get('MPLBACKEND')
    if backend:
        try:
            import matplotlib  # noqa: F401  (it validates MPLBACKEND as it loads)
        except ValueError:
            raise UserError(f"MPLBACKEND={backend!r} is not a matplotlib backend; unset it "
                            f"(pictures are saved without a window) or name one, e.g. Agg")


def run_cli(main, argv=None):
    """Run `main(argv)`: signals set `stop`, failures become one line and an exit code."""
    if not stop.caught_early:
        stop.reset()
    stop.caught_early = False
    module = sys.modules.get(getattr(main, '__module__', ''), None)
    Invocation.script = os.path.basename(getattr(module, '__file__', '') or '') or None
    Invocation.argv = None if argv is None else [str(a) for a in argv]
    previous = {sig: signal.signal(sig, _on_signal) for sig in SIGNAL_NAMES}
    real_stdout = sys.stdout
    sys.stdout = guarded = GuardedStdout(real_stdout)
    try:
        stop.check()                          # a signal while the script was importing
        _check_environment()
        code = main(argv) or 0
        guarded.flush()                       # a full disk shows only at the last flush
        stop.check()                          # a stop that came after the last boundary
    except Interrupted as err:
        code = err.exit_code
        _say(f"interrupted: {err.reason}; files already written are complete")
    except KeyboardInterrupt:
        code = stop.exit_code or 128 + signal.SIGINT
        _say(STOPPED_AT_ONCE)
    except Exception as err:        # bad input, the student's mistake, else a bug: one line
        blamed = err if isinstance(err, UserError) else _student_mistake(err)
        code = EXIT_FAILURE if blamed is None else EXIT_USAGE
        if blamed is not None:
            _say(f"error: {blamed}")
            for line in getattr(blamed, 'details', ()):    # its frames (NNLAB_DEBUG=1)
                _say(line)
        elif out_of_memory(err):
            _say("error: out of memory; use smaller sizes (--hid, --restarts, counts)")
        else:
            _say(f"error: unexpected {type(err).__name__}: {str(err).strip()[:200]} -- a "
                 f"bug in the toolkit, please report it ({_bug_report(err)})")
    finally:
        guarded.flush()
        sys.stdout = real_stdout
        Invocation.script = Invocation.argv = None
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    sys.exit(code)
