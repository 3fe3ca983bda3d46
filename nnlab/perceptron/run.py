"""Part 2's run: start from random or hand-designed weights, train the sigmoid network,
print the course's lines and the analysis, draw the pictures, keep it all in the record.

`run(Config(...))` is what check_main.py calls after checking its flags.
"""
import os

import torch

from nnlab import student
from nnlab.cli import UserError, stop
from nnlab.formats import check_run
from nnlab.formats.check_run import (
    CheckConfig,
    CheckResults,
    CheckRun,
    LoggedEpoch,
    Restart,
    Weights,
)
from nnlab.outputs import Plan, RunWriter
from nnlab.perceptron import console
from nnlab.perceptron.data import load_points
from nnlab.perceptron.plots import plot_loss_curves, plot_output, plot_units
from nnlab.perceptron.train import initial_weights, train_restarts
from nnlab.perceptron.weights import load_weights_file, section_weights
from nnlab.plotting import plt, use_window
from nnlab.seeds import repeat_command, set_seed

Config = CheckConfig
DEFAULT_HID = 4
MAX_PICTURE_HID = 30   # more hidden units than this: no per-unit pictures


class CheckOutputs(Plan):
    """Everything a check_main.py run writes (the course's picture names)."""

    def __init__(self, config, hid):
        super().__init__(config.plot_dir, 'check', 'check_main.py pictures')
        folder = self.folder(config.plot_dir)
        self.initial = self.file(os.path.join(folder, check_run.INITIAL_PICTURE))
        self.loss = os.path.join(folder, check_run.loss_picture(hid))
        pictures = hid <= MAX_PICTURE_HID
        self.hidden = [os.path.join(folder, check_run.hidden_picture(hid, node))
                       for node in range(hid)] if pictures else []
        self.output = os.path.join(folder, check_run.output_picture(hid)) if pictures else None
        self.record = self.chosen(config.summary, '--summary',
                                  check_run.record_path(folder, config.act, hid))


def check_config(config):
    if config.first and config.restarts == 1:
        raise UserError("--first chooses among restarts: use it with --restarts K (K > 1)")
    if config.restarts > 1 and (config.designed or config.act == 'step'):
        raise UserError("--restarts needs trained random starts: use it with --act sig "
                        "and without --set_weights/--weights")


def hand_designed(config):
    """The hand-designed weights to start from (--weights FILE, else check.py's weights
    section), and hid."""
    if config.weights:
        weights = load_weights_file(config.weights)
        hid = weights['hid_bias'].numel()
        if config.hid not in (None, hid):
            raise UserError(f"--hid {config.hid} does not match the {hid} hidden units in "
                            f"{config.weights}; drop --hid")
        return weights, hid
    return section_weights(config.hid)


def print_weights(title, net):
    """`title`, then the four tensors as the course printed them."""
    print(title)
    for tensor in net.get_weights().values():
        print(tensor)


def measure(net, inputs, targets):
    """The network's accuracy on the points, and their Point records (activations)."""
    accuracy = student.load('check', need=('accuracy',)).accuracy
    with torch.no_grad(), student.blame('check', 'MLP.forward'):
        output = net(inputs)
        acc = accuracy(output, targets)
        points = console.points_of(inputs.tolist(), targets.tolist(), net.hid.tolist(),
                                   output.tolist())
    return acc, points


def choose_engine(config, net, inputs, targets):
    """Which engine trains check.py's MLP (nnlab/engine.py); its note printed."""
    from nnlab import engine
    from nnlab.perceptron import autograd

    def probe():
        with student.blame('check', None, 'comparing the MLP with the compiled kernel'):
            return autograd.probe(net, inputs, targets)
    chosen = engine.choose(config.engine, 'check', 'MLP', probe, uses_init=False)
    if chosen.note:
        print(f"note: {chosen.note}", flush=True)
    return chosen


def run(config):
    """check_main.py's work; one run at a time writes the pictures of a --plot_dir."""
    stop.check()                             # a Ctrl-C while torch loaded: stop here
    check_config(config)
    inputs, targets = load_points(config.csv) if config.csv else load_points()
    designed, hid = hand_designed(config) if config.designed else \
        (None, config.hid or DEFAULT_HID)
    with CheckOutputs(config, hid) as out:
        return _run(config, out, inputs, targets, designed, hid)


def _run(config, out, inputs, targets, designed, hid):
    if config.random_start and config.seed_drawn:
        print(f"seed {config.seed} (drawn for this run; repeat it with: "
              f"{repeat_command(config.seed)})", flush=True)
    set_seed(config.seed)
    if config.show:
        use_window()
    close = not config.show  # keep figures for --show
    label = f'{config.act}, hid {hid}'
    seeds = [config.seed + i for i in range(config.restarts)]
    record = RunWriter(CheckRun, config, CheckResults(hid=hid), seeds, config.seed_drawn)
    results = record.results

    # Restart i starts where a single run with seed + i would (see train.py).
    starts = [initial_weights(hid, config.init, seed) for seed in seeds]
    check = student.load('check', need=('MLP', 'SIG_SCALE'))
    net = student.call('check', 'MLP.__init__', check.MLP, hid, config.act)
    net.load_weights(starts[0])
    if config.designed:
        net.set_weights(designed, check.SIG_SCALE if config.scale is None else config.scale)
        starts = [net.get_weights()]
        print_weights('Initial Weights:', net)
        results.initial_accuracy, _ = measure(net, inputs, targets)
        print(console.accuracy_line('Initial Accuracy: ', results.initial_accuracy))
    results.initial_weights = Weights.of(starts[0])
    plot_output(net, inputs, targets, out.initial,
                f'initial network output ({label}): shaded where it predicts 1', close=close)

    interrupted, curve = False, None
    if config.act == 'sig':  # the step network has no gradient: only sig trains
        chosen = choose_engine(config, net, inputs, targets)
        results.engine, results.fingerprint = chosen.engine, chosen.fingerprint
        result = train_restarts(starts, inputs, targets, lr=config.lr, epochs=config.epoch,
                                stop_at_first=config.first,
                                net=net if chosen.engine == 'torch' else None)
        interrupted = result.interrupted
        if interrupted:   # run_cli exits with the signal's code once the report is out
            print(f"Training {stop.reason} at epoch {result.epochs}; "
                  f"reporting the network as it is.")
        kept = result.kept()
        results.restarts = [Restart(config.seed + r.index, r.success, r.perfect_since,
                                    r.stopped, r.loss, r.accuracy) for r in result.restarts]
        results.kept = kept.index
        results.log = [LoggedEpoch(int(e), loss, acc) for e, loss, acc in zip(
            result.log_epochs, result.log_loss[kept.index], result.log_accuracy[kept.index])]
        if config.restarts > 1:
            print(console.restarts_text(results.restarts, kept.index, result.epochs,
                                        interrupted, result.first_done))
        if kept.index != 0:  # check.jpg shows the start of the network reported
            net.load_weights(starts[kept.index])
            results.initial_weights = Weights.of(starts[kept.index])
            plot_output(net, inputs, targets, out.initial,
                        f'initial network output ({label}, restart {kept.index}): '
                        f'shaded where it predicts 1', close=close)
        net.load_weights(kept.weights)
        curve = plot_loss_curves(out.loss, result.log_epochs, result.log_loss,
                                 result.log_accuracy, kept=kept.index,
                                 title=f'training ({label})')

    print_weights('Final Weights:', net)
    results.final_weights = Weights.of(net.get_weights())
    results.final_accuracy, results.points = measure(net, inputs, targets)
    print(console.accuracy_line('Final Accuracy: ', results.final_accuracy))
    if results.final_accuracy < 100.0 and config.act == 'sig' and not interrupted:
        results.stuck = True
        again = ('run it again without --seed (a fresh one is drawn), or train 8 at '
                 'once with --restarts 8' if config.random_start else 'change the weights')
        print(f"Stuck at {results.final_accuracy:.2f}% (training sometimes sticks): {again}")
    results.lines = console.lines_of(results.final_weights)
    print(console.analysis_text(results.lines, results.points, hid))
    pictures = [out.initial] + ([curve] if curve else [])
    if out.output:
        pictures += plot_units(net, inputs, targets, out.hidden, out.output, label,
                               close=close)
    print()
    print('Pictures:', ' '.join(pictures))
    print(f"(the course's names: the next check_main.py run in {config.plot_dir} replaces "
          f"{os.path.basename(out.initial)}, the next with --hid {hid} the others)")
    results.pictures = pictures
    record.write(out.record, 'interrupted' if interrupted else 'finished')
    if config.show:
        plt.show()
    return 0
