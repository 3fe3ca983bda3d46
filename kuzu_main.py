"""Train a KMNIST classifier (lin, full or conv) and report how well it does.

    python3 kuzu_main.py --net conv

Prints the parameter count, a 'Train Epoch' line every 100 batches and, after every
epoch, the test confusion matrix and accuracy in the course's format; after the last
epoch the three most confused character pairs. Writes into --plot_dir (default plot/):
kuzu_{net}_params.txt, kuzu_{net}_confusion.csv and .jpg, kuzu_{net}_history.csv and
the run record kuzu_{net}_run.json.
"""
from nnlab.cli import catch_signals, run_cli

catch_signals(__name__)   # first: Ctrl-C from here on is one line (nnlab/cli.py)

import os

from nnlab import arguments
from nnlab.kmnist.facts import FULL_HIDDEN, NETS

# OpenMP threads that spin while they wait starve each other when other jobs share the
# cores (conv steps measured 3-5x slower); sleeping waits cost little on a quiet machine.
# Must be set before torch loads its OpenMP runtime; a user's own setting wins.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

hidden_units = arguments.whole(1, 100_000, '784 weights a unit: 100,000 units are 1 GB '
                                       'with gradients and momentum')
epochs = arguments.whole(1, 10_000, 'a day of training on a CPU')
image_count = arguments.whole(1, 1_000_000, '1,000,000 images are 3 GB in memory')


def build_parser():
    parser = arguments.CliParser(prog='kuzu_main.py', description=__doc__.split('\n')[0])
    # The course's original flags.
    parser.add_argument('--net', default='full', choices=NETS,
                        help='lin, full or conv (default full)')
    parser.add_argument('--lr', type=arguments.learning_rate, default=0.01,
                        help='learning rate, above 0 (default 0.01)')
    parser.add_argument('--mom', type=arguments.momentum, default=0.5,
                        help='momentum, 0 to below 1 (default 0.5)')
    parser.add_argument('--epochs', type=epochs, default=10,
                        help=f'epochs (default 10; {epochs.bounds})')
    parser.add_argument('--no_cuda', action='store_true', default=False,
                        help='train on the CPU even if a GPU is available')
    # Ours.
    parser.add_argument('--hid', type=hidden_units, default=None,
                        help=f"hidden units of NetFull, where its constructor takes an "
                             f"argument (default {FULL_HIDDEN}; {hidden_units.bounds})")
    parser.add_argument('--seed', type=arguments.seed, default=1,
                        help=arguments.seed_help('default 1'))
    parser.add_argument('--data', default=None,
                        help='folder holding KMNIST/raw; downloaded there when missing '
                             '(default $KUZU_DATA, else ./data)')
    parser.add_argument('--plot_dir', default='plot',
                        help='folder for the pictures and tables (default plot)')
    parser.add_argument('--save', default=None, metavar='PATH',
                        help='save the trained state dict to PATH')
    parser.add_argument('--train_count', type=image_count, default=None, metavar='N',
                        help='train on N images per epoch, repeating the available ones in '
                             f'order (for speed measurements; default: all of them; '
                             f'{image_count.bounds})')
    parser.add_argument('--summary', default=None, metavar='PATH',
                        help='write the run record (JSON) to PATH '
                             '(default: kuzu_{net}_run.json in --plot_dir)')
    return parser


def parse_args(argv=None):
    parser = build_parser()
    args = arguments.parse(parser, argv)
    if args.data == '':
        parser.error("--data is empty; give the folder that holds KMNIST/raw")
    return args


def main(argv=None):
    args = parse_args(argv)
    from nnlab.kmnist.run import Config, run  # torch loads here, after the flags
    return run(arguments.config_from(Config, args, cuda=not args.no_cuda))


if __name__ == '__main__':
    run_cli(main)
