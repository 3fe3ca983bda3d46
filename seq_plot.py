"""Look inside a trained recurrent network (a checkpoint of seq_train.py).

Prints the parameters and the outputs of --num_plot fresh examples, then saves scatters
of the hidden states coloured by the language's state: plot/{lang}_{model}{hid}_{j}{k}.jpg
for every pair of hidden units, and for 3+ units 3-D views and a rotating GIF.
--context adds the LSTM's cell states, --fsm extracts the state machine the network
implements, --explain names the units that count, --generalise checks how far beyond the
training lengths it still predicts right.

    python3 seq_plot.py --lang anb2n --epoch 100
    python3 seq_plot.py --lang anb2nc3n --model lstm --epoch 100 --context --fsm --explain
    python3 seq_plot.py --lang anb2n --generalise              # n = 1..100
"""
from nnlab.cli import UserError, catch_signals, run_cli

catch_signals(__name__)   # first: Ctrl-C from here on is one line (nnlab/cli.py)

from nnlab import arguments
from nnlab.recurrent import flags, languages

num_plot = arguments.whole(1, 1000, 'each example is printed in full')
states = arguments.whole(1, 10_000, 'k-means time grows with the number of states')
examples = arguments.whole(1, 100_000, 'the clustering keeps every position in memory')
run_index = arguments.whole(0, 1023, 'seq_train.py --restarts trains at most 1024 runs')
# nnlab/recurrent/generalise.py's MAX_N (that module loads numpy; this file must not).
checked_n = arguments.whole(1, 1000, 'the longest string has (1+k1+k2)N+1 symbols and the '
                                     'work grows as N squared')


def build_parser():
    parser = arguments.CliParser(prog='seq_plot.py', description=__doc__.split('\n\n')[0])
    flags.add_network_args(parser)
    flags.add_run_args(parser, 0, 'default 0')
    group = parser.add_argument_group('pictures and analysis')
    group.add_argument('--epoch', type=flags.thousands_of_examples, default=None,
                       help="which checkpoint, in thousands of training examples "
                            "(default: the language's full training, e.g. 100 for anb2n)")
    group.add_argument('--run', type=run_index, default=None,
                       help='which run of seq_train.py --restarts (the _r{i} files)')
    group.add_argument('--num_plot', type=num_plot, default=10,
                       help=f'fresh examples printed and plotted (default 10; {num_plot.bounds})')
    group.add_argument('--plot_dir', default='plot', help='folder for the pictures (default plot)')
    group.add_argument('--show', action='store_true', help='also open the figures')
    group.add_argument('--context', action='store_true',
                       help='LSTM: print and plot the cell (context) states too')
    group.add_argument('--fsm', action='store_true',
                       help='extract the finite state machine in the hidden states')
    group.add_argument('--states', type=states, default=None,
                       help=f'--fsm: use this many states (default: chosen from the data; '
                            f'{states.bounds})')
    group.add_argument('--explain', action='store_true',
                       help='fit each unit to the counts that solve the task')
    group.add_argument('--examples', type=examples, default=300,
                       help=f'fresh examples for --fsm and --explain (default 300; and a '
                            f'third as many more, held out, to check the machine; '
                            f'{examples.bounds})')
    group.add_argument('--generalise', type=checked_n, nargs='?', const=100, default=None,
                       metavar='N',
                       help=f'counting languages: the strings n = 1..N (default 100; '
                            f'{checked_n.bounds}) beyond the training lengths: up to which '
                            f'n the network predicts every determined symbol right')
    group.add_argument('--weights', default=None, metavar='FILE',
                       help="a network the explore page saved (its Save button) instead of a "
                            "checkpoint: the file decides --lang, --embed, --length, --model "
                            "and --hid; pictures are named after it")
    return parser


def parse_args(argv=None):
    args = arguments.parse(build_parser(), argv)
    if args.weights is not None:
        page_network_flags(args, argv)
    args = flags.resolve_defaults(args)
    if args.context and args.model != 'lstm':
        raise UserError(f"--context shows the LSTM's cell states; the {args.model} has "
                        f"none (use --model lstm or leave out --context)")
    if args.states is not None and not args.fsm:
        raise UserError("--states fixes the number of states of --fsm; add --fsm")
    if args.explain and languages.get_spec(args.lang).is_reber:
        raise UserError("--explain fits the counters of the counting languages (anbn, "
                        "anbncn, anb2n, anb2nc3n); for reber use --fsm")
    if args.generalise is not None and languages.get_spec(args.lang).is_reber:
        raise UserError("--generalise counts n in the counting languages (anbn, anbncn, "
                        "anb2n, anb2nc3n); reber has no n to grow")
    return args


def page_network_flags(args, argv):
    """--weights FILE: the network's flags from the file; flags given that disagree with
    it are one error line."""
    from nnlab.recurrent import page_network
    explicit = build_parser()
    explicit.set_defaults(**{name: None for name in page_network.FLAGS + ('epoch', 'run')})
    given = explicit.parse_args(argv)
    if given.epoch is not None or given.run is not None:
        raise UserError("--weights names one network; leave out --epoch and --run")
    doc = page_network.read(args.weights)
    page_network.check_flags(args.weights, doc, {k: getattr(given, k) for k in page_network.FLAGS})
    for name in page_network.FLAGS:
        setattr(args, name, getattr(doc.network, name))
    args.epoch = doc.training.examples / 1000


def main(argv=None):
    args = parse_args(argv)
    from nnlab.recurrent.analysis import PlotConfig, run  # torch loads here
    return run(arguments.config_from(PlotConfig, args))


if __name__ == '__main__':
    run_cli(main)
