"""Benchmark: seq_train.py's trainer against a plain reference loop, in the same run.

The reference is written here the way the course's scripts train: per example, build the
one-hot input tensor, run the network with a Python loop over time steps under autograd,
log_softmax + nll_loss, backward, optimizer.step(); print an example every 1000 steps.
Ours is trainer.Trainer (the compiled kernels of nnlab/recurrent/kernels.py), timed with
its checks and printing.

    python3 -m bench.bench_seq                 # SRN anb2n, LSTM anb2nc3n, restarts 16 vs 1
    python3 -m bench.bench_seq --full          # + the spec commands end to end, 16 runs
                                               #   against one, and a cold start
    python3 -m bench.bench_seq --success 20    # verdicts seed by seed, reference vs ours
                                               # (slow: about a minute a seed)

Rounds alternate reference and ours so load from other processes hits both alike; the
ratio uses the fastest round of each.
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from bench import run_timed
from nnlab import ROOT
from nnlab.child import python_script
from nnlab.recurrent import kernels, languages
from nnlab.recurrent.trainer import CHECK_EVERY, VERDICT_CHECKS, Config, Trainer
from seq_models import make_model


# --- the reference: course-style modules and loop --------------------------------------
class RefSRN(nn.Module):
    def __init__(self, num_input, num_hid, num_out):
        super().__init__()
        self.H0 = nn.Parameter(torch.randn(num_hid) * 0.1)
        self.W = nn.Parameter(torch.randn(num_input, num_hid) * 0.1)
        self.U = nn.Parameter(torch.randn(num_hid, num_hid) * 0.1)
        self.hid_bias = nn.Parameter(torch.randn(num_hid) * 0.1)
        self.V = nn.Parameter(torch.randn(num_hid, num_out) * 0.1)
        self.out_bias = nn.Parameter(torch.randn(num_out) * 0.1)

    def forward(self, x):
        h = torch.tanh(self.H0).unsqueeze(0)
        hidden = []
        for t in range(x.size(1)):
            h = torch.tanh(x[:, t, :] @ self.W + h @ self.U + self.hid_bias)
            hidden.append(h)
        hidden = torch.stack(hidden, dim=1)
        return hidden, hidden @ self.V + self.out_bias


class RefLSTM(nn.Module):
    def __init__(self, num_input, num_hid, num_out):
        super().__init__()
        self.num_hid = num_hid
        bound = num_hid ** -0.5
        self.W = nn.Parameter(torch.empty(num_input, 4 * num_hid).uniform_(-bound, bound))
        self.U = nn.Parameter(torch.empty(num_hid, 4 * num_hid).uniform_(-bound, bound))
        self.hid_bias = nn.Parameter(torch.empty(4 * num_hid).uniform_(-bound, bound))
        self.V = nn.Parameter(torch.empty(num_hid, num_out).uniform_(-bound, bound))
        self.out_bias = nn.Parameter(torch.empty(num_out).uniform_(-bound, bound))

    def forward(self, x):
        n = self.num_hid
        h = torch.zeros(1, n)
        c = torch.zeros(1, n)
        hidden = []
        for t in range(x.size(1)):
            gates = x[:, t, :] @ self.W + h @ self.U + self.hid_bias
            i = torch.sigmoid(gates[:, :n])
            f = torch.sigmoid(gates[:, n:2 * n])
            g = torch.tanh(gates[:, 2 * n:3 * n])
            o = torch.sigmoid(gates[:, 3 * n:])
            c = f * c + i * g
            h = o * torch.tanh(c)
            hidden.append(h)
        hidden = torch.stack(hidden, dim=1)
        return hidden, hidden @ self.V + self.out_bias


def reference_train(lang, model, settings, examples, rng, out):
    S = lang.num_symbols
    net = (RefSRN if model == 'srn' else RefLSTM)(S, settings['hid'], S)
    if settings['optim'] == 'sgd':
        opt = torch.optim.SGD(net.parameters(), lr=settings['lr'], momentum=settings['mom'],
                              weight_decay=settings['weight_decay'])
    else:
        opt = torch.optim.Adam(net.parameters(), lr=settings['lr'],
                               weight_decay=settings['weight_decay'])
    for step in range(1, examples + 1):
        ex = lang.sample(rng)
        x = torch.zeros(1, len(ex.seq) - 1, S)
        x[0, torch.arange(len(ex.seq) - 1), torch.from_numpy(ex.seq[:-1])] = 1.0
        target = torch.from_numpy(ex.seq[1:])
        net.zero_grad()
        hidden, output = net(x)
        log_prob = F.log_softmax(output, dim=2)
        loss = F.nll_loss(log_prob.squeeze(0), target)
        loss.backward()
        opt.step()
        if step % 1000 == 0:
            probs = torch.exp(log_prob).detach()[0].numpy()
            print(f'epoch: {step} loss: {loss.item():.4f} {probs[:2]}', file=out)


def ours_train(lang_name, model, settings, examples, seed, restarts, out):
    spec = languages.get_spec(lang_name)
    lang = spec.make()
    config = Config(lang=lang_name, model=model, seed=seed, restarts=restarts,
                    out_path='unused', **settings)
    trainer = Trainer(spec, lang, config)                   # no checkpoints: time training

    def after_check(tr, exs, hidden, probs):
        if tr.K == 1:
            stdout, sys.stdout = sys.stdout, out
            try:
                lang.print_outputs(tr.step, exs[0], hidden[0], probs[0])
            finally:
                sys.stdout = stdout
    trainer.train(examples, after_check)


def best_seconds(fn, rounds):
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def compare(lang_name, model, ref_examples, our_examples, rounds, out):
    settings = languages.get_spec(lang_name).defaults(model)
    lang = languages.make_language(lang_name)
    ref_times, our_times = [], []
    for r in range(rounds):                 # alternate, so background load hits both
        ref_times.append(best_seconds(lambda r=r: reference_train(
            lang, model, settings, ref_examples, np.random.default_rng(r), out), 1))
        our_times.append(best_seconds(lambda r=r: ours_train(
            lang_name, model, settings, our_examples, r, 1, out), 1))
    ref_ms = 1000 * min(ref_times) / ref_examples
    our_ms = 1000 * min(our_times) / our_examples
    print(f"{lang_name} {model.upper()}{settings['hid']}: reference {ref_ms:.3f} ms/example, "
          f"ours {our_ms:.3f} ms/example, speed-up {ref_ms / our_ms:.1f}x; "
          f"100,000 examples: reference {ref_ms * 100:.0f} s, ours {our_ms * 100:.1f} s",
          flush=True)
    return ref_ms, our_ms


def compare_restarts(restarts, examples, rounds, out):
    settings = languages.get_spec('anb2n').defaults('srn')
    one, many = [], []
    for r in range(rounds):
        one.append(best_seconds(lambda r=r: ours_train('anb2n', 'srn', settings, examples, r, 1,
                                                   out), 1))
        many.append(best_seconds(lambda r=r: ours_train('anb2n', 'srn', settings, examples, r,
                                                    restarts, out), 1))
    print(f"anb2n SRN2, {examples:,} examples per run: 1 run {min(one):.2f} s, "
          f"{restarts} runs at once {min(many):.2f} s = {min(many) / min(one):.2f}x the time "
          f"of one", flush=True)


def time_command(args, env=None, quiet=False):
    """Wall seconds of `seq_train.py ARGS` (start-up, printing, checkpoints included)."""
    with tempfile.TemporaryDirectory() as folder:
        cmd = python_script(os.path.join(ROOT, 'seq_train.py'),
                            [*args, '--out_path', folder, '--plot_dir', folder])
        seconds, out = run_timed(cmd, env=env)
    if not quiet:
        last = out.strip().splitlines()[-2:]
        print(f"seq_train.py {' '.join(args)}: {seconds:.1f} s wall (start-up included); "
              f"{' | '.join(last)}", flush=True)
    return seconds


def time_commands():
    """The commands docs/benchmarks.md sets targets for: the course's two commands, 16 runs
    against one, a cold start."""
    time_command(['--lang', 'anb2n', '--seed', '0'])
    time_command(['--lang', 'anb2nc3n', '--model', 'lstm', '--hid', '3', '--seed', '0'])
    one = time_command(['--lang', 'anb2n', '--seed', '0'], quiet=True)
    many = time_command(['--lang', 'anb2n', '--seed', '0', '--restarts', '16'], quiet=True)
    print(f"seq_train.py --lang anb2n --restarts 16: {many:.1f} s against {one:.1f} s for one "
          f"run: {many / one:.2f}x", flush=True)
    with tempfile.TemporaryDirectory() as empty:      # numba finds no compiled code there
        cold = time_command(['--lang', 'anb2nc3n', '--model', 'lstm', '--hid', '3',
                             '--seed', '0'], env={'NUMBA_CACHE_DIR': empty}, quiet=True)
    print(f"cold start (empty compile cache): seq_train.py --lang anb2nc3n --model lstm "
          f"--hid 3: {cold:.1f} s", flush=True)


# --- success rate before (reference loop) and after (ours) ----------------------------
SUCCESS_RUN = dict(lang='anb2n', model='srn', optim='adam', lr=0.01)   # a short schedule


def reference_success(seed, steps, dtype=torch.float64):
    """The reference loop with run `seed`'s initial weights, examples and checks (autograd,
    torch.optim, as the course trains; float64 as our kernels compute, or float32 as the
    course's scripts do); True if it meets the criterion."""
    spec = languages.get_spec(SUCCESS_RUN['lang'])
    lang = spec.make()
    settings = dict(spec.defaults('srn'), optim=SUCCESS_RUN['optim'], lr=SUCCESS_RUN['lr'])
    S = lang.num_symbols
    net = RefSRN(S, settings['hid'], S).to(dtype)
    layout = kernels.Layout('srn', S, settings['hid'])
    start = layout.to_model(kernels.initial_weights(layout, None, seed),
                            make_model('srn', S, settings['hid'], S).to(dtype))
    net.load_state_dict(start.state_dict())
    opt = torch.optim.Adam(net.parameters(), lr=settings['lr'],
                           weight_decay=settings['weight_decay'])
    data, checks_rng, checks = np.random.default_rng(seed), np.random.default_rng([seed, 1]), []
    for _ in range(steps // CHECK_EVERY):
        for ex in lang.sample_many(data, CHECK_EVERY):
            x = ex.inputs().to(dtype)
            net.zero_grad()
            _, output = net(x)
            loss = F.nll_loss(F.log_softmax(output, dim=2)[0], torch.from_numpy(ex.targets))
            loss.backward()
            opt.step()
        ex = lang.sample(checks_rng)
        with torch.no_grad():
            _, output = net(ex.inputs().to(dtype))
        checks.append(lang.error(ex, output[0].softmax(-1).numpy()))
    return spec.meets(checks[-VERDICT_CHECKS:])


def compare_success(seeds, steps, dtype):
    spec = languages.get_spec(SUCCESS_RUN['lang'])
    settings = dict(spec.defaults('srn'), optim=SUCCESS_RUN['optim'], lr=SUCCESS_RUN['lr'])
    config = Config(lang=SUCCESS_RUN['lang'], model='srn', seed=0, restarts=seeds,
                    out_path='unused', **settings)
    trainer = Trainer(spec, spec.make(), config)
    start = time.perf_counter()
    trainer.train(steps, lambda *a: None)
    ours_seconds = time.perf_counter() - start
    ours = [trainer.verdict(k)[0] for k in range(seeds)]
    start = time.perf_counter()
    reference = [reference_success(seed, steps, dtype) for seed in range(seeds)]
    ref_seconds = time.perf_counter() - start
    agree = sum(a == b for a, b in zip(ours, reference))
    print(f"success on anb2n SRN2 ({settings['optim']} lr {settings['lr']}, "
          f"{steps:,} examples, seeds 0..{seeds - 1}): reference ({str(dtype)[6:]}) "
          f"{sum(reference)}/{seeds} "
          f"in {ref_seconds:.0f} s, ours {sum(ours)}/{seeds} in {ours_seconds:.1f} s; "
          f"same verdict for {agree} of {seeds} seeds", flush=True)
    print(f"  reference succeeded: {[s for s in range(seeds) if reference[s]]}; "
          f"ours: {[s for s in range(seeds) if ours[s]]}", flush=True)


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--full', action='store_true',
                        help='also time the default spec commands end to end')
    parser.add_argument('--success', type=int, default=0, metavar='SEEDS',
                        help='compare the share of seeds meeting the criterion')
    parser.add_argument('--success_steps', type=int, default=10000)
    parser.add_argument('--success_float32', action='store_true',
                        help='run the reference in float32, as the course does (default: '
                             'float64, our precision, so the verdicts must all agree)')
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    torch.set_num_threads(1)
    if args.success:
        compare_success(args.success, args.success_steps,
                        torch.float32 if args.success_float32 else torch.float64)
        return
    with open(os.devnull, 'w') as out:
        compare('anb2n', 'srn', 300, 30000, args.rounds, out)
        compare('anb2nc3n', 'lstm', 100, 10000, args.rounds, out)
        compare_restarts(16, 10000, args.rounds, out)
    if args.full:
        time_commands()


if __name__ == '__main__':
    main()
