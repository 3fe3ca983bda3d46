"""What the sweep knows about each training script it can run, one object per script.

A script's object owns everything that differs between them: its flags (the script's own
`build_parser()` and `parse_args()`), where it writes its outputs, whether it can train a
block of seeds in one process (`--restarts`), the rows its run record gives, what counts
as success, and the columns and figures of the summary. The rest of the sweep asks these
objects and never branches on a script's name.

Only the standard library is imported: the sweep checks its flags before anything heavy.
"""
import collections
import importlib
import os
import statistics

from nnlab import ROOT
from nnlab.cli import UserError
from nnlab.formats.check_run import CheckRun
from nnlab.formats.kuzu_run import KuzuRun
from nnlab.formats.seq_run import SeqRun

# Flags every script has and the sweep always sets: a seed (or block of seeds) per task,
# and the run record and outputs inside the task's own folder.
MANAGED = {
    'seed': 'give the seeds with --seeds (before the --)',
    'restarts': 'the sweep trains blocks of seeds itself (see --block)',
    'summary': "each task's run record goes into its own folder under --out",
}
OWN_FOLDER = "each task's {what} go into its own folder under --out"


def numbers(rows, column):
    """The finite numbers of `column` in results.csv rows (ResultRow)."""
    return [value for row in rows if (value := row.number(column)) is not None]


def median(values):
    return statistics.median(values) if values else None


# The number whose distribution metric.png shows, one value per run.
Metric = collections.namedtuple('Metric', 'column label log_scale', defaults=(False,))


class ScriptKind:
    """The sweep's view of one script. Subclasses fill in the class attributes and the
    methods that differ."""
    record = None                    # the run record's format (nnlab/formats)
    output_flags = ()                # the flags that put the script's outputs in a folder
    columns = ()                     # (name, type): results.csv columns it fills, per seed
    metric = None
    has_criterion = True             # a 'success' column the table counts
    criterion = ''                   # how success is judged, for summary.md
    refused = {}                     # flags the sweep refuses, with the reason

    @property
    def name(self):
        return self.record.SCRIPT

    @property
    def module(self):
        return importlib.import_module(self.name[:-3])

    @property
    def path(self):
        return os.path.join(ROOT, self.name)

    def build_parser(self):
        return self.module.build_parser()

    def parse_args(self, argv):
        """The script's own parse (its cross-flag checks included)."""
        return self.module.parse_args(argv)

    def why_refused(self, dest):
        return MANAGED.get(dest) or self.refused.get(dest) or \
            ('run the script with --help yourself' if dest == 'help' else None)

    def can_block(self, args):
        """True if one process may train seeds S..S+K-1 with --restarts K (`args`: the
        parsed flags of a setting)."""
        return False

    def rows(self, record):
        """{seed: {column: value}} from a finished run record of `self.record`."""
        raise NotImplementedError

    # --- the summary ---------------------------------------------------------------------
    def head(self):
        """The summary table's columns after 'setting' and before 'median s', 'failed'."""
        return ['runs', 'successes', 'share', '95% interval', self.typical_label,
                *self.more_head]

    typical_label = ''
    more_head = ()                   # columns after the typical figure (stats.summarise)

    def typical(self, rows):
        """The per-setting figure of the last column (rows: the finished ones)."""
        return median(numbers(rows, self.metric.column))


class SeqTrain(ScriptKind):
    record = SeqRun
    output_flags = ('--out_path', '--plot_dir')
    columns = (('success', bool), ('mean_last_checks', float), ('last_check', float),
               ('threshold', float), ('largest_n_right', int), ('trained_n', int))
    metric = Metric('mean_last_checks', 'mean of the last checks (loss or error)',
                    log_scale=True)
    criterion = ("seq_train.py's verdict for each run (its run record's `success`): the "
                 "language's criterion on the last checks, e.g. anb2n's loss below 0.05 "
                 "in each of the last 10 checks")
    refused = {'out_path': OWN_FOLDER.format(what='checkpoints'),
               'plot_dir': OWN_FOLDER.format(what='pictures')}
    typical_label = 'median mean of last checks'
    more_head = ('right beyond training', '95% interval', 'median e1 (met)')

    def can_block(self, args):
        return True

    def rows(self, record):
        results = record.results
        return {run.seed: {'success': run.success, 'mean_last_checks': run.mean_last_checks,
                           'last_check': run.checks[-1] if run.checks else None,
                           'threshold': results.threshold,
                           'largest_n_right': run.largest_n_right,
                           'trained_n': results.trained_n}
                for run in results.runs}

    def beyond(self, rows):
        """(runs right on every n past the training range, runs measured) and the median
        e1 = largest_n_right + 1 of the runs that met the criterion (counting languages)."""
        measured = [r for r in rows if r.number('largest_n_right') is not None
                    and r.number('trained_n') is not None]
        right = sum(r.number('largest_n_right') > r.number('trained_n') for r in measured)
        met = [r for r in measured if r.success]
        return right, len(measured), median([v + 1 for v in numbers(met, 'largest_n_right')])


class CheckMain(ScriptKind):
    record = CheckRun
    output_flags = ('--plot_dir',)
    columns = (('success', bool), ('reached_at', int), ('final_loss', float),
               ('final_accuracy', float), ('stopped', int))
    metric = Metric('final_loss', 'final loss (binary cross-entropy)', log_scale=True)
    criterion = ("the network ends at 100% accuracy on the 9 points of check.csv "
                 "(`reached_100` in the run record)")
    refused = {'plot_dir': OWN_FOLDER.format(what='pictures'),
               'first': "it stops the other seeds of a block early, so a seed's result would "
                        "depend on its block; the sweep trains every seed to the end",
               'show': 'a sweep opens no windows'}
    typical_label = 'median epoch at 100%'

    def can_block(self, args):
        """Only random starts train in blocks (--restarts refuses the others)."""
        return args.act == 'sig' and not args.set_weights and args.weights is None

    def rows(self, record):
        results = record.results
        if not results.restarts:    # nothing trained: the network's accuracy is the result
            return {seed: {'success': results.final_accuracy == 100.0,
                           'final_accuracy': results.final_accuracy}
                    for seed in record.seeds}
        return {run.seed: {'success': run.reached_100, 'reached_at': run.perfect_since,
                           'final_loss': run.final_loss, 'final_accuracy': run.final_accuracy,
                           'stopped': run.stopped}
                for run in results.restarts}

    def typical(self, rows):
        return median(numbers([r for r in rows if r.success], 'reached_at'))


class KuzuMain(ScriptKind):
    record = KuzuRun
    output_flags = ('--plot_dir',)
    columns = (('accuracy', float), ('test_loss', float), ('correct', int))
    metric = Metric('accuracy', 'final test accuracy (%)')
    has_criterion = False
    criterion = "no success criterion: the table gives the final test accuracy"
    refused = {'plot_dir': OWN_FOLDER.format(what='pictures'),
               'save': 'every task would write the same file'}

    def rows(self, record):
        results = record.results
        last = results.epochs[-1] if results.epochs else None
        return {seed: {'accuracy': results.accuracy,
                       'test_loss': last.test_loss if last else None,
                       'correct': results.correct}
                for seed in record.seeds}

    def head(self):
        return ['runs', 'accuracy mean (%)', 'sd', 'min', 'max']


KINDS = {kind.name: kind for kind in (SeqTrain(), CheckMain(), KuzuMain())}


def find_kind(script):
    """The ScriptKind of SCRIPT as a user typed it (`seq_train.py`, `./seq_train.py`,
    a path to the repository's copy, or `seq_train`)."""
    name = os.path.basename(script).removesuffix('.py') + '.py'
    kind = KINDS.get(name)
    if kind is None:
        raise UserError(f"sweep.py runs {', '.join(KINDS)}, not {script!r}; name one of "
                        f"them after the --")
    if os.path.dirname(script) and os.path.realpath(script) != os.path.realpath(kind.path):
        raise UserError(f"{script!r} is not this repository's {name} ({kind.path}); the "
                        f"sweep runs the scripts of the checkout it belongs to")
    return kind
