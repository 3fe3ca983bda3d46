"""The benchmarks still run (they are not timed here): each on its smallest work, printing
its comparison with the plain reference. A bench that stops with a traceback after a
change elsewhere (as bench_check --commands once did) fails here, not in front of the
person measuring."""
import re
import sys

import pytest
from conftest import call_main

from nnlab import ROOT
from nnlab.child import run_captured


def bench(module, *args, timeout=300, process=False):
    """`python3 -m bench.MODULE ARGS`: its main in this process (conftest.call_main), or
    a process where it drives a browser of its own; its stdout, once it succeeded."""
    if process:
        code, out, err = run_captured([sys.executable, '-m', f'bench.{module}',
                                       *map(str, args)], cwd=ROOT, timeout=timeout)
    else:
        done = call_main(f'bench.{module}', *args, cwd=ROOT)
        code, out, err = done.returncode, done.stdout, done.stderr
    assert code == 0, err
    assert 'Traceback' not in err
    return out


@pytest.mark.slow
def test_bench_seq_compares_per_example_and_end_to_end():
    out = bench('bench_seq', '--rounds', '1')
    assert re.search(r'anb2n SRN2: reference [\d.]+ ms/example, ours [\d.]+ ms/example, '
                     r'speed-up [\d.]+x', out), out
    assert 'anb2nc3n LSTM3:' in out and '16 runs at once' in out


@pytest.mark.slow
def test_bench_check_compares_restarts_and_times_the_commands():
    out = bench('bench_check', '--restarts', '2', '--epochs', '200')
    assert re.search(r'speed-up: [\d.]+x', out), out
    assert re.search(r"largest difference between the two runs' final weights: "
                     r"([\d.e+-]+)", out)
    out = bench('bench_check', '--commands', '--epochs', '300')
    assert out.count('s wall (start-up, training, printing and pictures)') == 2, out
    assert re.search(r'region pictures .*: [\d.]+ s each', out)


def test_a_bench_whose_command_fails_stops_and_names_it():
    """bench_check --commands times check_main.py: when that fails, the bench exits 1 with
    the command and its error instead of printing a time for failed work."""
    from bench import bench_check
    with pytest.raises(SystemExit) as stopped:
        bench_check.command_seconds('--act', 'nonsense')
    message = str(stopped.value.code)          # a message: Python prints it and exits 1
    assert message.startswith('error: the benchmarked command failed (exit 2): python')
    assert 'check_main.py --act nonsense --plot_dir' in message and "'nonsense'" in message


@pytest.mark.slow
def test_bench_kuzu_compares_with_the_original_pipeline(data_dir):
    out = bench('bench_kuzu', '--nets', 'lin', '--count', '500', '--data', data_dir)
    match = re.search(r'lin +reference +[\d.]+ s +ours +[\d.]+ s +ratio [\d.]+x +'
                      r'\(test correct: (\d+) vs (\d+)\)', out)
    assert match and match.group(1) == match.group(2), out


@pytest.mark.slow
def test_bench_generalise_times_the_rule():
    out = bench('bench_generalise', '--rounds', '1')
    assert re.search(r'anb2nc3n +lstm +3 +64 +100 +[\d.]+ +[\d.]+', out), out


@pytest.mark.slow
def test_bench_explore_train_times_the_page_beside_the_kernel(browser):
    """(browser: skipped with the browser tests where there is no Chromium.)"""
    out = bench('bench_explore_train', '--examples', '2000', '--rounds', '1',
                process=True)
    assert re.search(r'anb2n SRN2, 2,000 examples: page [\d.]+ s \(in the \w+, animated\), '
                     r'kernel [\d.]+ s alone.* page / kernel [\d.]+x', out), out


@pytest.mark.parametrize('module', ['bench_sweep'])
def test_the_long_benches_at_least_parse_their_flags(module):
    assert bench(module, '--help').startswith('usage:')

