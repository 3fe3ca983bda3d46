"""Shared test fixtures: the repository root, the KMNIST folder, running a script."""
import contextlib
import csv
import importlib
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from optional import unavailable

from nnlab import ROOT
from nnlab.child import python_script, run_captured
from nnlab.cli import run_cli

DATA_FOLDERS = ('$KUZU_DATA', '../shared/data', './data')


def kmnist_root():
    """The folder holding KMNIST/raw: $KUZU_DATA, else ../shared/data, else ./data; when
    none has the files, they are downloaded into ./data (as kuzu_main.py does). Offline,
    the tests that need the data are skipped with one line, or fail where
    NNLAB_REQUIRE_DATA is set (optional.py: the one rule for optional parts)."""
    candidates = [os.environ.get('KUZU_DATA'), ROOT.parent / 'shared' / 'data', ROOT / 'data']
    for folder in candidates:
        if folder and (Path(folder) / 'KMNIST' / 'raw' / 't10k-images-idx3-ubyte').is_file():
            return Path(folder)
    from nnlab.cli import UserError
    from nnlab.kmnist.data import ensure_downloaded
    try:
        ensure_downloaded(ROOT / 'data')
        return ROOT / 'data'
    except UserError as err:
        reason = (f"no KMNIST files in {', '.join(DATA_FOLDERS)} and they cannot be "
                  f"downloaded ({str(err).split(' (')[0]}): run python3 kuzu_main.py once "
                  f"online, or set KUZU_DATA to the folder holding KMNIST/raw")
    unavailable('DATA', reason)


@pytest.fixture(scope='session')
def data_dir():
    return kmnist_root()


def train_size(data_dir):
    """How many training images the data folder holds (the header of the IDX file)."""
    raw = Path(data_dir) / 'KMNIST' / 'raw' / 'train-images-idx3-ubyte'
    with open(raw, 'rb') as f:
        return int.from_bytes(f.read(8)[4:8], 'big')


def run_script(script, *args, cwd=None, timeout=900, env=None):
    """Run one of the entry scripts; return a CompletedProcess (returncode, stdout, stderr).

    Without `env`, its `main` runs in this process through `run_cli`, as the script's
    last line does (this worker has torch loaded already: a new process would spend 2-3 s
    of CPU importing it again, which made the suite CPU-bound). With `env` (a test about
    the environment the script starts in) it runs as a child process started as a user
    would (nnlab.child, the toolkit's one way of running one), ended after `timeout`
    seconds (in this process, pytest-timeout ends a hang); tests about signals use
    start_script."""
    if env is not None:
        full_env = dict(os.environ, MPLBACKEND='Agg', PYTHONUNBUFFERED='1')
        full_env.update(env)
        argv = python_script(ROOT / script, args)
        code, out, err = run_captured(argv, cwd=cwd or ROOT, env=full_env, timeout=timeout)
        return subprocess.CompletedProcess(argv, code, out, err)
    return call_script(script, *args, cwd=cwd)


def call_script(script, *args, cwd=None):
    """`python3 script args` in this process (see call_main), in `cwd` (default the
    repository, where run_script's processes start too)."""
    return call_main(Path(script).stem, *args, cwd=cwd or ROOT, shown=ROOT / script)


def call_main(module_name, *args, cwd=None, shown=None):
    """Module `module_name`'s main(argv) in this process through run_cli, as the scripts'
    last line runs it: in `cwd` (default the current folder), with sys.argv as a command
    line would have it, output captured and the torch thread count restored after; returns
    a CompletedProcess."""
    module = importlib.import_module(module_name)
    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    saved_argv, saved_cwd = sys.argv, os.getcwd()
    torch = sys.modules.get('torch')
    threads = torch.get_num_threads() if torch else None
    sys.argv = [str(shown or module.__file__), *argv]
    try:
        os.chdir(cwd or saved_cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                run_cli(module.main, argv)
                code = 0
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else 1
    finally:
        sys.argv = saved_argv
        os.chdir(saved_cwd)
        if threads:
            torch.set_num_threads(threads)
    return subprocess.CompletedProcess([module_name, *argv], code, out.getvalue(),
                                       err.getvalue())


def start_script(script, *args, cwd=None):
    """Start an entry script in the background, its output captured (for tests that
    signal it mid-run); returns the Popen."""
    return subprocess.Popen([sys.executable, str(ROOT / script), *map(str, args)],
                            cwd=cwd or ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_until(condition, seconds, step=0.2):
    """Poll `condition()` until it is true (True) or `seconds` pass (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


def read_rows(folder):
    """A sweep folder's results.csv as dicts ([] while there is none)."""
    path = Path(folder) / 'results.csv'
    if not path.exists():
        return []
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


@pytest.fixture
def run():
    return run_script


def without_notes(stderr):
    """stderr's lines without the `note: ...` lines (which data is used, a kernel being
    compiled on a first run): what is left is what a test judges."""
    return [line for line in stderr.strip().splitlines() if not line.startswith('note: ')]


def assert_one_line_error(done, *words):
    """A script refused bad input as users expect: exit 2, one `error:` line, no traceback."""
    assert done.returncode == 2, done.stderr
    assert 'Traceback' not in done.stderr
    lines = without_notes(done.stderr)
    assert len(lines) == 1 and lines[0].startswith('error: '), done.stderr
    for word in words:
        assert word in lines[0], f'{word!r} missing from: {lines[0]}'


@pytest.fixture(scope='session')
def browser():
    """One headless Chromium for every browser test of the session (tests/browser.py
    finds it; without one the tests are skipped, see below)."""
    from browser import launch
    driver, opened = launch()
    yield opened
    opened.close()
    driver.stop()


def pytest_collection_modifyitems(config, items):
    """Without a browser, the tests that need one (they use the `browser` fixture) are
    skipped by a mark, which pytest's summary folds into one line per file (saying how to
    get one). With NNLAB_REQUIRE_BROWSER set (CI) they run, and fail without one.
    NNLAB_NO_BROWSER=1 makes a machine with a browser behave as one without."""
    needing = [item for item in items if 'browser' in getattr(item, 'fixturenames', ())]
    if not needing or os.environ.get('NNLAB_REQUIRE_BROWSER'):
        return
    from browser import missing
    reason = missing()
    if reason:
        for item in needing:
            item.add_marker(pytest.mark.skip(reason=reason))



def pytest_sessionfinish(session, exitstatus):
    """With NNLAB_NO_SKIPS set (.ci/run sets it), a run where any test was skipped fails:
    CI has every optional part, so a skip there is a test that did not run."""
    if not os.environ.get('NNLAB_NO_SKIPS') or session.exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin('terminalreporter')
    if reporter and reporter.stats.get('skipped'):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = terminalreporter.stats.get('skipped')
    if os.environ.get('NNLAB_NO_SKIPS') and skipped:
        terminalreporter.write_line(f'error: {len(skipped)} test(s) skipped and NNLAB_NO_SKIPS '
                                    f'is set, so the run fails', red=True)
