"""The assignment's commands, as `report.py --run` runs them (docs/report.md lists them).

Decisions, and why:
- Defaults are the toolkit's (which are the course's). Where the course says training may
  stick and to run it again, the command trains several runs at once (`--restarts`) and
  keeps the best; no `--seed`, so each `--run` is a fresh try, and the page shows the
  seeds and how to repeat them.
- `check_main.py --act sig --hid 5` gets `--restarts 8 --first`: the course asks for one
  network at 100%, and `--first` stops when one restart has finished instead of waiting
  for stuck ones to use up all 200000 epochs (8 s against 65-160 s here; the kept network
  is still exactly the single run with its seed).
- The three Part 2 runs each get their own picture folder (plot/check_sig5,
  plot/check_step4, plot/check_sig4): in one folder the two 4-unit runs write the same
  hid_4_*.jpg and out_4.jpg, and every run writes check.jpg, so the later would replace
  the earlier's pictures.
- Part 3 is the course's two tasks (anb2n with an SRN, anb2nc3n with an LSTM), each
  trained then looked at with `seq_plot.py --fsm --explain`; `--extra` adds the other
  languages of the toolkit (anbn, anbncn, reber).
- The three KMNIST nets are saved (`--save {net_dir}/kuzu_{net}.pth`): explore.py's Part 1
  panel classifies drawings with them.
- `--quick` runs each command shortened (fewer epochs/examples, fewer restarts) so the
  whole list takes about two minutes; the page marks those results as shortened. Its
  training commands take `--seed 0`, so a quick page is the same every time (and its
  trained perceptron finishes well within the shortened --epoch).
"""
import os
import shlex
from dataclasses import dataclass

from nnlab.formats import kuzu_net


@dataclass(frozen=True)
class Step:
    key: str                # the question it answers (the part builders look it up)
    part: int
    script: str
    args: tuple             # the flags as the course gives them
    quick: tuple | None     # the shortened flags for --quick (None: the same)
    where: tuple = ()       # output-folder flags report.py adds
    needs: str = ''         # the key of the step whose files this one reads

    def argv(self, quick=False):
        chosen = self.quick if quick and self.quick is not None else self.args
        return [*chosen, *self.where]

    def command(self, quick=False):
        return shlex.join(['python3', self.script, *self.argv(quick)])


def seq_key(lang, model, hid, plot=False):
    """The key of a Part 3 step: 'seq_anb2n_srn2' (training) or 'seq_anb2n_srn2_plot'."""
    return f"seq_{lang}_{model}{hid}{'_plot' if plot else ''}"


KUZU = ('lin', 'full', 'conv')
KUZU_QUICK = ('--epochs', '1', '--train_count', '2000')

CHECK = (  # (key, flags); the key also names the run's picture folder
    ('check_sig5', ('--act', 'sig', '--hid', '5', '--restarts', '8', '--first')),
    ('check_step4', ('--act', 'step', '--hid', '4', '--set_weights')),
    ('check_sig4', ('--act', 'sig', '--hid', '4', '--set_weights')),
)
CHECK_QUICK = {'check_sig5': ('--act', 'sig', '--hid', '5', '--restarts', '8', '--first',
                              '--epoch', '20000', '--seed', '0')}

# (lang, model, hid, restarts, quick restarts, seq_plot flags beyond --fsm)
SEQ = (
    ('anb2n', 'srn', 2, 8, 2, ('--explain',)),
    ('anb2nc3n', 'lstm', 3, 4, 2, ('--context', '--explain')),
)
SEQ_EXTRA = (
    ('anbn', 'srn', 2, 4, 2, ('--explain',)),
    ('anbncn', 'srn', 3, 4, 2, ('--explain',)),
    ('reber', 'srn', 2, 4, 2, ()),
)
SEQ_QUICK_EPOCH = '10'          # thousands of examples
SEQ_QUICK_EXAMPLES = '60'       # --fsm/--explain examples (default 300)


def _seq_steps(row, plot_dir, net_dir):
    from nnlab.recurrent.languages import get_spec  # standard library only
    lang, model, hid, restarts, quick_restarts, extra = row
    epoch = str(get_spec(lang).defaults(model)['epoch'])
    which = ['--lang', lang]
    if model != 'srn':
        which += ['--model', model, '--hid', str(hid)]
    train = Step(seq_key(lang, model, hid), 3, 'seq_train.py',
                 (*which, '--restarts', str(restarts)),
                 (*which, '--restarts', str(quick_restarts), '--epoch', SEQ_QUICK_EPOCH,
                  '--seed', '0'),
                 ('--out_path', net_dir))
    look = ('--fsm', *extra)
    plot = Step(seq_key(lang, model, hid, plot=True), 3, 'seq_plot.py',
                (*which, '--epoch', epoch, *look),
                (*which, '--epoch', SEQ_QUICK_EPOCH, *look, '--examples', SEQ_QUICK_EXAMPLES),
                ('--out_path', net_dir, '--plot_dir', plot_dir), needs=train.key)
    return [train, plot]


def steps(plot_dir='plot', net_dir='net', data=None, extra=False):
    """Every step of `report.py --run`, in the assignment's order."""
    data_flags = ('--data', data) if data else ()
    # Each net is saved too, so explore.py's Part 1 panel has something to classify with.
    found = [Step(f'kuzu_{net}', 1, 'kuzu_main.py', ('--net', net), ('--net', net, *KUZU_QUICK),
                  ('--plot_dir', plot_dir, *data_flags,
                   '--save', kuzu_net.saved_path(net_dir, net)))
             for net in KUZU]
    found += [Step(key, 2, 'check_main.py', flags, CHECK_QUICK.get(key),
                   ('--plot_dir', os.path.join(plot_dir, key))) for key, flags in CHECK]
    for row in SEQ + (SEQ_EXTRA if extra else ()):
        found += _seq_steps(row, plot_dir, net_dir)
    return found


def course_command(key):
    """The command of a question as a student types it (no output folders)."""
    return {step.key: shlex.join(['python3', step.script, *step.args])
            for step in steps(extra=True)}[key]
