"""Train a recurrent network (SRN, LSTM, GRU) to predict the next symbol of a formal language.

    python3 seq_train.py --lang anb2n
    python3 seq_train.py --lang anb2nc3n --model lstm --hid 3
    python3 seq_train.py --lang anb2n --restarts 16      # 16 runs at once, names the best

One optimiser step per generated example (loss: mean NLL of the actual next symbols).
Every 1000 examples a fresh example's outputs are printed; every 10,000 the weights are
saved as {out_path}/{lang}_{model}{hid}_{thousands}.pth; at the end the error at every
check is drawn in {plot_dir}/{lang}_{model}{hid}_loss.jpg. Unset flags take the
language's defaults (docs/part3.md). Without --seed a fresh seed is drawn and printed with the
command that repeats the run. Ctrl-C (or SIGTERM) saves the current step and stops.
"""
from nnlab.cli import catch_signals, run_cli

catch_signals(__name__)   # first: Ctrl-C from here on is one line (nnlab/cli.py)

from nnlab import arguments
from nnlab.recurrent import flags

thousands = arguments.whole(1, 100_000, '100 million examples')
restarts = arguments.whole(1, 1024, 'each run trains all the examples')


def build_parser():
    parser = arguments.CliParser(prog='seq_train.py', description=__doc__.split('\n')[0])
    flags.add_network_args(parser)
    group = parser.add_argument_group('training (unset: the language default)')
    group.add_argument('--optim', choices=('sgd', 'adam'), default=None, help='optimiser')
    group.add_argument('--lr', type=arguments.learning_rate, default=None,
                       help='learning rate, above 0')
    group.add_argument('--mom', type=arguments.momentum, default=None,
                       help='SGD momentum, 0 to below 1 (default 0, as the course)')
    group.add_argument('--weight_decay', type=arguments.nonnegative, default=None,
                       help='weight decay, added to the gradient as torch.optim does')
    group.add_argument('--init', type=arguments.positive, default=None,
                       help='std of the normal initial weights (SRN default 0.3; LSTM/GRU '
                            'use uniform +-1/sqrt(hid) unless given)')
    group.add_argument('--epoch', type=thousands, default=None,
                       help=f'thousands of training examples ({thousands.bounds})')
    group.add_argument('--restarts', type=restarts, default=1,
                       help=f'train this many independent runs at once (seeds '
                            f'seed..seed+K-1; {restarts.bounds})')
    flags.add_run_args(parser, None, 'default: a fresh one, printed')
    arguments.add_engine(group)
    group.add_argument('--plot_dir', default='plot',
                       help='folder for the training curve {lang}_{model}{hid}_loss.jpg '
                            '(default plot)')
    group.add_argument('--summary', default=None, metavar='PATH',
                       help='write the run record (JSON) to PATH (default: '
                            '{lang}_{model}{hid}_run.json in --out_path)')
    return parser


def parse_args(argv=None):
    return flags.resolve_defaults(arguments.parse(build_parser(), argv))


def main(argv=None):
    args = parse_args(argv)
    # The process that writes the checkpoints starts first, so that its torch import
    # overlaps everything else (nnlab/recurrent/writer.py); the training loads no torch.
    from nnlab.recurrent.writer import CheckpointWriter
    with CheckpointWriter() as writer:
        from nnlab.recurrent.run import Config, run
        return run(arguments.config_from(Config, args), writer)


if __name__ == '__main__':
    run_cli(main)
