"""Run a training script over many seeds and settings: how often does training work?

    python3 sweep.py --seeds 0-63 --grid hid=2,3,4 -- seq_train.py --lang anb2n
    python3 sweep.py --seeds 0-255 -- check_main.py --act sig --hid 5 --out sweeps/check5
    python3 sweep.py --report --out sweeps/seq_train      # the table and pictures again

Each task is one run of SCRIPT (kuzu_main.py, check_main.py or seq_train.py) as its own
process, with its outputs in its own folder under --out. DIR/results.csv gets one row per
setting and seed as tasks finish; at the end DIR/summary.md has a table per setting
(success share with a 95% interval, or kuzu's accuracy mean and sd) and DIR/success.png,
DIR/metric.png picture it. Ctrl-C keeps every finished row; --resume runs the rest.
See docs/sweeps.md.
"""
from nnlab.cli import UserError, catch_signals, run_cli

catch_signals(__name__)   # first: Ctrl-C from here on is one line (nnlab/cli.py)

import os
import sys

from nnlab import arguments
from nnlab.sweep import slurm_backend

jobs = arguments.whole(1, 1024, 'processes at once; more than the cores only adds waiting')
DEFAULT_SEEDS = '0-7'
block = arguments.whole(1, 64, 'seeds one process trains; the sweep stops a block as a whole')


def split_argv(argv):
    """(sweep flags, [SCRIPT, script flags...]): everything after the first `--`."""
    if '--' not in argv:
        return argv, []
    at = argv.index('--')
    return argv[:at], argv[at + 1:]


def build_parser():
    parser = arguments.CliParser(
        prog='sweep.py', usage='sweep.py [sweep flags] -- SCRIPT [script flags]',
        description=__doc__.split('\n')[0],
        epilog='SCRIPT: seq_train.py, check_main.py or kuzu_main.py, with its flags. '
               'Files, criteria, Ray clusters: docs/sweeps.md')
    parser.add_argument('--seeds', default=None,
                        help=f'seeds: a range A-B, a list 1,5,9, or both (default '
                             f'{DEFAULT_SEEDS}; with --resume and no script: the stored ones)')
    parser.add_argument('--grid', action='append', default=[], metavar='NAME=V1,V2,...',
                        help="values for one of the script's flags (NAME without dashes, "
                             "e.g. hid=2,3,4); repeat it for more flags: every combination "
                             "is a setting")
    parser.add_argument('--jobs', type=jobs, default=None,
                        help=f'task processes at once (default: every core here; with '
                             f'--backend ray: every CPU of the cluster; {jobs.bounds})')
    parser.add_argument('--block', type=block, default=None,
                        help=f'seeds per process where the script has --restarts (default: '
                             f'up to 8, fewer so that every worker has a task; {block.bounds})')
    parser.add_argument('--out', default=None, metavar='DIR',
                        help='the sweep folder (default: sweeps/SCRIPT_NAME)')
    parser.add_argument('--backend', choices=('local', 'ray', 'slurm'), default='local',
                        help='local: processes on this machine; ray: Ray tasks on the '
                             'cluster at --address (pip install -r requirements-ray.txt); '
                             'slurm: job arrays on a SLURM cluster (pip install -r '
                             'requirements-slurm.txt; flags below)')
    parser.add_argument('--address', default=None,
                        help="the Ray cluster (default: $RAY_ADDRESS, else a running local "
                             "Ray, else a new one; 'local' always starts a new one)")
    parser.add_argument('--resume', action='store_true',
                        help='continue the sweep in --out: run the rows not yet done (and '
                             'those that failed); more seeds or grid values extend it')
    parser.add_argument('--report', action='store_true',
                        help='only summarise the sweep in --out (table and pictures)')
    slurm_backend.add_flags(parser)
    return parser


def parse_args(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    own, script = split_argv(argv)
    args = build_parser().parse_args(own)
    args.script, args.script_args = (script[0], script[1:]) if script else (None, [])
    args.help_of = None

    if args.report:
        if args.out is None or script:
            raise UserError("--report summarises an existing sweep: give only --out DIR, "
                            "e.g. sweep.py --report --out sweeps/seq_train")
        return args
    if args.address is not None and args.backend != 'ray':
        raise UserError("--address is for --backend ray; add --backend ray or drop --address")
    if not script:
        if args.resume and args.out:
            return args                  # continue the sweep stored in --out
        raise UserError("name the script after --, e.g. sweep.py --seeds 0-15 -- "
                        "seq_train.py --lang anb2n (or --resume/--report with --out DIR)")
    if {'-h', '--help'} & set(args.script_args):
        args.help_of = args.script          # the script's own help, as it would print it
        return args
    if args.out is None:
        args.out = os.path.join('sweeps', os.path.basename(args.script).removesuffix('.py'))
    return args


def main(argv=None):
    args = parse_args(argv)
    from nnlab.sweep import plan, runner
    if args.help_of:
        plan.find_kind(args.help_of).build_parser().print_help()
        return 0
    folder = os.path.abspath(args.out)
    if args.report:
        return runner.summarise_only(folder)
    if args.script:
        kind = plan.find_kind(args.script)
        sweep = plan.Sweep(kind.name, args.script_args, plan.parse_grid(args.grid),
                           plan.parse_seeds(DEFAULT_SEEDS if args.seeds is None
                                            else args.seeds))
    else:   # --resume --out DIR: the stored sweep, with more seeds or values if given
        sweep = runner.read_definition(folder)
        if sweep is None:
            raise UserError(f"--out {args.out} holds no sweep to resume; give the script and "
                            f"its flags after --")
        if args.grid:
            sweep.grid = plan.parse_grid(args.grid)
        if args.seeds is not None:
            sweep.seeds = plan.parse_seeds(args.seeds)
    backend = slurm_backend.options_from(args)      # the name, or --backend slurm's options
    return runner.run_sweep(sweep, folder, backend, args.jobs, args.address, args.block,
                            args.resume)


if __name__ == '__main__':
    run_cli(main)
