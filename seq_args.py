"""Argument groups shared by seq_train.py and seq_plot.py, and the registry defaults.

    parser = seq_args.make_parser(__doc__)
    seq_args.add_language_args(parser)   # --lang --embed --length
    seq_args.add_model_args(parser)      # --model --hid
    seq_args.add_common_args(parser)     # --seed --out_path
    args = seq_args.resolve_defaults(parser.parse_args(argv))
"""
import seq_lang
from common import CliParser, positive_int, str2bool


def make_parser(description):
    """A parser whose bad-flag errors are one line (common.CliParser)."""
    return CliParser(description=description)


def add_language_args(parser):
    group = parser.add_argument_group('language')
    group.add_argument('--lang', choices=seq_lang.LANGUAGES, default='anb2n',
                       help='the language (default %(default)s)')
    group.add_argument('--embed', type=str2bool, default=False,
                       help='reber: the embedded Reber grammar (True/False, default False)')
    group.add_argument('--length', type=positive_int, default=None,
                       help='counting languages: n in 1..length '
                            '(default 8 for anbn/anbncn, 4 for anb2n/anb2nc3n)')
    return group


def add_model_args(parser):
    group = parser.add_argument_group('model')
    group.add_argument('--model', choices=seq_lang.MODELS, default='srn',
                       help='the recurrent network (default %(default)s)')
    group.add_argument('--hid', type=positive_int, default=None,
                       help='hidden units (default: per language, see README)')
    return group


def add_common_args(parser):
    group = parser.add_argument_group('run')
    group.add_argument('--seed', type=int, default=0,
                       help='random seed (default 0): the same seed gives the same printed numbers')
    group.add_argument('--out_path', default='net', help='folder of the checkpoints (default %(default)s)')
    return group


# attributes that resolve_defaults fills from the registry when they are None
DEFAULTED = ('hid', 'epoch', 'optim', 'lr', 'weight_decay', 'mom')


def resolve_defaults(args):
    """Fill unset language-dependent flags from the registry; check the language flags."""
    spec = seq_lang.get_spec(args.lang)
    defaults = spec.defaults(args.model)
    for name in DEFAULTED:
        if getattr(args, name, 0) is None:
            setattr(args, name, defaults[name])
    spec.make(embed=args.embed, length=args.length)      # UserError on a bad combination
    return args
