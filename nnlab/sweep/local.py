"""--backend local: up to --jobs task processes at once on this machine.

A plain loop over child processes (no pool): it starts tasks while there are free
workers, hands each finished one to the driver, and reads the stop flag between polls.

On Ctrl-C/SIGTERM (nnlab.cli.stop) it starts nothing more and stops the running tasks
instead of waiting for them: a task can have minutes left, and its seeds run again with
--resume. A stopped task is not a row; one that happens to finish cleanly while stopping
is (its record is complete). A second Ctrl-C kills them at once.
"""
import time
from collections import deque

from nnlab import machine
from nnlab.child import STOP_GRACE_SECONDS
from nnlab.cli import stop
from nnlab.sweep.process import AttachedBackend, outcome, start_task

POLL_SECONDS = 0.1


class LocalBackend(AttachedBackend):
    name = 'local'

    def __init__(self, jobs=None):
        self.workers = jobs or machine.usable_cores()

    def run(self, work, on_done):
        """Run [(task, TaskSpec)]; call on_done(task, outcome) as each one finishes."""
        waiting, running = deque(work), {}
        try:
            while (waiting or running) and not stop.requested:
                while waiting and len(running) < self.workers:
                    task, spec = waiting.popleft()
                    running[task] = start_task(spec)
                for task, child in list(running.items()):
                    if child.poll() is not None:
                        del running[task]
                        on_done(task, outcome(child))
                time.sleep(POLL_SECONDS)
            for child in running.values():      # stopped: a clean finish is still a row
                child.stop()
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            while running and time.monotonic() < deadline:
                for task, child in list(running.items()):
                    code = child.poll()
                    if code is not None:
                        del running[task]
                        if code == 0:
                            on_done(task, outcome(child))
                time.sleep(POLL_SECONDS)
        finally:
            for child in running.values():      # a second Ctrl-C, or an error above
                child.kill()

    def close(self):
        pass
