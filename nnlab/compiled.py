"""What the compiled (numba) training kernels share: the on-disk cache, the one-line
"compiling" notice, the threads that run independent trainings side by side, and
torch.optim's updates (Adam, SGD) written for them.

Kernels are declared with `@kernel()` instead of numba's `@njit(cache=True)`, and called
through `call(kernel, *args)` or, for K independent runs, `call_per_run(kernel, K, ...)`:

- numba keeps compiled code in the `__pycache__` folder beside the source. When that
  folder is not writable (a read-only checkout, a shared install) the code goes to
  ~/.cache/nnlab-numba, else to a folder in the temp directory, else it is not cached at
  all: a cache problem never stops a run, it only costs a compilation.
- Compiling takes seconds, so before the first compilation in a process that the cache
  cannot serve, one line on stderr says what is happening. A cached kernel loads in
  milliseconds and prints nothing.
- K runs are shared out over threads, one run at a time per thread, each run wholly on
  one thread. numba's own `prange` (parallel=True) would do the same, but compiling its
  parallel version of a kernel takes seconds longer than the kernel itself.
- numba's cache checks only the source file of the cached function, not the files of the
  functions it calls. Kernels call the optimiser updates below, so every kernel's cache
  also carries this file's stamp: a change here recompiles them all.
"""
import math
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numba
from numba.core.caching import NullCache

NOTICE = 'note: compiling the training kernels (first run only, about {seconds} s) ...'

_notice_shown = False     # once per process, however many kernels compile


def _writable_folder(path):
    """True if `path` exists or can be made, and a file can be written in it."""
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
        return True
    except OSError:
        return False


def _user_id():
    """Who owns the temp folder's cache: the uid where there is one (not on Windows)."""
    return os.getuid() if hasattr(os, 'getuid') else 'user'


def _fallback_cache_folder():
    """A writable folder for the cache outside the source tree, or None."""
    candidates = [os.path.join(os.path.expanduser('~'), '.cache', 'nnlab-numba'),
                  os.path.join(tempfile.gettempdir(), f'nnlab-numba-{_user_id()}')]
    return next((path for path in candidates if _writable_folder(path)), None)


def _ensure_writable_cache(source_file):
    """Make numba's cache for `source_file` writable; False if no folder could be found.

    numba's own rule: the folder named by NUMBA_CACHE_DIR if set and writable, else the
    source's __pycache__, else its user-wide folder, else it refuses to decorate the
    function at all (an import error). We decide before numba does, so the last case
    cannot happen, and the cache lands in a folder of ours rather than numba's.
    """
    chosen = numba.config.CACHE_DIR
    if chosen and _writable_folder(chosen):
        return True
    if _writable_folder(os.path.join(os.path.dirname(os.path.abspath(source_file)),
                                     '__pycache__')):
        return True
    folder = _fallback_cache_folder()
    if folder is None:
        return False
    # numba reads the variable once, at import, and is usually imported already: set its
    # config too. The environment variable carries the choice to child processes.
    os.environ['NUMBA_CACHE_DIR'] = folder
    numba.config.CACHE_DIR = folder
    return True


def kernel():
    """Decorator: numba.njit with the on-disk cache when possible.

    No fastmath: it lets the compiler reorder sums, so results would depend on the
    machine and on where the data sits in memory. nogil, so that threads can run
    kernels side by side. No bounds checks (numba's default): callers check indices.
    """
    def decorate(func):
        source_file = func.__code__.co_filename
        if _ensure_writable_cache(source_file):
            try:
                return _also_stamped_by_this_file(numba.njit(cache=True, nogil=True)(func))
            except RuntimeError:   # "cannot cache function ...: no locator available"
                pass
        return numba.njit(cache=False, nogil=True)(func)
    return decorate


def _also_stamped_by_this_file(dispatcher):
    """A cache index is valid for its source file's stamp (time and size); add this
    file's, whose functions the kernel calls (numba's internals: if they change, the
    cache works as numba's own)."""
    try:
        cache_file = dispatcher._cache._cache_file
        mine = os.stat(__file__)
        cache_file._source_stamp = (cache_file._source_stamp, (mine.st_mtime, mine.st_size))
    except (AttributeError, OSError):
        pass
    return dispatcher


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


def is_cached(dispatcher, types):
    """True if numba's on-disk cache holds this kernel for these argument types.

    numba keeps, per function, an index file `<module>.<function>-<line>.py311.nbi`
    mapping (signature, CPU, hash of the bytecode) to a data file; the index is ignored
    when it was written by another numba version or for another version of the source.
    We ask the index the same question the dispatcher will ask. This uses numba's
    internals; if they change, the answer is "no" and the notice shows once too many.
    """
    cache = getattr(dispatcher, '_cache', None)
    if cache is None or isinstance(cache, NullCache) or not cache._enabled:
        return False
    try:
        key = cache._index_key(types, dispatcher.targetctx.codegen())
        entry = cache._cache_file._load_index().get(key)
        return entry is not None and os.path.exists(cache._cache_file._data_path(entry))
    except Exception:
        return False


def _show_notice(seconds):
    global _notice_shown
    if not _notice_shown:
        _notice_shown = True
        print(NOTICE.format(seconds=seconds), file=sys.stderr, flush=True)


def ensure_compiled(dispatcher, args, seconds=10):
    """Compile (or load from the cache) `dispatcher` for `args` before running it.

    Compiling apart from running keeps a cache failure away from the run: if loading or
    saving the cache raises (a corrupt or unwritable cache file), the kernel's index is
    rewritten empty and the kernel compiled again, and if that fails too, compiled with
    the cache switched off; all before any array was touched.
    """
    types = argument_types(args)
    if types in dispatcher.overloads:
        return
    if not is_cached(dispatcher, types):
        _show_notice(seconds)
    try:
        dispatcher.compile(types)
        return
    except numba.core.errors.NumbaError:
        raise                  # a typing or lowering error: not the cache's fault
    except Exception:
        if isinstance(getattr(dispatcher, '_cache', None), NullCache):
            raise
    try:
        dispatcher._cache.flush()
        dispatcher.compile(types)
        return
    except Exception:
        dispatcher._cache = NullCache()
    dispatcher.compile(types)


def call(dispatcher, *args, seconds=10):
    """Run a kernel, compiling it first if this process has not (see ensure_compiled)."""
    ensure_compiled(dispatcher, args, seconds)
    return dispatcher(*args)


def _available_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:     # not on Linux
        return os.cpu_count() or 1


_thread_limit = None          # None: every available core


def limit_threads(count=None):
    """Let the kernels use at most `count` threads (None: one per available core);
    returns the number in effect. Results do not depend on it: each run's arithmetic is
    done by one thread, whichever."""
    global _thread_limit
    _thread_limit = None if count is None else max(1, int(count))
    return thread_count()


def thread_count():
    """Threads for K runs: the limit set, else NUMBA_NUM_THREADS where the environment
    names it (sweep.py gives each task process one thread: it runs one task per core),
    else one per available core."""
    if _thread_limit:
        return _thread_limit
    try:
        named = int(os.environ.get('NUMBA_NUM_THREADS', ''))
    except ValueError:
        named = 0
    return max(1, min(named, _available_cores())) if named > 0 else _available_cores()


def call_per_run(dispatcher, runs, *args, seconds=10):
    """Run `dispatcher(first_run, stop_run, *args)` over runs 0..runs-1, each run on one
    thread, as many threads as allowed.

    Runs are handed out one at a time, so a thread that finishes early takes the next.
    Ctrl-C takes effect once every run has finished this call (leaving the pool waits
    for them), so all runs stop at the same point, whole.
    """
    ensure_compiled(dispatcher, (0, runs) + args, seconds)
    workers = min(thread_count(), runs)
    if workers <= 1:
        dispatcher(0, runs, *args)
        return
    with ThreadPoolExecutor(workers) as pool:
        jobs = [pool.submit(dispatcher, k, k + 1, *args) for k in range(runs)]
        for job in jobs:
            job.result()
