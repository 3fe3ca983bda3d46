"""How far a network counts (nnlab/recurrent/generalise.py, seq_plot.py --generalise):
hand-built networks whose generalisation is known exactly, the determined positions of
each language written out by hand, the float64 forward against the torch models, and the
printed line."""
import json
import re

import numpy as np
import pytest
import torch
from conftest import assert_one_line_error, run_script
from seq_handnet import bounded_counter, exact_counter_lstm

import seq_models
import seq_plot
from nnlab.formats import schema
from nnlab.formats.seq_analysis import Analysis, Generalisation
from nnlab.formats.seq_checkpoint import CheckpointMeta
from nnlab.formats.seq_run import SeqRun
from nnlab.recurrent import checkpoint
from nnlab.recurrent import generalise as G
from nnlab.recurrent import generalise_text as T
from nnlab.recurrent.languages import SPECS, Network
from nnlab.recurrent.parameters import Layout

COUNTING = {name: spec.multiples for name, spec in SPECS.items() if not spec.is_reber}
LINE = re.compile(r'^generalisation: (right for no n|right for every n up to (\d+))'
                  r'(; first errors at n = (\d+(, \d+)*))? '
                  r'\(checked n = 1\.\.(\d+), trained on n = 1\.\.(\d+)\)$', re.M)


def theta_of(model):
    layout = Layout(model.kind, model.num_input, model.num_hid)
    return layout, layout.from_model(model)


# ------------------------------------------------------------ known generalisation

@pytest.mark.parametrize('lang', sorted(COUNTING))
@pytest.mark.parametrize('K', [1, 3, 5])
def test_a_machine_that_knows_n_up_to_K_is_right_exactly_up_to_K(lang, K):
    multiples = COUNTING[lang]
    model, _ = bounded_counter(multiples, K)
    found = G.of_model(model, multiples, trained=4, count=K + 12)
    assert found.largest_n_right == K
    assert found.right == [True] * K + [False] * 12
    assert found.first_errors == list(range(K + 1, K + 6))
    # n = K+1 follows string K's path and predicts its end after k1*K B's: the symbol
    # after n A's and k1*K B's is a B, and the machine is sure it is not
    k1 = multiples[0]
    assert found.first_wrong[K] == (K + 1) + k1 * K + 1
    assert found.p_first_wrong[K] < 1e-3
    assert found.first_wrong[:K] == [None] * K and found.p_first_wrong[:K] == [None] * K
    assert min(found.weakest[:K]) > 0.999


def test_an_lstm_whose_cell_counts_is_right_for_every_n():
    found = G.of_model(exact_counter_lstm(), COUNTING['anbn'], trained=8, count=300)
    assert found.largest_n_right == 300 and found.first_errors == []
    assert T.line(found) == ('generalisation: right for every n up to 300 '
                             '(checked n = 1..300, trained on n = 1..8)')


# ------------------------------------------------------------ the rule, by hand

# language: (n, the string, ^ under each determined position)
BY_HAND = {
    'anbn': (3, 'AAABBBA', '    ^^^'),
    'anb2n': (2, 'AABBBBA', '   ^^^^'),
    'anbncn': (2, 'AABBCCA', '   ^^^^'),
    'anb2nc3n': (1, 'ABBCCCA', '  ^^^^^'),
}


@pytest.mark.parametrize('lang', sorted(BY_HAND))
def test_determined_positions_by_hand(lang):
    n, text, marks = BY_HAND[lang]
    multiples = COUNTING[lang]
    assert ''.join('ABC'[s] for s in G.string(multiples, n)) == text
    assert ''.join('^' if d else ' ' for d in G.determined(multiples, n)) == marks
    symbols, mask = G.strings(multiples, 6)       # the batch holds the same, padded
    row = len(text)
    assert list(symbols[n - 1, :row]) == list(G.string(multiples, n))
    assert list(mask[n - 1, :row]) == list(G.determined(multiples, n))
    assert not mask[n - 1, row:].any()


def test_the_rule_is_the_one_written_out_position_by_position():
    """evaluate() against a plain loop over positions, on a machine with noise added so
    that rights and wrongs mix (a right n after a wrong one included)."""
    multiples = COUNTING['anb2n']
    model, _ = bounded_counter(multiples, 4)
    layout, theta = theta_of(model)
    rng = np.random.default_rng(3)
    thetas = np.stack([theta + rng.normal(0, s, theta.shape) for s in (0.0, 2.0, 4.0)])
    outcome = G.evaluate('srn', layout, thetas, multiples, 12)
    for r, row in enumerate(thetas):
        for n in range(1, 13):
            seq = G.string(multiples, n)
            (_, probs, _), = G.run_strings('srn', layout, row, [seq])
            right, first, weakest = True, 0, np.inf
            for t in np.flatnonzero(G.determined(multiples, n)):
                p = probs[t - 1]
                ok = all(p[seq[t]] > p[s] for s in range(len(p)) if s != seq[t])
                if right and not ok:
                    right, first = False, t + 1
                    assert outcome.p_first_wrong[r, n - 1] == pytest.approx(p[seq[t]])
                weakest = min(weakest, p[seq[t]])
            assert outcome.right[r, n - 1] == right
            assert outcome.first_wrong[r, n - 1] == first
            assert outcome.weakest[r, n - 1] == pytest.approx(weakest)
    assert outcome.right.any() and (~outcome.right).any()
    # each run's numbers are those it gets alone
    alone = G.evaluate('srn', layout, thetas[2], multiples, 12)
    assert (alone.right[0] == outcome.right[2]).all()
    assert np.allclose(alone.weakest[0], outcome.weakest[2])


@pytest.mark.parametrize('kind', ['srn', 'lstm', 'gru'])
def test_the_float64_forward_is_the_torch_model(kind):
    torch.manual_seed(5)
    model = seq_models.make_model(kind, 3, 4, 3, init=1.0).double()
    layout, theta = theta_of(model)
    seqs = [G.string(COUNTING['anb2nc3n'], n) for n in (1, 3, 7)]
    for seq, (hidden, probs, cell) in zip(seqs, G.run_strings(kind, layout, theta, seqs)):
        x = torch.zeros(1, len(seq) - 1, 3, dtype=torch.float64)
        x[0, np.arange(len(seq) - 1), torch.from_numpy(seq[:-1])] = 1.0
        with torch.no_grad():
            h, out, ctx = model(x, context=True)
        assert np.abs(hidden - h[0].numpy()).max() < 1e-12
        assert np.abs(probs - torch.softmax(out[0], -1).numpy()).max() < 1e-12
        if kind == 'lstm':
            assert np.abs(cell - ctx['cell'][0].numpy()).max() < 1e-12
        else:
            assert cell is None


def test_checked_up_to_a_bound():
    model, _ = bounded_counter((1,), 1)
    layout, theta = theta_of(model)
    with pytest.raises(ValueError):
        G.evaluate('srn', layout, theta, (1,), G.MAX_N + 1)
    with pytest.raises(ValueError):
        G.evaluate('srn', layout, theta, (), 10)


# ------------------------------------------------------------ what is printed

def made(largest, checked=100, trained=4):
    right = [True] * largest + [False] * (checked - largest)
    wrong = [n for n in range(1, checked + 1) if not right[n - 1]]
    return Generalisation(checked=checked, trained=trained, largest_n_right=largest,
                          first_errors=wrong[:5], right=right,
                          first_wrong=[None if r else 9 for r in right],
                          p_first_wrong=[None if r else 0.25 for r in right],
                          weakest=[0.5] * checked, weakest_at=[9] * checked)


def test_the_line():
    assert T.line(made(7)) == ('generalisation: right for every n up to 7; first errors at '
                               'n = 8, 9, 10, 11, 12 (checked n = 1..100, trained on n = 1..4)')
    assert T.line(made(0, 30, 8)) == ('generalisation: right for no n; first errors at '
                                      'n = 1, 2, 3, 4, 5 (checked n = 1..30, trained on n = 1..8)')
    assert T.line(made(100)) == ('generalisation: right for every n up to 100 '
                                 '(checked n = 1..100, trained on n = 1..4)')
    assert T.line(made(97)) == ('generalisation: right for every n up to 97; first errors at '
                                'n = 98, 99, 100 (checked n = 1..100, trained on n = 1..4)')
    for k in (0, 7, 97, 100):
        assert LINE.fullmatch(T.line(made(k)))


def test_the_table_has_a_row_per_n():
    text = T.table(made(2, 5), COUNTING['anb2n'])
    lines = text.splitlines()
    assert len(lines) == 6 and lines[0].split()[:2] == ['n', 'right']
    assert lines[1].split()[:3] == ['1', 'yes', '-']
    # position 9 of n = 3 (AAABBBBBBA) is a B
    assert lines[3].split()[:5] == ['3', 'no', '9', '(B)', '0.25']


# ------------------------------------------------------------ seq_plot.py --generalise

def save_checkpoint(folder, model, lang, kind, hid, length):
    meta = CheckpointMeta(network=Network(lang, False, length, kind, hid),
                          num_input=model.num_input, num_out=model.num_out, thousands=5,
                          seed=0)
    return checkpoint.save(checkpoint.checkpoint_path(folder, lang, kind, hid, 5), model, meta)


@pytest.mark.slow
def test_seq_plot_prints_the_line_the_table_and_draws_the_picture(tmp_path):
    save_checkpoint(tmp_path / 'net', exact_counter_lstm(), 'anbn', 'lstm', 1, 6)
    done = run_script('seq_plot.py', '--lang', 'anbn', '--model', 'lstm', '--hid', '1',
                      '--epoch', '5', '--out_path', tmp_path / 'net', '--plot_dir',
                      tmp_path / 'plot', '--num_plot', '1', '--generalise', '40')
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    at = lines.index('generalisation: right for every n up to 40 (checked n = 1..40, '
                     'trained on n = 1..6)')
    assert lines[at + 1].split()[:2] == ['n', 'right']
    assert [row.split()[:2] for row in lines[at + 2:at + 42]] == \
        [[str(n), 'yes'] for n in range(1, 41)]
    picture = tmp_path / 'plot' / 'anbn_lstm1_generalise.jpg'
    assert picture.stat().st_size > 10_000 and f'saved {picture}' in done.stdout
    record = json.loads((tmp_path / 'plot' / 'anbn_lstm1_analysis.json').read_text())
    assert record['generalise']['largest_n_right'] == 40
    assert record['generalise']['checked'] == 40 and record['generalise']['trained'] == 6
    assert str(picture) in record['pictures']
    typed = schema.load(tmp_path / 'plot' / 'anbn_lstm1_analysis.json', Analysis).generalise
    assert typed.largest_n_right == 40 and typed.right == [True] * 40


def test_seq_plot_refuses_what_it_cannot_check(tmp_path):
    done = run_script('seq_plot.py', '--lang', 'reber', '--generalise')
    assert_one_line_error(done, '--generalise', 'reber')
    done = run_script('seq_plot.py', '--lang', 'anbn', '--generalise', '1001')
    assert_one_line_error(done, '--generalise', '1,000')
    # the flag's bound is the module's, written twice (seq_plot loads no numpy)
    assert seq_plot.checked_n.high == G.MAX_N


def test_the_picture_of_a_machine_that_breaks(tmp_path):
    """measure_generalisation in-process on a machine right up to 2 (its pair scatters and
    3-D views are not the point here)."""
    from nnlab.formats.seq_analysis import PlotConfig
    from nnlab.recurrent.analysis import measure_generalisation
    model, names = bounded_counter(COUNTING['anb2n'], 2)
    meta = CheckpointMeta(network=Network('anb2n', False, None, 'srn', len(names)),
                          num_input=2, num_out=2)
    saved = []
    args = PlotConfig(lang='anb2n', model='srn', hid=len(names), generalise=20)
    found = measure_generalisation(model, meta, args, 'hand',
                                 lambda fig, suffix: saved.append((fig, suffix)))
    assert found.largest_n_right == 2 and found.trained == 4 and found.checked == 20
    (fig, suffix), = saved
    assert suffix == 'generalise.jpg'
    labels = [t.get_text() for ax in fig.axes for t in ax.get_legend().get_texts()]
    assert 'n = 2 (right)' in labels and 'n = 3 (wrong)' in labels


# ------------------------------------------------------------ seq_train.py's verdict

@pytest.mark.slow
def test_seq_train_records_the_figure_seq_plot_finds_in_its_checkpoints(tmp_path):
    done = run_script('seq_train.py', '--lang', 'anb2n', '--epoch', '20', '--seed', '3',
                      '--restarts', '2', '--out_path', tmp_path / 'net', '--plot_dir',
                      tmp_path / 'plot')
    assert done.returncode == 0, done.stderr
    results = schema.load(tmp_path / 'net' / 'anb2n_srn2_run.json', SeqRun).results
    assert (results.checked_n, results.trained_n) == (G.DEFAULT_N, 4)
    for k, run in enumerate(results.runs):
        path = checkpoint.checkpoint_path(tmp_path / 'net', 'anb2n', 'srn', 2, 20, run=k)
        model, _ = checkpoint.load(path)
        # what seq_plot.py --generalise computes from the file
        assert G.of_model(model, (2,), 4).largest_n_right == run.largest_n_right
        verdict = re.search(rf'^run +{k} \(seed {run.seed}\): .*$', done.stdout, re.M)[0]
        assert verdict.endswith(f', largest n right {run.largest_n_right}')
    assert any(run.largest_n_right > 0 for run in results.runs)


def test_the_sweep_summary_counts_the_runs_right_beyond_training():
    from nnlab.formats import sweep_results
    from nnlab.sweep import plan
    from nnlab.sweep.stats import summarise, wilson_interval
    kind = plan.find_kind('seq_train.py')
    assert ('largest_n_right', int) in kind.columns
    # 6 runs measured: largest n right 0, 4, 5, 9, 100 (trained on 1..4), one of Reber
    largest = ['0', '4', '5', '9', '100', '']
    # as results.csv's reader makes them from these cells (the others empty)
    empty = dict.fromkeys(sweep_results.columns(kind.columns, []), '') | {'seed': '0'}
    rows = [sweep_results.parse(empty | dict(status='ok', success=str(i in (1, 2, 4)),
                                             mean_last_checks='0.1', seconds='1',
                                             largest_n_right=v, trained_n='4' if v else ''),
                                kind.columns, [])
            for i, v in enumerate(largest)]
    s = summarise(rows, kind)
    assert (s['beyond'], s['measured']) == (3, 5)
    assert s['beyond_interval'] == wilson_interval(3, 5)
    assert s['median_e1'] == 6             # e1 of the runs that met it: 5, 6, 101
    head = kind.head()
    assert head[-3:] == ['right beyond training', '95% interval', 'median e1 (met)']
    assert s['cells'][len(head) - 3:len(head)] == ['3/5 (60%)', '23%-88%', '6']


# ------------------------------------------------------------ --fsm beyond training

def sure_of(multiples, n):
    """(T-1, S) predictions that are sure of every next symbol of string n."""
    seq = G.string(multiples, n)
    probs = np.zeros((len(seq) - 1, 1 + len(multiples)))
    probs[np.arange(len(seq) - 1), seq[1:]] = 1.0
    return probs


def test_machine_and_network_agreement_by_hand():
    multiples = COUNTING['anbn']
    net = [sure_of(multiples, n) for n in range(1, 7)]
    mine = [p.copy() for p in net]
    mine[1][0] = [0.0, 1.0]         # n = 2, after the first A: not determined, no matter
    found = G.agreement(net, mine, multiples)
    assert (found.largest_n_same, found.first_n) == (6, None)
    assert G.agreement_line(found, 3) == (
        'beyond training: machine and network pick the same symbol at every determined '
        'position for every n up to 6 (checked n = 1..6, trained on n = 1..3)')
    mine[3][4] = [1.0, 0.0]         # n = 4 (AAAABBBBA), position 6: the machine says A
    mine[4][6] = 0.0                # n = 5: stuck
    found = G.agreement(net, mine, multiples)
    assert (found.largest_n_same, found.first_n, found.position) == (3, 4, 6)
    assert (found.network, found.machine) == ('B', 'A')
    assert G.agreement_line(found, 3).endswith(
        'for every n up to 3; they first differ on n = 4 at position 6 (network B, '
        'machine A) (checked n = 1..6, trained on n = 1..3)')
    mine[3] = net[3]
    found = G.agreement(net, mine, multiples)
    assert (found.first_n, found.position, found.machine) == (5, 8, '-')
    mine[0][1] = 0.0                # n = 1 (ABA), position 3 (the final A): stuck
    assert 'for no n; they first differ on n = 1 at position 3' in \
        G.agreement_line(G.agreement(net, mine, multiples), 3)


def test_weights_that_are_not_numbers_are_right_on_no_n():
    """A diverged run among the restarts: no probability for the right symbol, no crash."""
    model, _ = bounded_counter(COUNTING['anbn'], 2)
    layout, theta = theta_of(model)
    broken = theta.copy()
    broken[3] = np.nan
    outcome = G.evaluate('srn', layout, np.stack([theta, broken]), COUNTING['anbn'], 6)
    assert list(outcome.largest_n_right) == [2, 0]
    found = G.record(outcome, 1, 3)
    assert found.p_first_wrong[0] == 0.0 and found.weakest[0] == 0.0
    assert len(T.table(found, COUNTING['anbn']).splitlines()) == 7


def test_the_lstm_picture_shows_its_counting_cell():
    from nnlab.formats.seq_analysis import PlotConfig
    from nnlab.recurrent.analysis import measure_generalisation
    meta = CheckpointMeta(network=Network('anbn', False, 5, 'lstm', 1), num_input=2,
                          num_out=2)
    saved = []
    args = PlotConfig(lang='anbn', model='lstm', hid=1, generalise=12)
    found = measure_generalisation(exact_counter_lstm(), meta, args, 'hand',
                                 lambda fig, suffix: saved.append(fig))
    assert found.largest_n_right == 12
    titles = [ax.get_title() for ax in saved[0].axes]
    assert titles[1:] == ['hidden states', 'cell states',
                          'the counting cell c0 (R^2 1.00 on the training strings)']
