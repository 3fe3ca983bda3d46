"""One interactive page to design, draw on and step through the networks: explore/index.html.

    python3 explore.py                  # from check.csv, plot/ and net/
    python3 explore.py --points my.csv  # Part 2 on other points

Part 1: draw a character for the KMNIST nets kuzu_main.py --save put in net/. Part 2: drag
the hidden units' dividing lines over the grid, type weights, train, load and
save the --weights JSON of check_main.py. Part 3: step a string through any checkpoint
seq_train.py left in net/ (or network the page saved there), and train one in the page.
The page is one file (scripts inlined, no network); it exposes window.explore for
scripting. docs/explore.md describes it.
"""
from nnlab.cli import UserError, catch_signals, run_cli

catch_signals(__name__)   # first: Ctrl-C from here on is one line (nnlab/cli.py)

from nnlab import arguments


def build_parser():
    parser = arguments.CliParser(prog='explore.py', description=__doc__.split('\n')[0])
    arguments.add_page_folders(parser, 'explore', 'index.html')
    parser.add_argument('--points', default=None, metavar='FILE',
                        help="Part 2's points: rows x,y,target (default check.csv)")
    parser.add_argument('--data', default=None, metavar='DIR',
                        help="Part 1's test images: the folder holding KMNIST/raw (default "
                             "as kuzu_main.py: $KUZU_DATA, else ./data)")
    return parser


def parse_args(argv=None):
    args = build_parser().parse_args(argv)
    if args.points is not None and not args.points:
        raise UserError('--points is empty; give a CSV file (rows x,y,target)')
    return args


def main(argv=None):
    args = parse_args(argv)
    import os

    from nnlab.explore import gather, page
    from nnlab.files import ensure_dir

    ensure_dir(args.out)
    data = gather.gather(args.plot_dir, args.net_dir, args.out, args.points, args.data)
    path = page.write(os.path.join(args.out, 'index.html'), data)
    runs = data['part3']['runs']
    checkpoints = sum(len(run['checkpoints']) for run in runs)
    print(f"wrote {path} ({os.path.getsize(path) / 1e6:.2f} MB; Part 1: "
          f"{len(data['part1']['nets'])} net(s); Part 2: "
          f"{len(data['part2']['points'])} points; Part 3: {checkpoints} checkpoint(s) of "
          f"{len(runs)} run(s))")
    for line in data['part1']['notes'] + data['part2']['notes'] + data['part3']['notes']:
        print(f"note: {line}")
    return 0


if __name__ == '__main__':
    run_cli(main)
