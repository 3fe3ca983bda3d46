"""One page of every result of the three parts: report/index.html and report/report.md.

    python3 report.py                 # the page, from what the runs left in plot/ and net/
    python3 report.py --run           # run the assignment's commands first (minutes)
    python3 report.py --run --quick   # shortened commands (about two minutes), marked so

The page is self-contained (pictures embedded, no network), organised by the
assignment's parts and questions; each result names the command that made it, and a
question without results says which command to run. report.md holds the same content
with the pictures linked (../plot/...). docs/report.md describes both.
"""
from nnlab.cli import UserError, catch_signals, run_cli

catch_signals(__name__)   # first: Ctrl-C from here on is one line (nnlab/cli.py)

from nnlab import arguments


def build_parser():
    parser = arguments.CliParser(prog='report.py', description=__doc__.split('\n')[0])
    arguments.add_page_folders(parser, 'report', 'index.html and report.md')
    parser.add_argument('--sweeps', nargs='*', default=None, metavar='DIR',
                        help='sweep.py --out folders to include (default: those under '
                             'sweeps/; --sweeps with no folder: none)')
    group = parser.add_argument_group('running the commands first')
    group.add_argument('--run', action='store_true',
                       help="run the assignment's commands, then build the page")
    group.add_argument('--quick', action='store_true',
                       help='with --run: shortened commands (fewer epochs and examples); '
                            'the page marks their results as shortened')
    group.add_argument('--part', type=int, nargs='+', choices=(1, 2, 3), default=None,
                       help='with --run: only the commands of these parts (default all)')
    group.add_argument('--extra', action='store_true',
                       help='with --run: also the other languages (anbn, anbncn, reber)')
    group.add_argument('--data', default=None, metavar='DIR',
                       help='with --run: passed to kuzu_main.py (the folder holding '
                            'KMNIST/raw; default its own: $KUZU_DATA, else ./data)')
    return parser


def parse_args(argv=None):
    args = build_parser().parse_args(argv)
    if not args.run:
        used = [flag for flag, value in (('--quick', args.quick), ('--part', args.part),
                                         ('--extra', args.extra), ('--data', args.data))
                if value]
        if used:
            raise UserError(f"{', '.join(used)} choose(s) what --run runs; add --run")
    return args


def main(argv=None):
    args = parse_args(argv)
    import os

    from nnlab.files import ensure_dir
    from nnlab.page.build import build_page
    from nnlab.page.commands import steps
    from nnlab.page.doc import Figure
    from nnlab.page.runner import Runner

    ensure_dir(args.out)            # fail now, not after minutes of training
    unfinished = 0
    if args.run:
        chosen = [s for s in steps(args.plot_dir, args.net_dir, args.data, args.extra)
                  if args.part is None or s.part in args.part]
        unfinished = Runner(chosen, args.out, args.quick).run()
    page, text, blocks = build_page(args.plot_dir, args.net_dir, args.out, args.sweeps)
    pictures = sum(1 for b in blocks if isinstance(b, Figure))
    size = os.path.getsize(page) / 1e6
    print(f'wrote {page} ({size:.1f} MB, {pictures} pictures) and {text}')
    if unfinished:
        print(f'{unfinished} command(s) did not finish: the page says which and why')
        return 1
    return 0


if __name__ == '__main__':
    run_cli(main)
