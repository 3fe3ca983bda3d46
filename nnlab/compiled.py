"""What the compiled (numba) training kernels share: the on-disk cache, the one-line
"compiling" notice, the threads that run independent trainings side by side, and
torch.optim's updates (Adam, SGD) written for them.

Kernels are declared with `@kernel()` instead of numba's `@njit(cache=True)`, and called
through `call(kernel, *args)` or, for K independent runs, `call_per_run(kernel, K, ...)`.
Importing this module changes nothing: a kernel is handed to numba on its first call,
after `setup()` has chosen the cache folder (once per process).

- The compiled code is cached in a folder named after a hash of the kernels' sources
  (this file and the two kernel modules), handed to numba through its documented
  NUMBA_CACHE_DIR setting (and config.CACHE_DIR, which numba reads when a function with
  a cache is decorated; the variable reaches child processes, which see it is ours).
  numba checks only the stamp of a cached function's own file, not of the files of the
  functions it calls (the optimiser updates below), so without the hash a change here
  would not recompile the kernels. The folder is under the package's `__pycache__`;
  where that is not writable (a read-only checkout, a shared install), under
  ~/.cache/nnlab-numba, else the temp directory, else nothing is cached: a cache problem
  never stops a run, it only costs a compilation.
- Compiling takes seconds. No public numba API says before a call whether the cache can
  serve it, so a timer prints the notice when loading has taken over a second (a cached
  kernel loads in milliseconds); a compilation faster than that says so afterwards, from
  the dispatcher's public `stats`. Either way one line, only when compiling.
- A cache file that cannot be read (damaged) makes numba raise: the cache folder is ours,
  so it is emptied and the kernel compiled again, else compiled without the cache.
- K runs are shared out over threads, one run at a time per thread, each run wholly on
  one thread. numba's own `prange` (parallel=True) would do the same, but compiling its
  parallel version of a kernel takes seconds longer than the kernel itself.
"""
import hashlib
import math
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numba

from nnlab import ROOT, machine

KERNEL_SOURCES = ('nnlab/compiled.py', 'nnlab/perceptron/kernels.py',
                  'nnlab/recurrent/kernels.py')
FOLDER_PATTERN = re.compile(r'numba-[0-9a-f]{12}')
KEEP_FOLDERS = 3            # older cache folders (earlier versions of the code) beyond
                            # these are removed
NOTICE_AFTER_SECONDS = 1.0
NOTICE = 'note: compiling the training kernels (first run only, about {seconds} s) ...'
NOTICE_DONE = 'note: compiled the training kernels in {seconds:.1f} s (first run only)'


def _writable_folder(path):
    """True if `path` exists or can be made, and a file can be written in it."""
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
        return True
    except OSError:
        return False


def _sources_hash():
    digest = hashlib.sha1()
    for name in KERNEL_SOURCES:
        try:
            with open(os.path.join(ROOT, name), 'rb') as f:
                digest.update(f.read())
        except OSError:
            digest.update(name.encode())
    return digest.hexdigest()[:12]


def _user_id():
    """Who owns the temp folder's cache: the uid where there is one (not on Windows)."""
    return os.getuid() if hasattr(os, 'getuid') else 'user'


def _base_folders():
    """Where the cache folder may go, in order of preference."""
    given = os.environ.get('NUMBA_CACHE_DIR', '')
    if FOLDER_PATTERN.fullmatch(os.path.basename(os.path.normpath(given or '.'))):
        given = os.path.dirname(os.path.normpath(given))   # ours, inherited from a parent
    bases = [given] if given else []
    bases += [os.path.join(ROOT, 'nnlab', '__pycache__'),
              os.path.join(os.path.expanduser('~'), '.cache', 'nnlab-numba'),
              os.path.join(tempfile.gettempdir(), f'nnlab-numba-{_user_id()}')]
    return bases


def _tidy(base, keep):
    """Remove the oldest cache folders of earlier code versions beyond KEEP_FOLDERS."""
    try:
        others = [os.path.join(base, n) for n in os.listdir(base)
                  if FOLDER_PATTERN.fullmatch(n) and n != keep]
        others.sort(key=os.path.getmtime, reverse=True)
    except OSError:
        return
    for old in others[KEEP_FOLDERS - 1:]:
        shutil.rmtree(old, ignore_errors=True)


def cache_folder():
    """The writable folder for the compiled code of this version of the kernels, or None."""
    name = f'numba-{_sources_hash()}'
    for base in _base_folders():
        folder = os.path.join(base, name)
        if _writable_folder(folder):
            _tidy(base, name)
            return folder
    return None


_cache = ...                # setup()'s answer: the folder, None (no cache), ... (not yet)


def setup():
    """Choose the cache folder (once per process) and hand it to numba, before the first
    kernel is decorated; the folder, or None where no folder can be written."""
    global _cache
    if _cache is ...:
        _cache = cache_folder()
        if _cache is not None:
            os.environ['NUMBA_CACHE_DIR'] = _cache      # numba reloads its config from it
            numba.config.CACHE_DIR = _cache
    return _cache


class Kernel:
    """A function of `@kernel()`: handed to numba (`dispatcher`) on its first call."""

    def __init__(self, func):
        self.func = func
        self.dispatcher = None

    def decorate(self, cached):
        return numba.njit(cache=cached, nogil=True)(self.func)


def kernel():
    """Decorator: numba.njit with the on-disk cache when there is one, on first call.

    No fastmath: it lets the compiler reorder sums, so results would depend on the
    machine and on where the data sits in memory. nogil, so that threads can run
    kernels side by side. No bounds checks (numba's default): callers check indices.
    """
    return Kernel


# --- maths the kernels share: the sigmoid, torch.optim's updates ---------------------------

ADAM_BETAS = (0.9, 0.999)   # torch.optim.Adam's defaults
ADAM_EPS = 1e-8


@numba.njit
def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


@numba.njit
def adam_step(theta, grad, exp_avg, exp_avg_sq, step, lr, weight_decay):
    """torch.optim.Adam's update of `theta` in place: step `step` (1 for the first),
    L2 weight decay added to the gradient, default betas and eps."""
    beta1, beta2 = ADAM_BETAS
    step_size = lr / (1.0 - beta1 ** float(step))
    correction2_sqrt = math.sqrt(1.0 - beta2 ** float(step))
    for p in range(theta.shape[0]):
        g = grad[p]
        if weight_decay != 0.0:
            g += weight_decay * theta[p]
        exp_avg[p] += (1.0 - beta1) * (g - exp_avg[p])      # torch's lerp, weight < 0.5
        exp_avg_sq[p] = exp_avg_sq[p] * beta2 + (1.0 - beta2) * g * g
        denom = math.sqrt(exp_avg_sq[p]) / correction2_sqrt + ADAM_EPS
        theta[p] += -step_size * (exp_avg[p] / denom)


@numba.njit
def sgd_step(theta, grad, momentum_buffer, lr, mom, weight_decay):
    """torch.optim.SGD's update of `theta` in place (no dampening, no Nesterov)."""
    for p in range(theta.shape[0]):
        g = grad[p]
        if weight_decay != 0.0:
            g += weight_decay * theta[p]
        if mom != 0.0:
            # torch starts the buffer as the first gradient itself; from a zero buffer,
            # mom*0 + g is exactly that.
            momentum_buffer[p] = mom * momentum_buffer[p] + g
            g = momentum_buffer[p]
        theta[p] -= lr * g


def argument_types(args):
    """The numba types a call with `args` compiles for (as the dispatcher computes them)."""
    return tuple(numba.typeof(value) for value in args)


_notice_shown = False       # once per process, however many kernels compile
_notice_lock = threading.Lock()


def _show(line):
    global _notice_shown
    with _notice_lock:
        if _notice_shown:
            return
        _notice_shown = True
    print(line, file=sys.stderr, flush=True)


def _compile_with_notice(dispatcher, types, seconds):
    """dispatcher.compile(types); the notice if it takes long, or if it compiled."""
    misses = sum(dispatcher.stats.cache_misses.values())
    timer = threading.Timer(NOTICE_AFTER_SECONDS, _show, [NOTICE.format(seconds=seconds)])
    timer.daemon = True
    began = time.monotonic()
    timer.start()
    try:
        dispatcher.compile(types)
    finally:
        timer.cancel()
    if sum(dispatcher.stats.cache_misses.values()) > misses:
        _show(NOTICE_DONE.format(seconds=time.monotonic() - began))


def ensure_compiled(kernel, args, seconds=10):
    """Compile (or load from the cache) `kernel` for `args` before running it; its
    dispatcher, to call.

    Compiling apart from running keeps a cache failure away from the run: if loading or
    saving the cache raises (a damaged cache file), the cache folder is emptied and the
    kernel decorated and compiled again; if that fails too, without the cache. All before
    any array was touched.
    """
    cache = setup()
    if kernel.dispatcher is None:
        kernel.dispatcher = kernel.decorate(cached=cache is not None)
    types = argument_types(args)
    if types in kernel.dispatcher.signatures:
        return kernel.dispatcher
    try:
        _compile_with_notice(kernel.dispatcher, types, seconds)
        return kernel.dispatcher
    except numba.core.errors.NumbaError:
        raise                  # a typing or lowering error: not the cache's fault
    except Exception:
        if cache is None:
            raise
    shutil.rmtree(cache, ignore_errors=True)
    os.makedirs(cache, exist_ok=True)
    for cached in (True, False):
        kernel.dispatcher = kernel.decorate(cached)
        try:
            _compile_with_notice(kernel.dispatcher, types, seconds)
            break
        except numba.core.errors.NumbaError:
            raise
        except Exception:
            if not cached:
                raise
    return kernel.dispatcher


def call(kernel, *args, seconds=10):
    """Run a kernel, compiling it first if this process has not (see ensure_compiled)."""
    return ensure_compiled(kernel, args, seconds)(*args)


def call_per_run(kernel, runs, *args, seconds=10):
    """Run `kernel(first_run, stop_run, *args)` over runs 0..runs-1, each run on one
    thread, as many threads as allowed (nnlab.machine.threads_allowed). Results do not
    depend on how many: each run's arithmetic is done by one thread, whichever.

    Runs are handed out one at a time, so a thread that finishes early takes the next.
    Ctrl-C takes effect once every run has finished this call (leaving the pool waits
    for them), so all runs stop at the same point, whole.
    """
    dispatcher = ensure_compiled(kernel, (0, runs) + args, seconds)
    workers = min(machine.threads_allowed(), runs)
    if workers <= 1:
        dispatcher(0, runs, *args)
        return
    with ThreadPoolExecutor(workers) as pool:
        jobs = [pool.submit(dispatcher, k, k + 1, *args) for k in range(runs)]
        for job in jobs:
            job.result()
