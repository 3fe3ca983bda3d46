"""What the sweep knows about each training script it can run.

A sweep runs one of three scripts. Each differs in where it writes its outputs, whether it
can train a block of seeds in one process (`--restarts`), where its run record keeps the
per-seed results, what counts as success, and which number summarises a run. That
knowledge lives here, once per script, so the rest of the sweep is script-agnostic.

Only the standard library is imported: the sweep checks its flags before anything heavy.
"""
import importlib
import os
from dataclasses import dataclass, field

from nnlab import ROOT
from nnlab.cli import UserError


@dataclass(frozen=True)
class Metric:
    """The number whose distribution metric.png shows, one value per run."""
    column: str
    label: str
    log_scale: bool = False


@dataclass(frozen=True)
class ScriptKind:
    name: str                        # the file name, e.g. 'seq_train.py'
    output_flags: tuple              # the flags that put the script's outputs in a folder
    columns: tuple                   # results.csv columns this script fills, per seed
    metric: Metric
    has_criterion: bool              # True: a 'success' column the table counts
    # Flags the sweep sets itself for every task, or refuses, with the reason.
    refused: dict = field(default_factory=dict)

    @property
    def module(self):
        """The script as a module (its parse_args is the authority on its flags)."""
        return importlib.import_module(self.name[:-3])

    @property
    def path(self):
        return os.path.join(ROOT, self.name)

    def can_block(self, args):
        """True if one process may train seeds S..S+K-1 with --restarts K (the parsed
        flags of a setting decide: check_main.py only trains random starts in blocks)."""
        if self.name == 'seq_train.py':
            return True
        if self.name == 'check_main.py':
            return args.act == 'sig' and not args.set_weights and args.weights is None
        return False

    def rows(self, record):
        """{seed: {column: value}} from a finished run record (see nnlab/records.py)."""
        results = record.get('results') or {}
        if self.name == 'seq_train.py':
            return {run['seed']: {
                'success': bool(run['success']),
                'mean_last_checks': run['mean_last_checks'],
                'last_check': run['checks'][-1] if run['checks'] else None,
                'threshold': results.get('threshold'),
            } for run in results.get('runs', [])}
        if self.name == 'check_main.py' and 'restarts' not in results:
            # --act step (nothing trains): the hand-designed network's accuracy is the result
            return {seed: {'success': results['final_accuracy'] == 100.0,
                           'final_accuracy': results['final_accuracy']}
                    for seed in record.get('seeds', [])}
        if self.name == 'check_main.py':
            return {run['seed']: {
                'success': bool(run['reached_100']),
                'reached_at': run['perfect_since'],
                'final_loss': run['final_loss'],
                'final_accuracy': run['final_accuracy'],
                'stopped': run['stopped'],
            } for run in results.get('restarts', [])}
        last = (results.get('epochs') or [{}])[-1]
        return {seed: {
            'accuracy': results.get('accuracy'),
            'test_loss': last.get('test_loss'),
            'correct': results.get('correct'),
        } for seed in record.get('seeds', [])}


# Flags every script has and the sweep always sets: a seed (or block of seeds) per task,
# and the run record and outputs inside the task's own folder.
MANAGED = {
    'seed': 'give the seeds with --seeds (before the --)',
    'restarts': 'the sweep trains blocks of seeds itself (see --block)',
    'summary': "each task's run record goes into its own folder under --out",
}
_NO_SHOW = {'show': 'a sweep opens no windows'}

KINDS = {kind.name: kind for kind in (
    ScriptKind(
        'seq_train.py', ('--out_path', '--plot_dir'),
        columns=('success', 'mean_last_checks', 'last_check', 'threshold'),
        metric=Metric('mean_last_checks', 'mean of the last checks (loss or error)',
                      log_scale=True),
        has_criterion=True,
        refused={'out_path': "each task's checkpoints go into its own folder under --out",
                 'plot_dir': "each task's pictures go into its own folder under --out"}),
    ScriptKind(
        'check_main.py', ('--plot_dir',),
        columns=('success', 'reached_at', 'final_loss', 'final_accuracy', 'stopped'),
        metric=Metric('final_loss', 'final loss (binary cross-entropy)', log_scale=True),
        has_criterion=True,
        refused={'plot_dir': "each task's pictures go into its own folder under --out",
                 'first': 'it stops the other seeds of a block early, so a seed\'s result '
                          'would depend on its block; the sweep trains every seed to the end',
                 **_NO_SHOW}),
    ScriptKind(
        'kuzu_main.py', ('--plot_dir',),
        columns=('accuracy', 'test_loss', 'correct'),
        metric=Metric('accuracy', 'final test accuracy (%)'),
        has_criterion=False,
        refused={'plot_dir': "each task's pictures go into its own folder under --out",
                 'save': 'every task would write the same file'}),
)}


def find_kind(script):
    """The ScriptKind of SCRIPT as a user typed it (`seq_train.py`, `./seq_train.py`,
    a path to the repository's copy, or `seq_train`)."""
    name = os.path.basename(script)
    if not name.endswith('.py'):
        name += '.py'
    kind = KINDS.get(name)
    if kind is None:
        raise UserError(f"sweep.py runs {', '.join(KINDS)}, not {script!r}; name one of "
                        f"them after the --")
    if os.path.dirname(script) and os.path.realpath(script) != os.path.realpath(kind.path):
        raise UserError(f"{script!r} is not this repository's {name} ({kind.path}); the "
                        f"sweep runs the scripts of the checkout it belongs to")
    return kind
