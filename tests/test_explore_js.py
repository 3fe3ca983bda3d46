"""The explore page's JavaScript as a program: its constants come from Python (gather writes
them into the page), each language's true next symbols equal Python's on generated strings,
and the fixed bugs stay fixed (an SRN after an LSTM shows hidden states; a weights file that
cannot be read is one line)."""
import numpy as np
import pytest
from browser import Watched
from test_explore import call

from nnlab.explore import gather, page
from nnlab.formats.seq_checkpoint import CheckpointMeta
from nnlab.recurrent import checkpoint, languages
from nnlab.recurrent.languages import Network
from nnlab.recurrent.parameters import Layout

# the stepper's two runs: the same language and size, an LSTM and an SRN
RUNS = [('anb2n', 'lstm', 2), ('anb2n', 'srn', 2)]
# every language the page knows, as seq_train.py's flags name them
LANGUAGES = [Network(name, embed) for name, spec in languages.SPECS.items()
             for embed in ((False, True) if spec.is_reber else (False,))]


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp('explore_js')
    rng = np.random.default_rng(0)
    for lang, kind, hid in RUNS:
        row = rng.normal(0.0, 1.0, Layout(kind, 2, hid).size)
        meta = CheckpointMeta(network=Network(lang=lang, model=kind, hid=hid), num_input=2,
                              num_out=2, thousands=10)
        checkpoint.save_weights(checkpoint.checkpoint_path(folder / 'net', lang, kind, hid, 10),
                                kind, 2, hid, row, meta)
    found = gather.gather(folder / 'plot', folder / 'net', folder / 'explore')
    found['part1']['samples'] = None        # Part 1 is not tested here
    return found


def opened(browser, data, path):
    page.write(path, data)
    watched = Watched(browser)
    watched.open(path)
    return watched


@pytest.fixture(scope='module')
def tab(data, browser, tmp_path_factory):
    watched = opened(browser, data, tmp_path_factory.mktemp('page') / 'index.html')
    yield watched
    watched.close()


def test_cell_states_are_unchecked_when_an_srn_follows_an_lstm(tab):
    page_ = tab.page
    page_.select_option('#p3-run', 'anb2n_lstm2')
    assert page_.is_visible('#p3-cells-box')
    page_.check('#p3-cells')
    page_.select_option('#p3-run', 'anb2n_srn2')     # same language and size: not "first"
    assert page_.is_hidden('#p3-cells-box')
    assert not page_.is_checked('#p3-cells')
    page_.select_option('#p3-run', 'anb2n_lstm2')
    assert page_.is_visible('#p3-cells-box') and not page_.is_checked('#p3-cells')
    assert tab.errors == []


def test_a_weights_file_that_cannot_be_read_is_one_line(tab, tmp_path):
    path = tmp_path / 'weights.json'
    path.write_text('{}')
    # as a file removed or changed on disk after it was chosen: file.text() rejects
    call(tab, '''() => { File.prototype.text = function () {
        return Promise.reject(new DOMException('the file changed', 'NotReadableError')); }; }''')
    tab.page.set_input_files('#p2-load', str(path))
    tab.page.wait_for_function(
        "document.getElementById('p2-message').textContent.includes('cannot be read')")
    assert tab.page.inner_text('#p2-message') == \
        'weights file weights.json cannot be read (the file changed); choose it again'
    assert tab.errors == []


def test_training_settings_come_from_python(data, browser, tmp_path):
    """Part 2's Train stops after gather's streak (check_main's rule): a streak of 7 written
    into the page stops the course's hand design (at 100% from the start) after 7 epochs;
    the random start draws with gather's std (check_main.py --init's default)."""
    from nnlab.perceptron import kernels
    settings = data['part2']['training']
    assert (settings['streak'], settings['weight_decay'], settings['lr'], settings['init']) == \
        (kernels.STREAK, kernels.WEIGHT_DECAY, 0.001, 0.15)
    changed = {**data, 'part2': {**data['part2'], 'training': {**settings, 'streak': 7,
                                                               'init': 2.5}}}
    watched = opened(browser, changed, tmp_path / 'index.html')
    try:
        trained = call(watched, '''([w]) => { explore.part2.setWeights(w, "sig", 10);
                                              return explore.part2.train(1000); }''',
                       data['part2']['hand'])
        assert trained['epochs'] == 7
        watched.page.click('#p2-random')
        assert 'normal(0, 2.5)' in call(watched, '() => explore.part2.message()')
        drawn = call(watched, '() => explore.part2.weights().in_hid_weight.flat()')
        assert max(map(abs, drawn)) > 1         # 0.15's draws would all be below 1
    finally:
        watched.close()


@pytest.mark.parametrize('network', LANGUAGES, ids=lambda n: n.lang + ('_embed' * n.embed))
def test_true_next_symbols_equal_pythons(tab, network):
    """The stepper's true next-symbol probabilities and states after every symbol of 50
    generated examples (250 strings) equal the generator's (anb2n.py, reber.py)."""
    language = languages.get_spec(network.lang).make(embed=network.embed)
    seq, probs, state, _ = language.sample_arrays(np.random.default_rng(3), 50)
    truth = call(tab, '([spec, seq]) => Part3.language(spec).truth(seq)',
                 gather._language(network), seq.tolist())
    assert len(truth) == len(seq)
    assert [t['state'] for t in truth] == state.tolist()
    assert np.allclose([t['probs'] for t in truth], probs, atol=1e-7)
    # a symbol the language does not allow there: no state, no distribution from then on
    wrong = {'reber': [1, 1]}.get(network.lang, [1])      # a T first; a B first
    assert call(tab, '([spec, seq]) => Part3.language(spec).truth(seq)',
                gather._language(network), wrong)[-1] == {'state': None, 'probs': None}
