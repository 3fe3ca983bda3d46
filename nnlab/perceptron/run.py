"""Part 2's run: start from random or hand-designed weights, train the sigmoid network,
print the course's report and draw the pictures.

`run(Config(...))` is what check_main.py calls after checking its flags.
"""
import contextlib
import io
import os
import sys
from dataclasses import dataclass

from check import MLP, SIG_SCALE
from nnlab.cli import UserError, stop
from nnlab.files import OutputLock, check_writable_file, ensure_dir, probe_temporary
from nnlab.perceptron.data import load_points
from nnlab.perceptron.plots import plot_loss_curves, plot_output, plot_units
from nnlab.perceptron.report import (
    print_accuracy,
    print_analysis,
    print_restarts,
    print_weights,
)
from nnlab.perceptron.train import initial_weights, train_restarts
from nnlab.perceptron.weights import load_weights_file
from nnlab.plotting import plt, use_window
from nnlab.records import RunRecord
from nnlab.seeds import repeat_command, set_seed

DEFAULT_HID = 4
MAX_PICTURE_HID = 30   # more hidden units than this: no per-unit pictures


@dataclass(frozen=True)
class Config:
    act: str = 'sig'
    hid: int | None = None            # None: 4, or the weights file's size
    init: float = 0.15
    set_weights: bool = False
    weights: str | None = None        # a JSON design (implies set_weights)
    scale: float | None = None        # None: check.py's SIG_SCALE
    lr: float = 0.001
    epoch: int = 200000
    restarts: int = 1
    first: bool = False
    seed: int = 0
    seed_drawn: bool = False          # the seed was drawn for this run (no --seed)
    csv: str | None = None
    plot_dir: str = 'plot'
    show: bool = False
    summary: str | None = None

    @property
    def designed(self):
        return self.set_weights or self.weights is not None

    @property
    def random_start(self):
        """The seed matters: the network starts from random weights."""
        return not self.designed


class Tee:
    """Writes to two streams: what is printed, and a copy of it."""

    def __init__(self, *streams):
        self.streams = streams

    def write(self, text):
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self):
        for stream in self.streams:
            stream.flush()


def check_config(config):
    if config.first and config.restarts == 1:
        raise UserError("--first chooses among restarts: use it with --restarts K (K > 1)")
    if config.restarts > 1 and (config.designed or config.act == 'step'):
        raise UserError("--restarts needs trained random starts: use it with --act sig "
                        "and without --set_weights/--weights")


def hand_designed(config):
    """The hand-designed weights to start from (None: the built-in block), and hid."""
    if config.weights:
        weights = load_weights_file(config.weights)
        hid = weights['hid_bias'].numel()
        if config.hid not in (None, hid):
            raise UserError(f"--hid {config.hid} does not match the {hid} hidden units in "
                            f"{config.weights}; drop --hid")
        return weights, hid
    if config.hid not in (None, DEFAULT_HID):
        raise UserError(f"the built-in weights have {DEFAULT_HID} hidden units, not "
                        f"{config.hid}; use --hid {DEFAULT_HID} or --weights FILE")
    return None, DEFAULT_HID


def record_path(config, hid):
    return config.summary or os.path.join(config.plot_dir, f'check_{config.act}_hid{hid}_run.json')


def run(config):
    """check_main.py's work; one run at a time writes the pictures of a --plot_dir."""
    stop.check()                             # a Ctrl-C while torch loaded: stop here
    with OutputLock(ensure_dir(config.plot_dir), 'check', 'check_main.py pictures'):
        return _run(config)


def _run(config):
    check_config(config)
    inputs, targets = load_points(config.csv) if config.csv else load_points()
    if config.designed:
        designed, hid = hand_designed(config)
    else:
        hid = config.hid or DEFAULT_HID
    probe_temporary(ensure_dir(config.plot_dir), os.path.join(config.plot_dir, 'check.jpg'))
    if config.summary is not None:
        check_writable_file(config.summary, '--summary')
    if config.random_start and config.seed_drawn:
        print(f"seed {config.seed} (drawn for this run; repeat it with: "
              f"{repeat_command(config.seed)})", flush=True)
    set_seed(config.seed)
    if config.show:
        use_window()
    close = not config.show  # keep figures for --show
    label = f'{config.act}, hid {hid}'
    check_path = os.path.join(config.plot_dir, 'check.jpg')
    seeds = [config.seed + i for i in range(config.restarts)]
    record = RunRecord('check_main.py', config, seeds, config.seed_drawn)

    # Restart i starts where a single run with seed + i would (see train.py).
    starts = [initial_weights(hid, config.init, seed) for seed in seeds]
    net = MLP(hid, config.act)
    net.load_weights(starts[0])
    if config.designed:
        net.set_weights(designed, SIG_SCALE if config.scale is None else config.scale)
        starts = [net.get_weights()]
        print_weights('Initial Weights:', net)
        print_accuracy('Initial Accuracy: ', net, inputs, targets)
    plot_output(net, inputs, targets, check_path,
                f'initial network output ({label}): shaded where it predicts 1',
                close=close)

    interrupted, curve = False, None
    if config.act == 'sig':  # the step network has no gradient: only sig trains
        result = train_restarts(starts, inputs, targets, lr=config.lr, epochs=config.epoch,
                                stop_at_first=config.first)
        interrupted = result.interrupted
        if interrupted:   # run_cli exits with the signal's code once the report is out
            print(f"Training {stop.reason} at epoch {result.epochs}; "
                  f"reporting the network as it is.")
        if config.restarts > 1:
            print_restarts(result, config.seed)
        kept = result.kept()
        record.results['restarts'] = [
            dict(seed=config.seed + r.index, reached_100=r.success, perfect_since=r.perfect_since,
                 stopped=r.stopped, final_loss=r.loss, final_accuracy=r.accuracy)
            for r in result.restarts]
        record.results['kept'] = kept.index
        if kept.index != 0:  # check.jpg shows the start of the network reported
            net.load_weights(starts[kept.index])
            plot_output(net, inputs, targets, check_path,
                        f'initial network output ({label}, restart {kept.index}): '
                        f'shaded where it predicts 1', close=close)
        net.load_weights(kept.weights)
        curve = plot_loss_curves(os.path.join(config.plot_dir, f'loss_{hid}.jpg'),
                                 result.log_epochs, result.log_loss, result.log_accuracy,
                                 kept=kept.index, title=f'training ({label})')

    printed = io.StringIO()               # the report's text, kept for report.py as well
    with contextlib.redirect_stdout(Tee(sys.stdout, printed)):
        print_weights('Final Weights:', net)
        accuracy = print_accuracy('Final Accuracy: ', net, inputs, targets)
        if accuracy < 100.0 and config.act == 'sig' and not interrupted:
            again = ('run it again without --seed (a fresh one is drawn), or train 8 at '
                     'once with --restarts 8' if config.random_start else 'change the weights')
            print(f"Stuck at {accuracy:.2f}% (training sometimes sticks): {again}")
        print_analysis(net, inputs, targets)
    record.results.update(final_accuracy=accuracy, report_text=printed.getvalue(),
                          final_weights={k: v.tolist() for k, v in net.get_weights().items()})
    pictures = [check_path] + ([curve] if curve else [])
    if hid <= MAX_PICTURE_HID:
        pictures += plot_units(net, inputs, targets, config.plot_dir, label, close=close)
    print()
    print('Pictures:', ' '.join(pictures))
    print(f"(the course's names: the next check_main.py run with --hid {hid} in "
          f"{config.plot_dir} replaces them)")
    record.results['pictures'] = pictures
    record.write(record_path(config, hid), 'interrupted' if interrupted else 'finished')
    if config.show:
        plt.show()
    return 0
