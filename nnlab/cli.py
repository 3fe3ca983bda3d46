"""How every entry script starts and ends: one-line errors, signals, a closed stdout.

Entry scripts look like

    def main(argv=None):
        args = parse_args(argv)
        from nnlab.<part>.run import run     # heavy imports (torch) after the flags
        return run(config)

    if __name__ == '__main__':
        run_cli(main)

and raise `UserError("what is wrong; how to fix it")` for bad input: `run_cli` prints it as
one line and exits with 2, never a traceback.

The one interrupt mechanism: `run_cli` installs handlers for Ctrl-C (SIGINT) and SIGTERM
(what `timeout`, schedulers and cluster managers send) before anything heavy is imported.
A signal only sets `stop`; the training loops look at it at every step boundary
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
SIGNAL_NAMES = {signal.SIGINT: 'Ctrl-C', signal.SIGTERM: 'SIGTERM'}


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


def _on_signal(signum, frame):
    stop.signals += 1
    if stop.signals > 1:                       # asked twice: stop right now
        raise KeyboardInterrupt
    stop.request(f'stopped by {SIGNAL_NAMES.get(signum, signum)}', 128 + signum)


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
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def run_cli(main, argv=None):
    """Run `main(argv)`: signals set `stop`, failures become one line and an exit code."""
    stop.reset()
    previous = {sig: signal.signal(sig, _on_signal) for sig in SIGNAL_NAMES}
    real_stdout = sys.stdout
    sys.stdout = guarded = GuardedStdout(real_stdout)
    code = 0
    try:
        code = main(argv) or 0
        stop.check()                          # a stop that came after the last boundary
    except UserError as err:
        code = EXIT_USAGE
        _say(f"error: {err}")
    except Interrupted as err:
        code = err.exit_code
        _say(f"interrupted: {err.reason}; files already written are complete")
    except KeyboardInterrupt:
        code = stop.exit_code or 128 + signal.SIGINT
        _say("interrupted: stopped at once; files already written are complete")
    except MemoryError:
        code = EXIT_FAILURE
        _say("error: out of memory; use smaller sizes (--hid, --restarts, counts)")
    finally:
        guarded.flush()
        sys.stdout = real_stdout
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    sys.exit(code)
