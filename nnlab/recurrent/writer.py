"""Checkpoints written beside the training, by a helper process.

Checkpoints are torch files, and importing torch (the CUDA build these machines have)
takes about 2 s: longer than a whole anb2n training. Training itself needs no torch, so a
helper process, started when training starts, imports torch on the other core while the
trainer runs, and writes each checkpoint it is sent (atomically, as every file). A failed
write comes back as a message and ends the run with one line. The helper ignores Ctrl-C
and SIGTERM from its start (the trainer decides when to stop and sends its last
checkpoint), and leaves when the trainer says so or is gone. It is started with `spawn`,
the one start method every system has (fork is POSIX only, and unsafe beside threads).
Where the run was given one core (sweep.py's tasks get one thread each: a helper would
take a second core from the other tasks), or torch is loaded already (a caller from
Python that has it: the helper would only import it again), the trainer writes the
checkpoints itself.
"""
import contextlib
import multiprocessing
import os
import signal
import sys

from nnlab import machine
from nnlab.cli import SIGNAL_NAMES, UserError

HELPER_GONE = ("the process writing the checkpoints has stopped; the checkpoints written "
               "so far are complete")


def _save(request):
    from nnlab.recurrent import checkpoint  # loads torch
    checkpoint.save_weights(*request)


@contextlib.contextmanager
def signals_ignored():
    """The stop signals ignored while the helper starts, so that it starts with them
    ignored: a spawned process imports the script again before `_serve` runs, and a
    terminal's Ctrl-C reaches every process of the group (a KeyboardInterrupt in those
    imports would print a traceback). POSIX keeps an ignored signal ignored across exec;
    there a signal the trainer gets meanwhile is also blocked, so it arrives once its
    handler is back (Windows has neither: there the helper ignores them from `_serve`)."""
    block = hasattr(signal, 'pthread_sigmask')
    caught = set()
    if block:
        # spawn's resource tracker is started first, outside the window: starting it
        # unblocks SIGINT and SIGTERM (CPython's bpo-33613), which inside the window
        # would hand a pending signal to SIG_IGN (a Ctrl-C lost, seen under load)
        from multiprocessing import resource_tracker
        resource_tracker.ensure_running()
        signal.pthread_sigmask(signal.SIG_BLOCK, SIGNAL_NAMES)
        caught = signal.sigpending() & set(SIGNAL_NAMES)  # setting SIG_IGN discards these
    handlers = {sig: signal.signal(sig, signal.SIG_IGN) for sig in SIGNAL_NAMES}
    try:
        yield
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        if block:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNAL_NAMES)
        for sig in caught:
            signal.raise_signal(sig)


def _serve(connection, trainers_end):
    """The helper: save what is sent, answer each request, until None or end of input."""
    trainers_end.close()        # else the trainer's end stays open here and EOF never comes
    for sig in SIGNAL_NAMES:
        signal.signal(sig, signal.SIG_IGN)
    try:
        import torch  # noqa: F401   (first, while the trainer starts: the point of the helper)
    except Exception as err:                    # answered at the first request
        load_error = f"cannot load torch to write checkpoints ({err})"
    else:
        load_error = None
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):             # the trainer is gone
            return
        if request is None:
            connection.send(('done', None))
            # Every checkpoint is written and renamed: skip the interpreter's teardown of
            # torch (about a second the trainer would wait for in join()).
            os._exit(0)
        try:
            if load_error:
                raise UserError(load_error)
            _save(request)
            connection.send(('saved', request[0]))
        except UserError as err:
            connection.send(('error', str(err)))
        except Exception as err:                 # reported as one line by the trainer
            connection.send(('error', f"cannot write {request[0]} ({type(err).__name__}: "
                                      f"{err})"))


class CheckpointWriter:
    """`with CheckpointWriter() as writer:` ... `writer.save(path, kind, num_symbols, hid,
    weights, meta)`; leaving the block waits until every checkpoint sent is written."""

    def __init__(self):
        self.process = self.connection = None
        self.pending = 0

    def __enter__(self):
        if machine.threads_allowed() > 1 and 'torch' not in sys.modules:
            context = multiprocessing.get_context('spawn')
            self.connection, theirs = context.Pipe()
            self.process = context.Process(target=_serve, args=(theirs, self.connection),
                                           daemon=True)
            with signals_ignored():
                self.process.start()
            theirs.close()
        return self

    def save(self, path, kind, num_symbols, hid, weights, meta):
        request = (os.fspath(path), kind, num_symbols, hid, weights.copy(), meta)
        if self.process is None:
            _save(request)
            return
        self._collect(wait=False)               # an earlier failure ends the run now
        try:
            self.connection.send(request)
        except OSError:                         # BrokenPipeError among them
            raise UserError(HELPER_GONE)
        self.pending += 1

    def _collect(self, wait):
        while self.pending and (wait or self.connection.poll()):
            try:
                kind, detail = self.connection.recv()
            except (EOFError, OSError):
                raise UserError(HELPER_GONE)
            self.pending -= 1
            if kind == 'error':
                raise UserError(detail)

    def finish(self):
        """Wait until every checkpoint sent is written (a failure is raised once the
        helper has stopped); stop the helper."""
        if self.process is None:
            return
        try:
            self._collect(wait=True)
        finally:
            try:
                self.connection.send(None)
                self.connection.recv()
            except (EOFError, OSError):     # already gone: nothing left to wait for
                pass
            self.process.join(timeout=10)
            if self.process.is_alive():
                self.process.kill()
            self.connection.close()
            self.process = None

    def __exit__(self, kind, error, traceback):
        if self.process is None:
            return
        if kind is None or (issubclass(kind, Exception) and self.pending):
            self.finish()                       # also after an interrupt: keep what was sent
            return
        # Nothing to write (e.g. a bad folder), or a second Ctrl-C: stop at once. kill, not
        # terminate: the helper ignores SIGTERM (a terminal's signals reach it too), and
        # join would wait its timeout
        self.process.kill()
        if issubclass(kind, Exception):         # after a second Ctrl-C not even join
            self.process.join(timeout=10)
        self.process = None
