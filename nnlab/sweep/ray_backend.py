"""--backend ray: the same task processes, as Ray tasks on a cluster (or a local Ray).

Each Ray task runs one task process exactly as the local backend does (same command,
same environment, same folder path) and returns its outcome. Workers need the repository,
its Python environment and the data at the same paths as the driver (docs/sweeps.md).

Outputs come back as return values, so no shared filesystem is needed: a task that ran on
another node also returns every file of its folder (the record, stdout/stderr, the
pictures or checkpoints: tens to hundreds of kB), and the driver writes them under DIR.
The node keeps its own copy (on a shared filesystem it is the same folder).

Ray is imported only here, only for --backend ray: local sweeps never need it.
"""
import contextlib
import logging
import os
import pathlib
import shutil
import signal
import socket
import time

from nnlab.cli import UserError, stop
from nnlab.files import atomic_write
from nnlab.sweep.process import AttachedBackend, run_to_end, worker_pythonpath

POLL_SECONDS = 0.2
INSTALL = "install it: pip install -r requirements-ray.txt"


def import_ray():
    try:
        import ray
    except ImportError as err:
        raise UserError(f"--backend ray needs Ray, which cannot be imported here ({err}); "
                        f"{INSTALL}")
    return ray


def _folder_files(folder):
    paths = (os.path.join(here, name) for here, _, names in os.walk(folder) for name in names)
    return {os.path.relpath(path, folder): pathlib.Path(path).read_bytes() for path in paths}


def _run_on_worker(spec, driver_node):
    """The Ray task: run the process; ship the folder back if this is another node."""
    import ray
    outcome = run_to_end(spec)
    outcome['node'] = socket.gethostname()
    if ray.get_runtime_context().get_node_id() != driver_node:
        outcome['files'] = _folder_files(spec.folder)
    return outcome


def _write_files(folder, files):
    for relative, data in files.items():
        atomic_write(os.path.join(folder, relative),
                     lambda tmp, data=data: pathlib.Path(tmp).write_bytes(data))


def check_reachable(address, seconds=5):
    """Fail with one line if nothing answers at a HOST:PORT address: Ray itself would retry
    connecting for minutes, deaf to Ctrl-C. 'auto', 'local' and None are Ray's to resolve."""
    if not address or address in ('auto', 'local'):
        return
    host, _, port = address.split('://')[-1].rpartition(':')
    if not host or not port.isdigit():
        raise UserError(f"--address {address!r}: expected HOST:PORT (e.g. 10.0.0.5:6379 or "
                        f"ray://10.0.0.5:10001), 'auto' or 'local'")
    try:
        socket.create_connection((host.strip('[]'), int(port)), timeout=seconds).close()
    except OSError as err:
        raise UserError(f"nothing answers at Ray address {address} ({err.strerror or err}); "
                        f"start the cluster (ray start --head) or fix --address/RAY_ADDRESS")


class RayBackend(AttachedBackend):
    name = 'ray'

    def __init__(self, jobs=None, address=None):
        ray = self.ray = import_ray()
        address = address or os.environ.get('RAY_ADDRESS') or None
        check_reachable(address)
        # ray.init replaces the SIGTERM handler (and may touch SIGINT): keep the toolkit's,
        # so Ctrl-C and SIGTERM still stop the sweep cleanly.
        handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     logging_level=logging.WARNING,
                     runtime_env={'env_vars': {'PYTHONPATH': worker_pythonpath()}})
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise UserError(f"cannot start or reach Ray at {address or 'a local Ray'} ({err}); "
                            f"check --address or RAY_ADDRESS (e.g. ray://HEAD:10001, or "
                            f"'local' for a new local instance)")
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
        self.workers = jobs or max(1, int(ray.cluster_resources().get('CPU', 1)))
        self.driver_node = ray.get_runtime_context().get_node_id()
        # One CPU per task, as the processes run single-threaded; Ray's default retries
        # cover a lost node (a failed script is not retried: it returns its exit code).
        self.remote = ray.remote(num_cpus=1)(_run_on_worker)

    def run(self, work, on_done):
        ray = self.ray
        waiting, running = list(reversed(work)), {}
        try:
            while (waiting or running) and not stop.requested:
                while waiting and len(running) < self.workers:
                    task, spec = waiting.pop()
                    running[self.remote.remote(spec, self.driver_node)] = (task, spec)
                done, _ = ray.wait(list(running), num_returns=1, timeout=POLL_SECONDS)
                for ref in done:
                    task, spec = running.pop(ref)
                    on_done(task, self._outcome(ref, spec))
        finally:
            for ref in running:               # Ctrl-C: the tasks stop their processes
                ray.cancel(ref)
            deadline = time.monotonic() + 30
            for ref in running:
                with contextlib.suppress(Exception):      # cancelled, as asked
                    ray.get(ref, timeout=max(0.1, deadline - time.monotonic()))

    def _outcome(self, ref, spec):
        ray = self.ray
        started = time.monotonic()
        try:
            outcome = ray.get(ref)
        except ray.exceptions.RayError as err:
            # The task itself failed (e.g. the folder cannot be made on that node): a row
            # with Ray's first line, not the end of the sweep.
            first = str(err).strip().splitlines()
            return dict(exit_code=None, seconds=round(time.monotonic() - started, 3),
                        error=f"ray: {type(err).__name__}: {first[-1] if first else ''}")
        if 'files' in outcome:      # from another node: replace any earlier attempt here
            shutil.rmtree(spec.folder, ignore_errors=True)
            _write_files(spec.folder, outcome.pop('files'))
        return outcome

    def close(self):
        self.ray.shutdown()
