"""Shared test fixtures: the repository root, the KMNIST folder, running a script."""
import os
import subprocess
from pathlib import Path

import pytest

from nnlab import ROOT
from nnlab.child import python_script, run_captured


def kmnist_root():
    """The folder holding KMNIST/raw: $KUZU_DATA, else ../shared/data, else ./data."""
    candidates = [os.environ.get('KUZU_DATA'), ROOT.parent / 'shared' / 'data', ROOT / 'data']
    for folder in candidates:
        if folder and (Path(folder) / 'KMNIST' / 'raw' / 't10k-images-idx3-ubyte').is_file():
            return Path(folder)
    pytest.fail("no KMNIST files found: set KUZU_DATA to the folder holding KMNIST/raw")


@pytest.fixture(scope='session')
def data_dir():
    return kmnist_root()


def run_script(script, *args, cwd=None, timeout=900, env=None):
    """Run one of the entry scripts as a user would (nnlab.child, the toolkit's one way of
    running a child process); return a CompletedProcess."""
    full_env = dict(os.environ, MPLBACKEND='Agg', PYTHONUNBUFFERED='1')
    full_env.update(env or {})
    argv = python_script(ROOT / script, args)
    code, out, err = run_captured(argv, cwd=cwd or ROOT, env=full_env, timeout=timeout)
    return subprocess.CompletedProcess(argv, code, out, err)


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
