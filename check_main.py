"""Part 2: train or hand-design a 2-layer perceptron on the 3x3 grid of check.csv.

    python3 check_main.py --act sig --hid 5                 # train (add --restarts 8)
    python3 check_main.py --act step --hid 4 --set_weights  # the hand-designed network
    python3 check_main.py --act sig --hid 4 --set_weights   # the same, scaled sigmoids

Prints the course's lines (initial/final weights and accuracy, `ep:` every 100 epochs),
then each hidden unit's dividing line and a table of activations per point; draws
plot/check.jpg (the initial network), plot/hid_{hid}_{node}.jpg and plot/out_{hid}.jpg.
"""
import argparse
import math
import os

from check import MLP, SIG_SCALE, load_weights_file
from check_data import DEFAULT_CSV, load_points
from check_plots import plot_output, plot_units
from check_report import print_accuracy, print_analysis, print_restarts, print_weights
from check_train import initial_weights, train_restarts
from common import CliParser, UserError, ensure_dir, nonneg_float, positive_int, run_cli, \
    set_seed
from plotting import plt, use_window

DEFAULT_HID = 4
MAX_PICTURE_HID = 30   # more hidden units than this: no per-unit pictures


def seed_int(text):
    """argparse type: a whole number >= 0."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def parse_args(argv=None):
    parser = CliParser(description="Train or hand-design a 2-layer perceptron on check.csv.")
    parser.add_argument('--hid', type=positive_int, default=None,
                        help=f'number of hidden units (default {DEFAULT_HID}; '
                             f'with --weights, taken from the file)')
    parser.add_argument('--act', choices=['sig', 'step'], default='sig',
                        help='activation at both layers: sigmoid or step (>= 0)')
    parser.add_argument('--init', type=nonneg_float, default=0.15,
                        help='std of the normal initial weights')
    parser.add_argument('--set_weights', action='store_true',
                        help='start from the hand-designed weights in check.py')
    parser.add_argument('--weights', metavar='FILE',
                        help='start from the hand-designed weights in this JSON file '
                             '(implies --set_weights)')
    parser.add_argument('--scale', type=float, default=SIG_SCALE,
                        help=f'factor for the hand-designed weights with --act sig '
                             f'(default {SIG_SCALE:g})')
    parser.add_argument('--lr', type=nonneg_float, default=0.001, help='Adam learning rate')
    parser.add_argument('--epoch', type=positive_int, default=200000,
                        help='maximum number of epochs')
    parser.add_argument('--restarts', type=positive_int, default=1,
                        help='train this many networks at once (seeds seed..seed+K-1) '
                             'and keep the first that reaches 100%%')
    parser.add_argument('--first', action='store_true',
                        help='with --restarts: stop all of them as soon as one has finished '
                             'at 100%% and keep that one (no waiting for stuck restarts)')
    parser.add_argument('--seed', type=seed_int, default=0, help='random seed (>= 0)')
    parser.add_argument('--csv', default=DEFAULT_CSV,
                        help='data file: rows x,y,target (default: check.csv)')
    parser.add_argument('--plot_dir', default='plot', help='folder for the pictures')
    parser.add_argument('--show', action='store_true', help='also open the pictures')
    args = parser.parse_args(argv)
    if not (math.isfinite(args.scale) and args.scale > 0):
        raise UserError(f"--scale must be a positive number, got {args.scale}")
    return args


def hand_designed(args):
    """The hand-designed weights to start from (None: the built-in block), and hid."""
    if args.weights:
        weights = load_weights_file(args.weights)
        hid = weights['hid_bias'].numel()
        if args.hid not in (None, hid):
            raise UserError(f"--hid {args.hid} does not match the {hid} hidden units in "
                            f"{args.weights}; drop --hid")
        return weights, hid
    if args.hid not in (None, DEFAULT_HID):
        raise UserError(f"the built-in weights have {DEFAULT_HID} hidden units, not "
                        f"{args.hid}; use --hid {DEFAULT_HID} or --weights FILE")
    return None, DEFAULT_HID


def main(argv=None):
    args = parse_args(argv)
    set_seed(args.seed)
    args.set_weights = args.set_weights or bool(args.weights)
    if args.first and args.restarts == 1:
        raise UserError("--first chooses among restarts: use it with --restarts K (K > 1)")
    if args.restarts > 1 and (args.set_weights or args.act == 'step'):
        raise UserError("--restarts needs trained random starts: use it with --act sig "
                        "and without --set_weights/--weights")
    inputs, targets = load_points(args.csv)
    if args.set_weights:
        designed, hid = hand_designed(args)
    else:
        hid = args.hid or DEFAULT_HID
    ensure_dir(args.plot_dir)
    if args.show:
        use_window()
    close = not args.show  # keep figures for --show
    label = f'{args.act}, hid {hid}'
    check_path = os.path.join(args.plot_dir, 'check.jpg')

    # Restart i starts where a single run with seed + i would (see check_train.py).
    starts = [initial_weights(hid, args.init, args.seed + i) for i in range(args.restarts)]
    net = MLP(hid, args.act)
    net.load_weights(starts[0])
    if args.set_weights:
        net.set_weights(designed, args.scale)
        starts = [net.get_weights()]
        print_weights('Initial Weights:', net)
        print_accuracy('Initial Accuracy: ', net, inputs, targets)
    plot_output(net, inputs, targets, check_path,
                f'initial network output ({label}): shaded where it predicts 1',
                close=close)

    interrupted = False
    if args.act == 'sig':  # the step network has no gradient: only sig trains
        result = train_restarts(starts, inputs, targets, lr=args.lr, epochs=args.epoch,
                                stop_at_first=args.first)
        interrupted = result.interrupted
        if interrupted:
            print(f"Training stopped by Ctrl-C at epoch {result.epochs}; "
                  f"reporting the network as it is.")
        if args.restarts > 1:
            print_restarts(result, args.seed)
        kept = result.kept()
        if kept.index != 0:  # check.jpg shows the start of the network reported
            net.load_weights(starts[kept.index])
            plot_output(net, inputs, targets, check_path,
                        f'initial network output ({label}, restart {kept.index}): '
                        f'shaded where it predicts 1', close=close)
        net.load_weights(kept.weights)

    print_weights('Final Weights:', net)
    print_accuracy('Final Accuracy: ', net, inputs, targets)
    print_analysis(net, inputs, targets)
    pictures = [check_path]
    if hid <= MAX_PICTURE_HID:
        pictures += plot_units(net, inputs, targets, args.plot_dir, label, close=close)
    print()
    print('Pictures:', ' '.join(pictures))
    if args.show:
        plt.show()
    return 130 if interrupted else 0


if __name__ == '__main__':
    run_cli(main)
