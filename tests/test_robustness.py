"""The battery: every kind of bad input, interrupt and closed pipe ends as a user expects.

One line naming the problem and the fix, a non-zero exit, no traceback, nothing that was
finished lost. Flag errors and files run the scripts' main in this process (fast);
signals, pipes and environments run the scripts as a user does.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from conftest import ROOT, assert_one_line_error, call_main, without_notes

from nnlab import machine
from nnlab.cli import run_cli
from nnlab.recurrent import checkpoint
from seq_models import make_model

NO_NETWORK = {'http_proxy': 'http://127.0.0.1:9', 'https_proxy': 'http://127.0.0.1:9',
              'HTTP_PROXY': 'http://127.0.0.1:9', 'HTTPS_PROXY': 'http://127.0.0.1:9'}


def cli(script, *argv):
    """Run a script's main through run_cli in this process: (exit code, stdout, stderr)."""
    done = call_main(script, *argv)
    return done.returncode, done.stdout, done.stderr


def assert_refused(script, argv, *words):
    code, out, err = cli(script, *argv)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: '), err
    assert 'Traceback' not in err
    for word in words:
        assert word in lines[0], f'{word!r} missing from: {lines[0]}'
    return lines[0]


# --------------------------------------------------------------- flags: one meaning each

BIG = str(2**70)


@pytest.mark.parametrize('script, argv, words', [
    # seeds: whole numbers 0..2**32-1, seed+K-1 too
    ('kuzu_main', ['--seed', BIG], ['--seed', 'at most 4,294,967,295']),
    ('kuzu_main', ['--seed', '-1'], ['--seed', 'at least 0']),
    ('kuzu_main', ['--seed', '2**70'], ['--seed', 'whole number']),
    ('check_main', ['--seed', BIG], ['--seed']),
    ('check_main', ['--seed', str(2**32 - 1), '--restarts', '2'], ['--seed', '--restarts']),
    ('seq_train', ['--seed', str(2**64 - 1), '--restarts', '2'], ['--seed', 'at most']),
    ('seq_train', ['--seed', str(2**32 - 1), '--restarts', '2'], ['--restarts 2', '2**32-1']),
    ('seq_plot', ['--seed', '-1'], ['--seed', 'at least 0']),
    # learning rates above 0, momentum in [0, 1)
    ('kuzu_main', ['--lr', '0'], ['--lr', 'above 0']),
    ('kuzu_main', ['--lr', 'nan'], ['--lr', 'finite']),
    ('kuzu_main', ['--mom', '5'], ['--mom', 'below 1']),
    ('kuzu_main', ['--mom', '1'], ['--mom', 'below 1']),
    ('check_main', ['--lr', '0'], ['--lr', 'above 0']),
    ('seq_train', ['--mom', '5'], ['--mom', 'below 1']),
    ('seq_train', ['--lr', '1e400'], ['--lr', 'finite']),
    # sizes with a bound that keeps memory and time sane
    ('kuzu_main', ['--hid', '100000000'], ['--hid', 'at most 100,000']),
    ('kuzu_main', ['--train_count', '10000000'], ['--train_count', 'at most 1,000,000']),
    ('kuzu_main', ['--epochs', '0'], ['--epochs', 'at least 1']),
    ('check_main', ['--hid', '100000'], ['--hid', 'at most 1,000']),
    ('check_main', ['--restarts', '100000000'], ['--restarts', 'at most']),
    ('seq_train', ['--hid', '100000'], ['--hid', 'at most 512']),
    ('seq_train', ['--restarts', '100000000'], ['--restarts', 'at most 1,024']),
    ('seq_plot', ['--epoch', '1e300'], ['--epoch', 'at most 100,000']),
    ('seq_plot', ['--num_plot', '0'], ['--num_plot']),
    # numbers that would overflow, and other values out of place
    ('check_main', ['--scale', '1e39'], ['--scale']),
    ('check_main', ['--init', '0'], ['--init', 'above 0']),
    ('seq_train', ['--embed', 'maybe'], ['--embed', 'boolean']),
    ('seq_train', ['--lang', 'reber', '--length', '3'], ['--length', 'counting languages']),
    ('kuzu_main', ['--net', 'mlp'], ['--net', 'invalid choice']),
    ('kuzu_main', ['--data', ''], ['--data is empty']),
])
def test_bad_flag_values_are_one_line(script, argv, words):
    assert_refused(script, argv, *words)


def test_help_says_the_bounds_and_why():
    code, out, _ = cli('seq_train', '--help')
    assert code == 0 and '1..512' in ' '.join(out.split())


# --------------------------------------------------------------- output files and folders

def test_kuzu_output_paths_are_checked_before_training(tmp_path):
    assert_refused('kuzu_main', ['--save', tmp_path], '--save', 'is a folder')
    assert_refused('kuzu_main', ['--save', ''], '--save is empty')
    assert_refused('kuzu_main', ['--plot_dir', '/proc'], '/proc')
    assert_refused('kuzu_main', ['--summary', tmp_path], '--summary', 'is a folder')
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    line = assert_refused('kuzu_main', ['--plot_dir', blocker / 'plot'], 'cannot')
    assert str(blocker / 'plot') in line


@pytest.mark.slow
def test_an_empty_output_folder_name_is_refused():
    assert_refused('seq_train', ['--out_path', '', '--seed', '0'], 'empty')
    assert_refused('check_main', ['--plot_dir', ''], 'empty')


def test_orphaned_temporary_files_are_removed(tmp_path):
    from nnlab.files import atomic_write_text
    dead = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'],
                          capture_output=True, text=True).stdout.strip()
    here = machine.host_tag()
    orphan = tmp_path / f'.report.tmp-{here}-{dead}-abc123.txt'   # a writer killed mid-write
    orphan.write_text('half')
    mine = tmp_path / f'.other.tmp-{here}-{os.getpid()}-xyz.txt'   # a live writer's: kept
    mine.write_text('busy')
    elsewhere = tmp_path / f'.far.tmp-00000000-{dead}-xyz.txt'      # another host's: kept
    elsewhere.write_text('busy there')
    atomic_write_text(tmp_path / 'report.txt', 'whole')
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(['report.txt', mine.name,
                                                                 elsewhere.name])


@pytest.mark.slow
def test_a_second_run_on_the_same_outputs_is_refused_while_the_first_runs(tmp_path):
    # A lock held by a live process (the test's parent stands in for the first run).
    lock = tmp_path / '.anb2n_srn2.lock'
    host, parent = machine.host_name(), os.getppid()
    lock.write_text(json.dumps({'host': host, 'pid': parent,
                                'started': machine.process_start(parent)}))
    assert_refused('seq_train', ['--epoch', '1', '--seed', '0', '--out_path',
                                         tmp_path], 'another run', f'process {parent} on '
                                                                   f'{host}', 'anb2n_srn2')
    # The same process id, started at another time: a reused id, its run long gone.
    lock.write_text(json.dumps({'host': host, 'pid': parent, 'started': 12345.0}))
    code, _, err = cli('seq_train', '--epoch', '1', '--seed', '0', '--out_path',
                       tmp_path)
    assert code == 0, err
    # Another host's lock: its run cannot be seen from here, so it is respected.
    lock.write_text(json.dumps({'host': 'node-elsewhere', 'pid': 1, 'started': None}))
    assert_refused('seq_train', ['--epoch', '1', '--seed', '1', '--out_path',
                                         tmp_path], 'on node-elsewhere')
    # A lock left by a killed run is taken over.
    dead = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'],
                          capture_output=True, text=True).stdout.strip()
    lock.write_text(json.dumps({'host': host, 'pid': int(dead), 'started': None}))
    code, _, err = cli('seq_train', '--epoch', '1', '--seed', '0', '--out_path',
                       tmp_path)
    assert code == 0, err
    assert not (tmp_path / '.anb2n_srn2.lock').exists()


@pytest.mark.slow
def test_a_new_run_moves_the_earlier_runs_checkpoints_aside(tmp_path):
    for seed in (0, 1):
        code, out, err = cli('seq_train', '--epoch', '1', '--seed', seed,
                             '--out_path', tmp_path)
        assert code == 0, err
    moved = [p for p in tmp_path.iterdir() if p.name.startswith('previous-')]
    assert len(moved) == 1 and 'moved 2 file(s) of an earlier run' in out
    assert sorted(p.name for p in moved[0].iterdir()) == ['anb2n_srn2_1.pth',
                                                           'anb2n_srn2_run.json']
    _, old = checkpoint.load(moved[0] / 'anb2n_srn2_1.pth')
    _, new = checkpoint.load(tmp_path / 'anb2n_srn2_1.pth')
    assert (old.seed, new.seed) == (0, 1)


# --------------------------------------------------------------- data files

def write(path, text):
    path.write_text(text, encoding='utf-8')
    return path


@pytest.mark.parametrize('text, words', [
    ('x,y,target\n0,0,0\n1e39,1,1\n', ['line 3', 'outside']),
    ('0,0,0\n1,1e308,1\n', ['line 2', 'outside']),
    ('0,0,0\n1,' + '1' * 400 + ',1\n', ['line 2', 'not a finite number']),
    ('0,0,O\n0,1,1\n', ['line 1', "'O'"]),
])
def test_bad_points_file(tmp_path, text, words):
    path = write(tmp_path / 'points.csv', text)
    assert_refused('check_main', ['--csv', path, '--plot_dir', tmp_path / 'p'],
                   *words)
    assert not (tmp_path / 'p' / 'check.jpg').exists()


def test_too_many_points(tmp_path):
    path = write(tmp_path / 'many.csv', '0,0,0\n' * 10_001)
    assert_refused('check_main', ['--csv', path, '--plot_dir', tmp_path / 'p'],
                   '10,001 points', 'more than 10,000')


def test_a_backend_matplotlib_does_not_know(run, tmp_path):
    done = run('check_main.py', '--act', 'step', '--hid', '4', '--set_weights', '--plot_dir',
               tmp_path, env={'MPLBACKEND': 'nosuchbackend'})
    assert_one_line_error(done, 'MPLBACKEND', 'unset it')


def test_points_file_with_a_byte_order_mark_keeps_its_first_point(tmp_path):
    from nnlab.perceptron.data import load_points
    path = tmp_path / 'bom.csv'
    path.write_bytes('\ufeff0,0,0\n0,1,1\n1,0,1\n'.encode('utf-8'))
    inputs, targets = load_points(str(path))
    assert inputs.tolist() == [[0, 0], [0, 1], [1, 0]] and targets[:, 0].tolist() == [0, 1, 1]


def test_a_folder_where_a_file_belongs(tmp_path):
    assert_refused('check_main', ['--csv', tmp_path, '--plot_dir', tmp_path / 'p'],
                   'cannot read')
    assert_refused('check_main', ['--act', 'step', '--weights', tmp_path,
                                          '--plot_dir', tmp_path / 'p'], 'weights file')


@pytest.mark.parametrize('content, words', [
    ('{"in_hid_weight": [[1e308, 1]], "hid_bias": [0], "hid_out_weight": [[1]], '
     '"out_bias": [0]}', ['beyond']),
    ('{"in_hid_weight": [[' + '9' * 400 + ', 1]], "hid_bias": [0], "hid_out_weight": [[1]], '
     '"out_bias": [0]}', ['400 digits']),
    ('[' * 5000 + ']' * 5000, ['nested too deeply']),
])
def test_weights_that_would_overflow(tmp_path, content, words):
    path = write(tmp_path / 'w.json', content)
    assert_refused('check_main', ['--act', 'step', '--weights', path,
                                          '--plot_dir', tmp_path / 'p'], *words)


@pytest.mark.slow
def test_idx_header_of_four_billion_images(run, data_dir, tmp_path):
    raw = tmp_path / 'data' / 'KMNIST' / 'raw'
    raw.mkdir(parents=True)
    for name in os.listdir(data_dir / 'KMNIST' / 'raw'):
        (raw / name).write_bytes((data_dir / 'KMNIST' / 'raw' / name).read_bytes())
    labels = raw / 'train-labels-idx1-ubyte'
    data = bytearray(labels.read_bytes())
    data[4:8] = (2**32 - 1).to_bytes(4, 'big')
    labels.write_bytes(bytes(data))
    done = run('kuzu_main.py', '--data', tmp_path / 'data', '--plot_dir', tmp_path / 'p')
    assert_one_line_error(done, 'train-labels-idx1-ubyte', 'truncated', f'{2**32 - 1 + 8}')
    assert '-' not in done.stderr.split('needs')[1].split(';')[0]


@pytest.mark.slow
def test_offline_download_says_so_and_creates_nothing(run, tmp_path):
    target = tmp_path / 'a' / 'b' / 'c'
    done = run('kuzu_main.py', '--data', target, '--plot_dir', tmp_path / 'p', env=NO_NETWORK)
    assert_one_line_error(done, 'no network', str(target / 'KMNIST' / 'raw'))
    assert 'downloading' not in done.stdout
    assert not (tmp_path / 'a').exists()


# --------------------------------------------------------------- checkpoints

def crafted(folder, meta_changes=None, weights=None, meta=None):
    model = make_model('srn', 2, 2, 2)
    if weights is not None:
        with torch.no_grad():
            model.U.fill_(weights)
    good = dict(lang='anb2n', embed=False, length=4, model='srn', hid=2, num_input=2,
                num_out=2, thousands=1, seed=0)
    good.update(meta_changes or {})
    path = checkpoint.checkpoint_path(folder, 'anb2n', 'srn', 2, 1)
    os.makedirs(folder, exist_ok=True)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    # the first release's format, its network's fields flat: still read
    torch.save({'format': 'kuzu-seq-1', 'state_dict': state,
                'meta': good if meta is None else meta}, path)
    return path


@pytest.mark.parametrize('kind, words', [
    (dict(meta=[1, 2]), ['anb2n_srn2_1.pth: ', 'metadata is missing', 'retrain']),
    (dict(meta={'lang': 'anb2n'}), ['network.model is missing']),
    (dict(meta_changes={'hid': -2}), ['hid is -2']),
    (dict(meta_changes={'length': 'four'}), ['network.length', 'whole number']),
    (dict(weights=float('nan')), ['not finite', '--lr']),
    (dict(weights=float('inf')), ['not finite']),
])
def test_crafted_checkpoints(tmp_path, kind, words):
    crafted(tmp_path / 'net', **kind)
    assert_refused('seq_plot', ['--epoch', '1', '--out_path', tmp_path / 'net',
                                        '--plot_dir', tmp_path / 'p'], *words)
    assert not (tmp_path / 'p').exists() or not any((tmp_path / 'p').iterdir())


@pytest.mark.slow
def test_missing_checkpoints_name_what_exists(tmp_path):
    net = tmp_path / 'net'
    code, _, err = cli('seq_train', '--lang', 'anb2nc3n', '--model', 'lstm', '--epoch',
                       '1', '--seed', '0', '--restarts', '2', '--out_path', net)
    assert code == 0, err
    # forgetting --model lstm: the files that do exist are named
    assert_refused('seq_plot', ['--lang', 'anb2nc3n', '--epoch', '1', '--out_path',
                                        net], 'anb2nc3n_lstm3_*', '--model')
    # after a --restarts run without its plain-name file (interrupted): name --run i
    os.remove(net / 'anb2nc3n_lstm3_1.pth')
    assert_refused('seq_plot', ['--lang', 'anb2nc3n', '--model', 'lstm', '--epoch',
                                        '1', '--out_path', net], '--run i', '0, 1')
    # a folder with a checkpoint's name
    (net / 'anb2nc3n_lstm3_1.pth').mkdir()
    assert_refused('seq_plot', ['--lang', 'anb2nc3n', '--model', 'lstm', '--epoch',
                                        '1', '--out_path', net], 'is a folder')


# --------------------------------------------------------------- runs that go wrong

@pytest.mark.slow
def test_divergence_is_one_line_not_a_result(run, data_dir, tmp_path):
    done = run('kuzu_main.py', '--net', 'conv', '--lr', '1e10', '--epochs', '1',
               '--train_count', '2000', '--data', data_dir, '--plot_dir', tmp_path)
    assert_one_line_error(done, 'diverged', '--lr')
    assert 'Accuracy: 1000/10000' not in done.stdout


@pytest.mark.slow
def test_the_seed_drawn_is_printed_and_repeats_the_run(tmp_path):
    code, out, err = cli('check_main', '--act', 'sig', '--hid', '3', '--epoch', '300',
                         '--plot_dir', tmp_path / 'a')
    assert code == 0, err
    first = out.splitlines()[0]
    assert first.startswith('seed ') and 'repeat it with: python3 ' in first
    repeat = first.split('repeat it with: ')[1].rstrip(')').split()[2:]
    repeat[repeat.index('--plot_dir') + 1] = str(tmp_path / 'b')
    code, again, err = cli('check_main', *repeat)
    assert code == 0, err
    body = out.split('\n', 1)[1].replace(str(tmp_path / 'a'), 'P')
    assert body == again.replace(str(tmp_path / 'b'), 'P')
    code, other, _ = cli('check_main', '--act', 'sig', '--hid', '3', '--epoch', '300',
                         '--plot_dir', tmp_path / 'c')
    assert other.splitlines()[0] != first          # a fresh seed each time


@pytest.mark.slow
def test_a_stuck_run_says_what_to_try(tmp_path):
    code, out, _ = cli('seq_train', '--epoch', '1', '--seed', '0', '--out_path',
                       tmp_path)
    assert code == 0 and re.search(r'^anb2n: .*: no, largest n right \d+$', out, re.M)
    assert 'run it again without --seed' in out and '--restarts 8' in out


# --------------------------------------------------------------- signals and pipes

def start(script, *args, stdout=subprocess.PIPE, **env):
    return subprocess.Popen([sys.executable, str(ROOT / script), *map(str, args)], cwd=ROOT,
                            stdout=stdout, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, MPLBACKEND='Agg', PYTHONUNBUFFERED='1',
                                     **env))


def assert_clean_stop(proc, code, err):
    assert proc.returncode == code, err
    assert 'Traceback' not in err and 'terminate called' not in err
    assert err.strip().splitlines()[-1].startswith('interrupted: '), err


def handler_installed(pid, signum):
    """Whether process `pid` catches `signum` (Linux: the SigCgt mask in /proc)."""
    try:
        with open(f'/proc/{pid}/status') as f:
            caught = next(line for line in f if line.startswith('SigCgt:'))
    except (OSError, StopIteration):
        return False
    return bool(int(caught.split()[1], 16) >> (signum - 1) & 1)


# A signal at these moments after the script's first statement (catch_signals, seen here
# as its SIGTERM handler appearing): during the imports, the parsing, the start of work.
MOMENTS = [(0.0, signal.SIGINT), (0.05, signal.SIGTERM), (0.15, signal.SIGINT),
           (0.3, signal.SIGINT), (0.6, signal.SIGTERM)]
ENTRY_SCRIPTS = ['check_main.py', 'explore.py', 'kuzu_main.py', 'report.py', 'seq_plot.py',
                 'seq_train.py', 'sweep.py']


@pytest.mark.parametrize('script', ENTRY_SCRIPTS)
def test_every_script_catches_signals_first(script):
    """The signal handling is installed by an explicit first call, before any other import
    (not as a side effect of one): the first statements are the import and the call."""
    import ast
    body = ast.parse((ROOT / script).read_text()).body
    body = body[1:] if isinstance(body[0], ast.Expr) and isinstance(body[0].value,
                                                                     ast.Constant) else body
    assert isinstance(body[0], ast.ImportFrom) and body[0].module == 'nnlab.cli'
    assert 'catch_signals' in [alias.name for alias in body[0].names]
    call = body[1]
    assert isinstance(call, ast.Expr) and ast.unparse(call) == 'catch_signals(__name__)'


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists('/proc/self/status'),
                    reason='needs /proc to see when the script has started (Linux)')
@pytest.mark.parametrize('script, args', [
    ('kuzu_main.py', ['--net', 'lin']),
    ('check_main.py', ['--act', 'sig', '--hid', '5', '--seed', '4']),
    ('seq_train.py', ['--seed', '0']),
    ('seq_plot.py', []),
])
def test_a_signal_at_any_moment_from_the_first_statement_is_one_line(tmp_path, script, args):
    """Ctrl-C or SIGTERM at several moments after the script's first statement, sent to
    its whole process group as a terminal does (seq_train.py's checkpoint writer gets it
    too): the one `interrupted:` line and 130/143, never a traceback. The runs go at once,
    each timed from its own first statement."""
    folder = '--out_path' if script == 'seq_train.py' else '--plot_dir'

    def interrupted_at(number, delay, signum):
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / script), *args, folder, str(tmp_path / str(number))],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True, env=dict(os.environ, MPLBACKEND='Agg'))
        deadline = time.monotonic() + 60
        while not handler_installed(proc.pid, signal.SIGTERM) and proc.poll() is None:
            assert time.monotonic() < deadline, 'the script never caught SIGTERM'
            time.sleep(0.002)
        time.sleep(delay)
        try:
            os.killpg(proc.pid, signum)
        except ProcessLookupError:        # already finished
            pass
        _, err = proc.communicate(timeout=120)
        return proc.returncode, err

    with ThreadPoolExecutor(len(MOMENTS)) as pool:
        ends = list(pool.map(lambda m: (m, interrupted_at(m[0], *m[1])), enumerate(MOMENTS)))
    for (_, (delay, signum)), (code, err) in ends:
        if code == 2 and script == 'seq_plot.py':
            assert 'no checkpoint' in err        # finished before the signal: a clean refusal
            continue
        assert code == 128 + signum, f'{delay} s, {signum!r}: {err}'
        assert 'Traceback' not in err and 'terminate called' not in err, err
        lines = without_notes(err)
        assert len(lines) == 1 and lines[0].startswith('interrupted: '), f'{delay} s: {err}'


@pytest.mark.slow
def test_sigterm_during_training_saves_the_step(tmp_path):
    proc = start('seq_train.py', '--lang', 'anb2n', '--seed', '0', '--epoch', '100000',
                 '--out_path', tmp_path)
    seen = ''
    while 'epoch: 2000' not in seen:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        seen += line
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert_clean_stop(proc, 143, err)
    assert 'SIGTERM' in err
    path = out.split('saved ')[1].split()[0]
    _, meta = checkpoint.load(path)
    assert meta.interrupted is True and meta.step >= 2000
    record = json.loads((tmp_path / 'anb2n_srn2_run.json').read_text())
    assert record['status'] == 'interrupted' and record['results']['step'] == meta.step


@pytest.mark.slow
def test_a_second_ctrl_c_stops_at_once(tmp_path):
    proc = start('check_main.py', '--act', 'sig', '--hid', '5', '--seed', '4', '--plot_dir',
                 tmp_path)
    assert proc.stdout.readline().startswith('ep:')
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert_clean_stop(proc, 130, err)


@pytest.mark.slow
def test_a_closed_pipe_stops_saves_and_says_so(tmp_path):
    proc = start('seq_train.py', '--lang', 'anb2n', '--seed', '0', '--epoch', '100000',
                 '--out_path', tmp_path)
    for _ in range(3):                   # `| head -3`
        proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert_clean_stop(proc, 141, err)
    assert 'standard output' in err
    assert [p.name for p in tmp_path.glob('anb2n_srn2_*.pth')], 'the step reached is saved'


@pytest.mark.slow
def test_check_main_into_a_closed_pipe_still_draws(tmp_path):
    proc = start('check_main.py', '--act', 'step', '--hid', '4', '--set_weights',
                 '--plot_dir', tmp_path)
    proc.stdout.readline()               # `| head -1`
    proc.stdout.close()
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert_clean_stop(proc, 141, err)
    assert (tmp_path / 'out_4.jpg').is_file()


@pytest.mark.slow
def test_stdout_on_a_full_disk(tmp_path):
    with open('/dev/full', 'w') as full:
        proc = start('check_main.py', '--act', 'step', '--hid', '4', '--set_weights',
                     '--plot_dir', tmp_path, stdout=full)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and 'Traceback' not in err, err
    assert 'No space left on device' in err.strip().splitlines()[-1]


@pytest.mark.slow
def test_the_subset_of_kmnist_is_said_once(run, data_dir, tmp_path):
    done = run('kuzu_main.py', '--net', 'lin', '--epochs', '1', '--train_count', '640',
               '--data', data_dir, '--plot_dir', tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count('training on 7,011 of the 60,000 official training images') == 1


def test_an_unexpected_error_is_one_line_with_the_details_in_a_file(capsys, tmp_path):
    def broken(argv):
        return np.zeros(3)[5]
    with pytest.raises(SystemExit) as done:
        run_cli(broken, [])
    err = capsys.readouterr().err
    assert done.value.code == 1 and err.count('\n') == 1 and 'IndexError' in err
    details = err.split('details in ')[1].rstrip(')\n')
    assert 'Traceback' in open(details).read()
    os.remove(details)
