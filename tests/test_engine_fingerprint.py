"""The fingerprint of a student's model class (nnlab/engine.py): the shipped files have the
fingerprints nnlab stores; comments and docstrings do not count, code does."""
import pytest

import seq_models
from nnlab import ROOT, engine
from nnlab.recurrent import languages


@pytest.mark.parametrize('filename, class_name', list(engine.SHIPPED))
def test_the_shipped_files_have_the_stored_fingerprints(filename, class_name):
    found = engine.fingerprints(ROOT / filename, class_name)
    assert found == engine.SHIPPED[(filename, class_name)], (
        f"the shipped {filename}'s {class_name} changed, so the compiled kernel no longer "
        f"trains it without a probe: if the change is meant (and the kernel computes the "
        f"same, see tests/test_engine_*.py), run `python3 -m nnlab.engine` and paste its "
        f"table into SHIPPED in nnlab/engine.py")


def fingerprints_of(tmp_path, text, class_name='SRN_model'):
    path = tmp_path / 'seq_models.py'
    path.write_text(text)
    return engine.fingerprints(path, class_name)


def test_comments_docstrings_and_layout_do_not_change_a_fingerprint(tmp_path):
    text = (ROOT / 'seq_models.py').read_text()
    shipped = engine.SHIPPED[('seq_models.py', 'SRN_model')]
    edited = text.replace('    """h_t = tanh(x_t W + h_{t-1} U + hid_bias), h_{-1} = tanh(H0) '
                          '(learned)."""\n', '    # my own comment\n')
    edited = edited.replace('h = torch.tanh(x_part[:, t] + h @ self.U)',
                            'h = torch.tanh(x_part[:, t]   +   h @ self.U)  # same')
    assert edited != text
    assert fingerprints_of(tmp_path, edited) == shipped


def test_a_changed_activation_changes_the_model_fingerprint_not_the_init_one(tmp_path):
    text = (ROOT / 'seq_models.py').read_text()
    relu = text.replace('h = torch.tanh(x_part[:, t] + h @ self.U)',
                        'h = torch.relu(x_part[:, t] + h @ self.U)')
    model, init = fingerprints_of(tmp_path, relu)
    shipped_model, shipped_init = engine.SHIPPED[('seq_models.py', 'SRN_model')]
    assert model != shipped_model and init == shipped_init
    # the LSTM and GRU do not use the SRN's code: they keep their fingerprints
    assert fingerprints_of(tmp_path, relu, 'LSTM_model') == \
        engine.SHIPPED[('seq_models.py', 'LSTM_model')]


def test_a_changed_initial_std_changes_both_fingerprints(tmp_path):
    text = (ROOT / 'seq_models.py').read_text()
    model, init = fingerprints_of(tmp_path, text.replace('SRN_INIT_STD = 0.3',
                                                         'SRN_INIT_STD = 0.5'))
    shipped_model, shipped_init = engine.SHIPPED[('seq_models.py', 'SRN_model')]
    assert model != shipped_model and init != shipped_init


def test_a_file_that_is_not_python_or_lacks_the_class_has_no_fingerprint(tmp_path):
    assert fingerprints_of(tmp_path, 'class SRN_model(:\n') == (None, None)
    assert fingerprints_of(tmp_path, 'x = 1\n') == (None, None)


def test_the_student_file_keeps_the_default_initial_std_nnlab_draws_with():
    """seq_models.py imports nothing but torch, so it keeps its own SRN_INIT_STD; the
    compiled path draws with nnlab's copy, which must be the same number."""
    assert seq_models.SRN_INIT_STD == languages.SRN_INIT_STD
    imported = [line for line in (ROOT / 'seq_models.py').read_text().splitlines()
                if line.startswith(('import ', 'from '))]
    assert all('torch' in line or line == 'import math' for line in imported), imported
