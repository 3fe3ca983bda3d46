"""The scripts on a system without POSIX's extras (as on Windows): run with a
sitecustomize that removes SIGHUP, fcntl, fork, setsid, killpg and
sched_getaffinity and makes `os.kill(pid, 0)` an error (on Windows signal 0 is Ctrl-C),
every script runs as on Linux and prints the same numbers.

This cannot stand in for a real Windows or macOS (paths with backslashes, spawn-only
multiprocessing everywhere), but it catches the POSIX-only call on a script's path, the
mistake that stops every script on a student's Windows laptop before it does anything.
"""
import os
import re
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import run_script

from nnlab import ROOT

NOT_ON_WINDOWS = textwrap.dedent('''
    import os, signal, sys, multiprocessing
    for name in ('SIGHUP', 'SIGQUIT', 'SIGALRM', 'SIGUSR1', 'SIGUSR2'):
        if hasattr(signal, name):
            delattr(signal, name)
    # (getuid stays: torch asks for it whenever os.name is 'posix', as it is here)
    for name in ('fork', 'forkpty', 'setsid', 'killpg', 'getpgid', 'sched_getaffinity',
                 'getloadavg'):
        if hasattr(os, name):
            delattr(os, name)
    sys.modules['fcntl'] = None             # `import fcntl` fails, as on Windows
    _kill = os.kill
    def kill(pid, sig):
        if sig == 0:
            raise AssertionError('os.kill(pid, 0) is Ctrl-C on Windows')
        return _kill(pid, sig)
    os.kill = kill
    multiprocessing.set_start_method('spawn', force=True)
''')

COMMANDS = {
    'check_step': ('check_main.py', '--act', 'step', '--hid', '4', '--set_weights'),
    'check_sig': ('check_main.py', '--act', 'sig', '--hid', '5', '--seed', '3',
                  '--epoch', '3000'),
    'seq_train': ('seq_train.py', '--lang', 'anb2n', '--epoch', '2', '--seed', '0'),
}
SECONDS = re.compile(r'\d+(\.\d+)? ?m?s\b|in \d+\.\d+ s|\d{4}-\d\d-\d\d[T ][\d:.+-]+')


def numbers(text):
    """The printed output without what changes from run to run (times, dates)."""
    return [SECONDS.sub('#', line) for line in text.splitlines()
            if 'compil' not in line and 'seconds' not in line]


@pytest.fixture(scope='module')
def windowsish(tmp_path_factory):
    folder = tmp_path_factory.mktemp('windowsish')
    (folder / 'site').mkdir()
    (folder / 'site' / 'sitecustomize.py').write_text(NOT_ON_WINDOWS)
    return folder


def test_the_simulation_removes_what_it_says(windowsish):
    probe = ("import os, signal, importlib.util\n"
             "print(hasattr(signal, 'SIGHUP'), hasattr(os, 'killpg'), "
             "hasattr(os, 'sched_getaffinity'))\n"
             "try:\n    import fcntl\nexcept ImportError:\n    print('no fcntl')\n")
    (windowsish / 'probe.py').write_text(probe)
    done = subprocess.run([sys.executable, str(windowsish / 'probe.py')], text=True,
                          capture_output=True, env=env_of(windowsish), timeout=60)
    assert done.stdout.split('\n')[:2] == ['False False False', 'no fcntl'], done.stderr


def env_of(folder):
    return {**os.environ, 'PYTHONPATH': os.pathsep.join([str(folder / 'site'), str(ROOT)])}


@pytest.mark.slow
def test_every_script_runs_and_prints_the_same_numbers(windowsish, tmp_path, data_dir):
    env = {'PYTHONPATH': env_of(windowsish)['PYTHONPATH']}

    def folder(system, name):
        made = tmp_path / system / name
        made.mkdir(parents=True)
        return made

    # The Windows-like runs are processes (their environment differs), started beside
    # the ordinary runs, which run in this process (conftest.run_script).
    with ThreadPoolExecutor(1) as pool:
        windows = {name: pool.submit(run_script, *argv, cwd=folder('windows', name),
                                     timeout=600, env=env)
                   for name, argv in COMMANDS.items()}
        pairs = {name: (run_script(*argv, cwd=folder('linux', name)), windows[name].result())
                 for name, argv in COMMANDS.items()}
    for name, (linux, windows) in pairs.items():
        assert linux.returncode == 0, f'{name}: {linux.stderr}'
        assert windows.returncode == 0, f'{name}: {windows.stderr}'
        assert numbers(windows.stdout) == numbers(linux.stdout), name

    there = tmp_path / 'windows'
    # two lines of commands side by side (each a single-threaded start-up, mostly); the
    # report reads the sweep, seq_plot the checkpoints seq_train wrote above
    lines = [[('kuzu_main.py', '--net', 'lin', '--epochs', '1', '--train_count', '500',
               '--data', data_dir),
              ('seq_plot.py', '--lang', 'anb2n', '--epoch', '2', '--fsm', '--examples', '40',
               '--out_path', str(there / 'seq_train' / 'net'))],
             [('sweep.py', '--seeds', '0-1', '--jobs', '1', '--out', 'sweep', '--',
               'seq_train.py', '--lang', 'anb2n', '--epoch', '1'),
              ('report.py', '--sweeps', 'sweep')]]

    def in_turn(commands):
        for argv in commands:
            done = run_script(*argv, cwd=there, timeout=600, env=env)
            assert done.returncode == 0, f'{argv[0]}: {done.stderr}'
            assert 'Traceback' not in done.stderr

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(in_turn, lines))
    assert (there / 'sweep' / 'results.csv').read_text().count('\n') == 3
    assert (there / 'report' / 'index.html').exists()
