"""Part 2: train or hand-design a 2-layer perceptron on the 3x3 grid of check.csv.

    python3 check_main.py --act sig --hid 5                 # train (add --restarts 8)
    python3 check_main.py --act step --hid 4 --set_weights  # the hand-designed network
    python3 check_main.py --act sig --hid 4 --set_weights   # the same, scaled sigmoids

Prints the course's lines (initial/final weights and accuracy, `ep:` every 100 epochs),
then each hidden unit's dividing line and a table of activations per point; draws
plot/check.jpg (the initial network), plot/hid_{hid}_{node}.jpg and plot/out_{hid}.jpg.
Without --seed a training run draws a fresh seed and prints how to repeat it.
"""
from nnlab.cli import catch_signals, run_cli

catch_signals(__name__)   # first: Ctrl-C from here on is one line (nnlab/cli.py)

from nnlab import arguments

hidden_units = arguments.whole(1, 1000, 'each picture evaluates every unit at 90,601 points')
restarts = arguments.whole(1, 4096, 'each restart can train --epoch epochs')
max_epochs = arguments.whole(1, 10_000_000, 'about a minute of training per restart')


def build_parser():
    parser = arguments.CliParser(prog='check_main.py',
                                 description="Train or hand-design a 2-layer perceptron on "
                                             "check.csv.")
    parser.add_argument('--hid', type=hidden_units, default=None,
                        help=f'number of hidden units (default 4; with --weights, taken '
                             f'from the file; {hidden_units.bounds})')
    parser.add_argument('--act', choices=['sig', 'step'], default='sig',
                        help='activation at both layers: sigmoid or step (>= 0)')
    parser.add_argument('--init', type=arguments.positive, default=0.15,
                        help='std of the normal initial weights (default 0.15)')
    parser.add_argument('--set_weights', action='store_true',
                        help='start from the hand-designed weights in check.py')
    parser.add_argument('--weights', metavar='FILE',
                        help='start from the hand-designed weights in this JSON file '
                             '(implies --set_weights)')
    parser.add_argument('--scale', type=arguments.positive, default=None,
                        help="factor for the hand-designed weights with --act sig "
                             "(default: check.py's SIG_SCALE, 10)")
    parser.add_argument('--lr', type=arguments.learning_rate, default=0.001,
                        help='Adam learning rate, above 0 (default 0.001)')
    parser.add_argument('--epoch', type=max_epochs, default=200000,
                        help=f'maximum number of epochs (default 200000; {max_epochs.bounds})')
    parser.add_argument('--restarts', type=restarts, default=1,
                        help=f'train this many networks at once (seeds seed..seed+K-1) '
                             f'and keep the first that reaches 100%% ({restarts.bounds})')
    parser.add_argument('--first', action='store_true',
                        help='with --restarts: stop all of them as soon as one has finished '
                             'at 100%% and keep that one (no waiting for stuck restarts)')
    parser.add_argument('--seed', type=arguments.seed, default=None,
                        help=arguments.seed_help('default: a fresh one, printed'))
    parser.add_argument('--csv', default=None,
                        help='data file: rows x,y,target (default: check.csv)')
    parser.add_argument('--plot_dir', default='plot', help='folder for the pictures')
    parser.add_argument('--show', action='store_true', help='also open the pictures')
    arguments.add_engine(parser)
    parser.add_argument('--summary', default=None, metavar='PATH',
                        help='write the run record (JSON) to PATH (default: '
                             'check_{act}_hid{hid}_run.json in --plot_dir)')
    return parser


def parse_args(argv=None):
    return arguments.parse(build_parser(), argv)


def main(argv=None):
    args = parse_args(argv)
    from nnlab.perceptron.run import Config, run  # torch loads here, after the flags
    return run(arguments.config_from(Config, args))


if __name__ == '__main__':
    run_cli(main)
