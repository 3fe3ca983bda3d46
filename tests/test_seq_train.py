"""seq_train.py: restarts are exact single runs, runs learn, checkpoints are named and
filled as documented, flags and Ctrl-C behave. (That the compiled kernels compute what
autograd + torch.optim compute is tests/test_kernels_recurrent.py.)"""
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from conftest import ROOT, without_notes

import seq_train
from nnlab.cli import UserError, run_cli
from nnlab.recurrent import checkpoint, kernels, languages
from nnlab.recurrent.languages import Network
from nnlab.recurrent.trainer import Config, Trainer
from seq_models import make_model


def trainer_args(tmp_path, **changes):
    args = dict(lang='anb2n', embed=False, length=None, model='srn', hid=2, optim='sgd',
                lr=0.05, mom=0.0, weight_decay=1e-4, init=None, epoch=1, seed=0, restarts=1,
                out_path=str(tmp_path))
    args.update(changes)
    return Config(**args)


def train_in_process(args, steps):
    spec = languages.get_spec(args.lang)
    trainer = Trainer(spec, spec.make(args.embed, args.length), args)
    trainer.train(steps, lambda *a: None)
    return trainer


def test_restart_i_is_exactly_the_single_run_with_seed_plus_i(tmp_path):
    batch = train_in_process(trainer_args(tmp_path / 'k', seed=4, restarts=3), 1500)
    single = train_in_process(trainer_args(tmp_path / 's', seed=6), 1500)
    np.testing.assert_allclose(batch.theta[2], single.theta[0], atol=1e-12)
    assert batch.checks[2] == pytest.approx(single.checks[0], abs=1e-12)
    assert not np.allclose(batch.theta[0], batch.theta[1])


# --- the command line ---------------------------------------------------------------

def output_of(run, *args):
    done = run('seq_train.py', *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
def test_checkpoints_names_contents_and_format(run, tmp_path):
    out = output_of(run, '--lang', 'anb2n', '--epoch', '12', '--seed', '3',
                    '--out_path', tmp_path)
    assert sorted(os.listdir(tmp_path)) == ['anb2n_srn2_10.pth', 'anb2n_srn2_12.pth',
                                            'anb2n_srn2_run.json']
    lines = out.splitlines()
    assert lines[0].startswith('training SRN with 2 hidden units on anb2n')
    blocks = out.split('-----\n')[1:]
    assert len(blocks) == 12
    for number, block in enumerate(blocks, start=1):
        rows = block.splitlines()
        assert re.fullmatch(r'symbol= [AB]+', rows[0])
        assert rows[1] == 'hidden activations and output probabilities:'
        text = rows[0].split()[1]
        body = rows[2:2 + len(text) - 1]
        for sym, row in zip(text, body):
            assert re.fullmatch(rf'{sym} \[ *-?\d\.\d\d +-?\d\.\d\d\] \[\d\.\d\d \d\.\d\d\]', row)
        assert rows[1 + len(text)] == f'epoch: {number * 1000}'
        assert re.fullmatch(r' loss: \d\.\d{4}', rows[2 + len(text)])
    assert re.search(r'^anb2n: loss below 0\.05 in each of the last 10 checks: (yes|no), '
                     r'largest n right \d+$', out,
                     re.M)
    model, meta = checkpoint.load(tmp_path / 'anb2n_srn2_12.pth', lang='anb2n',
                                      model='srn', hid=2, embed=False)
    assert (meta.step, meta.seed, meta.network.length, meta.num_input) == (12000, 3, 4, 2)
    assert len(meta.checks) == 12 and meta.config['lr'] == 0.005
    assert meta.interrupted is False
    assert set(dict(model.named_parameters())) == {'H0', 'W', 'U', 'hid_bias', 'V', 'out_bias'}
    printed = [float(v) for v in re.findall(r' loss: (\d\.\d{4})', out)]
    assert printed == pytest.approx(meta.checks, abs=6e-5)


@pytest.mark.slow
def test_same_seed_same_output(run, tmp_path):
    first = output_of(run, '--lang', 'reber', '--epoch', '1', '--seed', '0',
                      '--out_path', tmp_path / 'a')
    second = output_of(run, '--lang', 'reber', '--epoch', '1', '--seed', '0',
                       '--out_path', tmp_path / 'b')
    strip = lambda s: [x for x in s.splitlines() if not x.startswith('trained')]  # noqa: E731
    assert strip(first) == strip(second)
    assert 'true probabilities:' in first and re.search(r'^error: \d\.\d{4}$', first, re.M)


@pytest.mark.slow
def test_checkpoint_mismatch_and_missing_are_refused(run, tmp_path):
    output_of(run, '--lang', 'reber', '--embed', 'True', '--epoch', '1', '--out_path', tmp_path)
    path = tmp_path / 'reber_embed_srn2_1.pth'
    assert path.is_file()
    with pytest.raises(UserError, match="model='srn'"):
        checkpoint.load(path, model='lstm')
    with pytest.raises(UserError, match='embed=True'):
        checkpoint.load(path, embed=False)
    with pytest.raises(UserError, match=r'epochs saved for reber_embed_srn2: 1 '):
        checkpoint.load_epoch(tmp_path, Network('reber', True, None, 'srn', 2), 100)
    with pytest.raises(UserError, match='train it first'):
        checkpoint.load_epoch(tmp_path, Network('reber', False, None, 'lstm', 2), 100)
    (tmp_path / 'broken_srn2_1.pth').write_bytes(b'not a checkpoint')
    with pytest.raises(UserError, match='not a readable'):
        checkpoint.load(tmp_path / 'broken_srn2_1.pth')


def test_embed_is_a_real_boolean_and_defaults_come_from_the_registry():
    args = seq_train.parse_args(['--lang', 'reber', '--embed', 'False'])
    assert args.embed is False and args.hid == 2 and args.epoch == 50 and args.optim == 'adam'
    assert seq_train.parse_args(['--lang', 'reber', '--embed', 'True']).embed is True
    args = seq_train.parse_args(['--lang', 'anb2nc3n', '--model', 'lstm'])
    assert (args.hid, args.epoch, args.optim, args.lr, args.weight_decay, args.mom) == \
        (3, 100, 'sgd', 0.005, 1e-4, 0.0)
    assert seq_train.parse_args(['--lang', 'anb2n', '--hid', '5', '--lr', '0.1']).hid == 5


@pytest.mark.parametrize('flags,message', [
    (['--lang', 'abc'], 'invalid choice'),
    (['--hid', '0'], 'at least 1'),
    (['--lr', '-1'], 'lr'),
    (['--embed', 'maybe'], 'boolean'),
    (['--lang', 'anb2n', '--embed', 'True'], 'reber only'),
    (['--lang', 'reber', '--length', '3'], 'counting languages only'),
    (['--seed', '-2'], 'seed'),
])
def test_bad_flags_fail_with_one_line(capsys, flags, message):
    with pytest.raises(SystemExit) as exit_info:
        run_cli(seq_train.main, flags)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.count('\n') == 1 and err.startswith('error: ') and message in err


def test_bad_flag_from_the_command_line(run):
    done = run('seq_train.py', '--model', 'rnn')
    assert done.returncode == 2 and done.stdout == ''
    assert done.stderr.count('\n') == 1 and done.stderr.startswith('error: ')
    assert 'invalid choice' in done.stderr and 'Traceback' not in done.stderr


@pytest.mark.slow
def test_unwritable_out_path_fails_with_one_line(capsys, tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    with pytest.raises(SystemExit) as exit_info:
        run_cli(seq_train.main, ['--epoch', '1', '--out_path', str(blocker)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.startswith('error: cannot create folder')
    assert err.count('\n') == 1


@pytest.mark.slow
def test_ctrl_c_saves_the_current_step_and_says_where(tmp_path):
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    proc = subprocess.Popen([sys.executable, str(ROOT / 'seq_train.py'), '--lang', 'anb2n',
                             '--epoch', '100', '--out_path', str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    seen = ''
    deadline = time.time() + 120
    while 'epoch: 2000' not in seen and time.time() < deadline:
        seen += proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    match = re.search(r'interrupted at step (\d+): saved (\S+)', out)
    assert match, out
    step, path = int(match.group(1)), match.group(2)
    assert step >= 2000 and os.path.isfile(path)
    assert os.path.basename(path) == \
        f"anb2n_srn2_{checkpoint.format_thousands(step / 1000)}.pth"
    _, meta = checkpoint.load(path, lang='anb2n')
    assert meta.step == step and meta.interrupted is True
    assert 'Traceback' not in err and without_notes(err)[0].startswith('interrupted')


# --- short real trainings -------------------------------------------------------------

def untrained_error(args, count=20):
    """Mean error of run 0's initial network (as the trainer builds it) on fresh examples."""
    spec = languages.get_spec(args.lang)
    lang = spec.make(args.embed, args.length)
    S = lang.num_symbols
    layout = kernels.Layout(args.model, S, args.hid)
    model = layout.to_model(kernels.initial_weights(layout, args.init, args.seed),
                            make_model(args.model, S, args.hid, S))
    errors = []
    for ex in lang.sample_many(np.random.default_rng(99), count):
        with torch.no_grad():
            _, output = model(ex.inputs())
        errors.append(lang.error(ex, output[0].softmax(-1).numpy()))
    return float(np.mean(errors))


@pytest.mark.slow
def test_anb2n_srn_reaches_the_criterion_with_restarts(run, tmp_path):
    """A short schedule (Adam, 10k examples) where seeds 0 and 3 of 0..3 succeed."""
    out = output_of(run, '--lang', 'anb2n', '--optim', 'adam', '--lr', '0.01', '--epoch', '10',
                    '--seed', '0', '--restarts', '4', '--out_path', tmp_path)
    assert re.search(r'^epoch: 10000 loss:( \d\.\d{4}){4}$', out, re.M)
    assert len(re.findall(r'^run +\d \(seed \d\): loss below 0\.05 in each of the last 10 checks: '
                          r'(?:yes|no )', out, re.M)) == 4
    winners = re.search(r'^anb2n: (\d) of 4 runs met the criterion', out, re.M)
    assert winners and int(winners.group(1)) >= 1
    best = int(re.search(r'^best: run (\d) ', out, re.M).group(1))
    names = sorted(os.listdir(tmp_path))
    assert names == ['anb2n_srn2_10.pth'] + [f'anb2n_srn2_r{i}_10.pth' for i in range(4)] + \
        ['anb2n_srn2_run.json']
    _, meta = checkpoint.load(tmp_path / 'anb2n_srn2_10.pth', lang='anb2n')
    assert meta.run == best and meta.success is True
    assert max(meta.checks[-10:]) < 0.05


def test_lstm_learns_anb2nc3n(tmp_path):
    args = trainer_args(tmp_path, lang='anb2nc3n', model='lstm', hid=3, optim='adam', lr=0.01,
                        seed=1)
    trainer = train_in_process(args, 2000)
    assert trainer.checks[0][-1] < 0.2 * untrained_error(args)


def test_reber_srn_error_falls(tmp_path):
    args = trainer_args(tmp_path, lang='reber', optim='adam', lr=0.01, seed=2)
    trainer = train_in_process(args, 2000)
    assert trainer.checks[0][-1] < 0.3 * untrained_error(args)


@pytest.mark.slow
def test_divergence_is_one_clear_line(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        run_cli(seq_train.main, ['--optim', 'sgd', '--lr', '1e300', '--epoch', '1',
                                 '--seed', '0', '--out_path', str(tmp_path)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and len(without_notes(err)) == 1
    assert 'diverged by step 1000' in err and 'lower --lr' in err


# --- the trainer loads no torch; a helper process writes the checkpoints ----------------

def test_initial_weights_follow_the_models_distributions_and_the_seed():
    srn = kernels.Layout('srn', 2, 40)
    weights = kernels.initial_weights(srn, None, 5)
    assert weights.std() == pytest.approx(0.3, rel=0.05)          # seq_models' SRN default
    assert np.array_equal(weights, kernels.initial_weights(srn, None, 5))
    assert not np.array_equal(weights, kernels.initial_weights(srn, None, 6))
    assert kernels.initial_weights(srn, 0.1, 5).std() == pytest.approx(0.1, rel=0.05)
    lstm = kernels.Layout('lstm', 3, 16)
    weights = kernels.initial_weights(lstm, None, 5)
    assert np.abs(weights).max() <= 0.25 and np.abs(weights).max() > 0.24   # 1/sqrt(16)


@pytest.mark.slow
def test_training_loads_no_torch(tmp_path):
    script = ("import sys, seq_train\n"
              f"seq_train.main(['--epoch', '1', '--seed', '0', '--out_path', {str(tmp_path)!r},"
              f" '--plot_dir', {str(tmp_path)!r}])\n"
              "print('torch' in sys.modules)\n")
    done = subprocess.run([sys.executable, '-c', script], cwd=ROOT, capture_output=True,
                          text=True, env=dict(os.environ, MPLBACKEND='Agg'), timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == 'False'
    _, meta = checkpoint.load(tmp_path / 'anb2n_srn2_1.pth')     # written by the helper
    assert meta.step == 1000


def test_a_checkpoint_that_cannot_be_written_is_one_error():
    from nnlab.recurrent.writer import CheckpointWriter
    layout = kernels.Layout('srn', 2, 2)
    with pytest.raises(UserError, match='/proc/nowhere'):
        with CheckpointWriter() as writer:
            writer.save('/proc/nowhere/x.pth', 'srn', 2, 2, np.zeros(layout.size), {})


def test_a_run_that_fails_before_saving_stops_the_writer_at_once():
    """A bad flag found after the helper started (it ignores SIGTERM, as a terminal's
    Ctrl-C reaches it too) must not keep the user waiting for it: exit in a moment."""
    from nnlab.recurrent.writer import CheckpointWriter
    started = time.monotonic()
    with pytest.raises(UserError):
        with CheckpointWriter() as writer:
            helper = writer.process
            raise UserError('a bad folder')
    assert helper is None or not helper.is_alive()
    assert time.monotonic() - started < 5          # was the 10 s join timeout


SIGNAL_IN_THE_WINDOW = '''
import multiprocessing, os, signal, time
from nnlab.recurrent.writer import signals_ignored
seen = []
signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
with signals_ignored():                      # as the writer starts its helper
    os.kill(os.getpid(), signal.SIGTERM)     # a kill arriving meanwhile
    helper = multiprocessing.get_context('spawn').Process(target=time.sleep, args=(0,))
    helper.start()                           # the first spawn also starts the tracker
helper.join()
time.sleep(0.1)
print(seen)
'''


@pytest.mark.skipif(not hasattr(signal, 'pthread_sigmask'), reason='POSIX signal masks')
def test_a_signal_while_the_writer_starts_its_helper_is_not_lost():
    """The stop signals are ignored while the helper starts (so it starts ignoring them)
    and blocked in the trainer: one arriving then reaches the trainer afterwards, also
    when the spawn starts multiprocessing's resource tracker (which unblocks them)."""
    done = subprocess.run([sys.executable, '-c', SIGNAL_IN_THE_WINDOW], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f'[{int(signal.SIGTERM)}]'
