"""The languages: strings belong to them, probabilities are true, states follow the spec."""
import io
import re
from contextlib import redirect_stdout

import numpy as np
import pytest

from nnlab.cli import UserError
from nnlab.recurrent import languages

COUNTING = {'anbn': (1,), 'anbncn': (1, 1), 'anb2n': (2,), 'anb2nc3n': (2, 3)}
DEFAULT_LENGTH = {'anbn': 8, 'anbncn': 8, 'anb2n': 4, 'anb2nc3n': 4}

# The Reber graph as textbooks draw it, written out independently of reber.py.
TEXTBOOK_REBER = {0: {'B': 1}, 1: {'T': 2, 'P': 3}, 2: {'S': 2, 'X': 4}, 3: {'T': 3, 'V': 5},
                  4: {'X': 3, 'S': 6}, 5: {'P': 4, 'V': 6}, 6: {'E': 'end'}}


def reber_nodes(string):
    """Walk one Reber string; return the node after each symbol (None if not in the grammar)."""
    node, nodes = 0, []
    for sym in string:
        nxt = TEXTBOOK_REBER.get(node, {}).get(sym)
        if nxt is None:
            return None
        node = nxt
        nodes.append(node)
    return nodes if node == 'end' else None


def _split(text, first):
    """Cut an example into its strings: a new one starts where `first` follows another symbol."""
    strings, current = [], ''
    for sym in text:
        if sym == first and current and current[-1] != first:
            strings.append(current)
            current = ''
        current += sym
    strings.append(current)
    return strings


@pytest.mark.parametrize('name', COUNTING)
def test_counting_strings_have_the_right_runs(name):
    lang = languages.make_language(name)
    k = COUNTING[name]
    assert lang.length == DEFAULT_LENGTH[name]
    seen_n = set()
    for ex in lang.sample_many(np.random.default_rng(0), 300):
        strings = _split(ex.text, 'A')
        assert len(strings) == 5
        for s in strings:
            runs = re.fullmatch(r'(A+)(B+)(C*)', s)
            assert runs, s
            n = len(runs.group(1))
            assert 1 <= n <= lang.length
            assert len(runs.group(2)) == k[0] * n
            assert len(runs.group(3)) == (k[1] * n if len(k) > 1 else 0)
            seen_n.add(n)
    assert seen_n == set(range(1, lang.length + 1))


@pytest.mark.parametrize('name', list(COUNTING) + ['reber', 'reber_embed'])
def test_probabilities_sum_to_one_and_allow_the_actual_next_symbol(name):
    lang = (languages.make_language('reber', embed=True) if name == 'reber_embed'
            else languages.make_language(name))
    for ex in lang.sample_many(np.random.default_rng(1), 100):
        T = len(ex.seq)
        assert ex.probs.shape == (T - 1, lang.num_symbols) and ex.state.shape == (T - 1,)
        np.testing.assert_allclose(ex.probs.sum(axis=1), 1.0, atol=1e-6)
        assert (ex.probs[np.arange(T - 1), ex.seq[1:]] > 0).all()
        assert ex.state.min() >= 0 and ex.state.max() <= lang.max_state


@pytest.mark.parametrize('name', list(COUNTING) + ['reber', 'reber_embed'])
def test_probabilities_match_the_frequencies_of_generated_strings(name):
    """Given what was read (the symbol and its state), the next symbol's frequency over many
    examples equals the printed probability: the probabilities are the truth."""
    lang = (languages.make_language('reber', embed=True) if name == 'reber_embed'
            else languages.make_language(name))
    examples = lang.sample_many(np.random.default_rng(2), 3000)
    read = np.concatenate([ex.seq[:-1] for ex in examples])
    state = np.concatenate([ex.state for ex in examples])
    following = np.concatenate([ex.seq[1:] for ex in examples])
    probs = np.concatenate([ex.probs for ex in examples])
    key = read * 1000 + state
    for k in np.unique(key):
        at = key == k
        rows = probs[at]
        assert (rows == rows[0]).all(), 'symbol and state must fix the distribution'
        if at.sum() >= 400:
            freq = np.bincount(following[at], minlength=lang.num_symbols) / at.sum()
            np.testing.assert_allclose(freq, rows[0], atol=0.05)


@pytest.mark.parametrize('name', COUNTING)
def test_counting_probabilities_and_states_follow_the_spec(name):
    lang = languages.make_language(name)
    for ex in lang.sample_many(np.random.default_rng(3), 50):
        pos = 0
        for s in _split(ex.text, 'A'):
            n = s.count('A')
            for t in range(len(s)):
                if pos + t >= len(ex.state):
                    break
                state, row = ex.state[pos + t], ex.probs[pos + t]
                if t < n:                                   # after the (t+1)-th A
                    assert state == t + 1
                    expected = [0.8, 0.2] if t + 1 < lang.length else [0.0, 1.0]
                    np.testing.assert_allclose(row[:2], expected, atol=1e-6)
                else:                                       # B's, then C's count down
                    assert state == s[t + 1:].count(s[t])
                    assert sorted(row.tolist())[-1] == 1.0
            pos += len(s)


def test_max_states_of_the_colour_scale():
    assert [languages.get_spec(n).max_state() for n in ('anb2n', 'anb2nc3n', 'anbn', 'anbncn')] \
        == [7, 11, 8, 8]
    assert languages.get_spec('reber').max_state() == 6
    assert languages.get_spec('reber').max_state(embed=True) == 18


def test_reber_strings_walk_the_textbook_graph_and_states_are_its_nodes():
    lang = languages.make_language('reber')
    for ex in lang.sample_many(np.random.default_rng(4), 200):
        strings = ex.text.split('E')[:-1]
        assert len(strings) == 5
        states = list(ex.state) + [0]
        pos = 0
        for s in strings:
            nodes = reber_nodes(s + 'E')
            assert nodes is not None, s
            assert states[pos:pos + len(s)] == nodes[:-1]
            pos += len(s) + 1
        legal = [len(TEXTBOOK_REBER[st]) for st in ex.state]
        np.testing.assert_allclose(ex.probs.max(axis=1), 1.0 / np.array(legal))


def test_embedded_reber_repeats_the_opening_symbol_and_reports_the_final_error():
    lang = languages.make_language('reber', embed=True)
    for ex in lang.sample_many(np.random.default_rng(5), 200):
        text = ex.text
        pieces = re.findall(r'B([TP])(B[TSXPV]*E)([TP])E', text)
        assert ''.join(f'B{a}{inner}{b}E' for a, inner, b in pieces) == text
        assert len(pieces) == 5
        for a, inner, b in pieces:
            assert a == b and reber_nodes(inner) is not None
        at = np.isin(ex.state, [9, 17])
        assert at.sum() == 5
        assert ''.join(np.array(list(text))[1:][at]) == ''.join(a for a, _, _ in pieces)
    perfect = ex.probs.copy()
    assert lang.final_error(ex, perfect) == 0.0
    wrong = perfect.copy()
    wrong[at] = 1.0 / 7
    # a uniform guess where T or P is certain: ((6/7)^2 + 6 (1/7)^2) / 7 symbols = 6/49
    assert lang.final_error(ex, wrong) == pytest.approx(6 / 49)


def run_print(lang, ex, hidden, probs, **kw):
    out = io.StringIO()
    with redirect_stdout(out):
        lang.print_outputs(3000, ex, hidden, probs, **kw)
    return out.getvalue().splitlines()


ROW = r'\[( *-?\d\.\d\d)+\]'


def test_anb2n_print_format():
    lang = languages.make_language('anb2n')
    ex = lang.sample(np.random.default_rng(6))
    hidden = np.zeros((len(ex.seq) - 1, 2))
    lines = run_print(lang, ex, hidden, ex.probs)
    assert lines[0] == '-----' and lines[1] == f'symbol= {ex.text}'
    assert lines[2] == 'hidden activations and output probabilities:'
    rows = lines[3:-2]
    assert len(rows) == len(ex.seq) - 1
    for sym, row in zip(ex.text, rows):
        assert re.fullmatch(rf'{sym} \[ 0\.00  0\.00\] {ROW}', row), row
    assert lines[-2] == 'epoch: 3000' and lines[-1] == ' loss: 0.0000'


def test_anbn_print_format_has_colours_and_labels_and_error():
    lang = languages.make_language('anbn')
    ex = lang.sample(np.random.default_rng(7))
    probs = np.full_like(ex.probs, 0.5)
    lines = run_print(lang, ex, np.zeros((len(ex.seq) - 1, 2)), probs)
    assert lines[1] == 'color = [' + ' '.join(map(str, ex.state)) + ']'
    assert lines[3] == 'label = [' + ' '.join(map(str, ex.seq[1:])) + ']'
    assert re.fullmatch(r'error: \d\.\d{4}', lines[-1])
    assert float(lines[-1].split()[1]) == pytest.approx(lang.error(ex, probs), abs=1e-4)


def test_reber_print_format_with_context_and_final():
    lang = languages.make_language('reber', embed=True)
    ex = lang.sample(np.random.default_rng(8))
    n = len(ex.seq) - 1
    lines = run_print(lang, ex, np.zeros((n, 2)), ex.probs, context=np.ones((n, 2)))
    assert lines[0].startswith('state = [') and lines[1] == f'symbol= {ex.text}'
    assert lines[2].startswith('label = [') and lines[3] == 'true probabilities:'
    assert lines[4].split() == list('BTSXPVE')
    assert all(re.fullmatch(rf'[BTSXPVE] {ROW}', r) for r in lines[5:5 + n])
    assert lines[5 + n].startswith('hidden activations, context (cell) units')
    for state, row in zip(ex.state, lines[6 + n:6 + 2 * n]):
        assert re.fullmatch(rf' ?{state} \[ 0\.00  0\.00\] \[ 1\.00  1\.00\] {ROW}', row), row
    assert lines[-3:] == ['epoch: 3000', 'error: 0.0000', 'final: 0.0000']


def test_registry_defaults_follow_the_spec():
    d = languages.get_spec('anb2n').defaults('srn')
    assert d == dict(hid=2, epoch=100, optim='sgd', lr=0.005, weight_decay=1e-4, mom=0.0)
    spec = languages.get_spec('anb2nc3n')
    assert (spec.defaults('lstm')['hid'], spec.defaults('lstm')['epoch']) == (3, 100)
    assert (spec.defaults('srn')['hid'], spec.defaults('srn')['epoch']) == (4, 200)
    assert spec.defaults('srn')['optim'] == 'sgd'
    for name, hid, epoch in (('reber', 2, 50), ('anbn', 2, 100), ('anbncn', 3, 200)):
        d = languages.get_spec(name).defaults('srn')
        assert (d['hid'], d['epoch'], d['optim'], d['lr'], d['weight_decay']) == \
            (hid, epoch, 'adam', 0.001, 1e-5)
    assert (languages.get_spec('anb2n').metric, languages.get_spec('anb2n').threshold) == \
        ('loss', 0.05)
    assert languages.get_spec('anb2nc3n').threshold == 0.02
    assert (languages.get_spec('anbn').metric, languages.get_spec('anbn').threshold) == \
        ('error', 0.01)


def test_success_is_every_check_for_anb2n_and_the_mean_for_anbn():
    # one noisy check above the threshold among good ones
    recent = [0.004] * 9 + [0.06]
    assert not languages.get_spec('anb2n').meets(recent)       # "consistently below 0.05"
    assert languages.get_spec('anb2n').meets([0.049] * 10)
    assert languages.get_spec('anbn').meets([0.008] * 9 + [0.012])   # mean 0.0084 < 0.01
    assert not languages.get_spec('anbn').meets([0.008] * 9 + [0.03])
    assert not languages.get_spec('anbn').meets([])
    assert 'each of the last 10' in languages.get_spec('anb2n').criterion_text(10)
    assert 'mean error of the last 10' in languages.get_spec('anbn').criterion_text(10)


def test_registry_refuses_bad_combinations():
    with pytest.raises(UserError, match='unknown language'):
        languages.get_spec('abc')
    with pytest.raises(UserError, match='--embed'):
        languages.make_language('anbn', embed=True)
    with pytest.raises(UserError, match='--length'):
        languages.make_language('reber', length=3)
    with pytest.raises(UserError, match='--length'):
        languages.make_language('anb2n', length=1000)
    assert languages.make_language('anb2n', length=6).max_state == 11


def test_same_seed_same_examples():
    lang = languages.make_language('anb2nc3n')
    a = lang.sample_many(np.random.default_rng(9), 5)
    b = lang.sample_many(np.random.default_rng(9), 5)
    assert [x.text for x in a] == [y.text for y in b]
