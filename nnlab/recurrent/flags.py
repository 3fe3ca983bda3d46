"""The flags seq_train.py and seq_plot.py share, and the registry defaults they fill in.

    parser = arguments.CliParser(description=...)
    flags.add_network_args(parser)    # --lang --embed --length --model --hid
    flags.add_run_args(parser, ...)   # --seed --out_path
    args = flags.resolve_defaults(parser.parse_args(argv))

Standard library only (see languages.py), so bad flags fail before torch loads.
"""
import argparse

from nnlab import arguments
from nnlab.recurrent import languages

hidden_units = arguments.whole(1, languages.MAX_HID, 'a time step costs about 4*hid*hid operations')
string_length = arguments.whole(1, languages.MAX_LENGTH,
                            'longer strings make examples of thousands of steps')


MAX_THOUSANDS = 100_000


def thousands_of_examples(text):
    """A checkpoint's --epoch: thousands of examples, '100' or '23.456' (a checkpoint
    written on Ctrl-C between thousands); above 0 and at most 100,000."""
    value = arguments.number(0.0, MAX_THOUSANDS, low_open=True,
                         what=f'thousands of examples, above 0 and at most {MAX_THOUSANDS:,}')(text)
    if abs(round(value * 1000) - value * 1000) > 1e-6:
        raise argparse.ArgumentTypeError(f"a checkpoint is a whole number of examples: at "
                                         f"most 3 decimals, got {text!r}")
    return value


def add_network_args(parser):
    """--lang --embed --length (the language) and --model --hid (the network)."""
    group = parser.add_argument_group('language and network')
    group.add_argument('--lang', choices=languages.LANGUAGES, default='anb2n',
                       help='the language (default %(default)s)')
    group.add_argument('--embed', type=arguments.str2bool, default=False,
                       help='reber: the embedded Reber grammar (True/False, default False)')
    group.add_argument('--length', type=string_length, default=None,
                       help=f'counting languages: n in 1..length (default 8 for '
                            f'anbn/anbncn, 4 for anb2n/anb2nc3n; {string_length.bounds})')
    group.add_argument('--model', choices=languages.MODELS, default='srn',
                       help='the recurrent network (default %(default)s)')
    group.add_argument('--hid', type=hidden_units, default=None,
                       help=f'hidden units (default: per language, see docs/part3.md; '
                            f'{hidden_units.bounds})')
    return group


def add_run_args(parser, seed_default, seed_text):
    group = parser.add_argument_group('run')
    group.add_argument('--seed', type=arguments.seed, default=seed_default,
                       help=arguments.seed_help(seed_text))
    group.add_argument('--out_path', default='net',
                       help='folder of the checkpoints (default %(default)s)')
    return group


# attributes that resolve_defaults fills from the registry when they are None
DEFAULTED = ('hid', 'epoch', 'optim', 'lr', 'weight_decay', 'mom')


def resolve_defaults(args):
    """Fill unset language-dependent flags from the registry; check the language flags."""
    spec = languages.get_spec(args.lang)
    defaults = spec.defaults(args.model)
    for name in DEFAULTED:
        if getattr(args, name, 0) is None:
            setattr(args, name, defaults[name])
    spec.check_options(embed=args.embed, length=args.length)
    return args
