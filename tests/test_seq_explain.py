"""Counter analysis: the quantities per position, and R^2 naming the unit built to count."""
import numpy as np
import pytest

import seq_explain
import seq_lang
import seq_trace
from seq_handnet import COUNTER, hand_built_srn


def test_counting_quantities_of_anb2n_text():
    phase, q = seq_explain.counting_quantities('AABBBBABBA')
    # positions after reading A A B B B B A B B (the final A is never read)
    assert phase.tolist() == [0, 0, 1, 1, 1, 1, 0, 1, 1]
    assert q["A's seen"].tolist() == [1, 2, 2, 2, 2, 2, 1, 1, 1]
    assert q["B's to come"].tolist() == [2, 4, 3, 2, 1, 0, 2, 1, 0]
    assert q['phase A'].tolist() == [1, 1, 0, 0, 0, 0, 1, 0, 0]
    assert "C's to come" not in q


def test_counting_quantities_of_anb2nc3n_text():
    phase, q = seq_explain.counting_quantities('ABBCCCA')
    assert phase.tolist() == [0, 1, 1, 2, 2, 2]
    assert q["B's to come"].tolist() == [2, 1, 0, 0, 0, 0]
    assert q["C's to come"].tolist() == [3, 3, 3, 2, 1, 0]
    assert q['phase C'].tolist() == [0, 0, 0, 1, 1, 1]


def test_quantities_match_the_language_states():
    # the language colours positions by the count of A's, then the symbols still to come
    lang = seq_lang.make_language('anb2nc3n')
    for ex in lang.sample_many(np.random.default_rng(1), 20):
        phase, q = seq_explain.counting_quantities(ex.text)
        expected = np.where(phase == 0, q["A's seen"], q["B's to come"] + q["C's to come"])
        assert np.array_equal(expected, ex.state)


def test_r_squared_of_lines_and_constants():
    x = np.arange(10.0)
    units = np.stack([3 * x - 2, np.ones(10), (x - 4.5) ** 2], axis=1)
    r2 = seq_explain.r_squared(units, x)
    assert r2[0] == pytest.approx(1.0)
    assert r2[1] == 0.0                       # a constant unit explains nothing
    assert r2[2] == pytest.approx(0.0, abs=1e-12)   # symmetric: no linear trend
    assert np.all(seq_explain.r_squared(units, np.zeros(10)) == 0.0)


def test_the_unit_built_to_count_is_named():
    lang = seq_lang.make_language('anbn', length=3)
    trace = seq_trace.run(hand_built_srn(), lang.sample_many(np.random.default_rng(0), 60))
    phase, q = seq_explain.stack_quantities([ex.text for ex in trace.examples])
    units = trace.points()
    names = [f'h{i}' for i in range(units.shape[1])]
    table = seq_explain.r2_table(units, q)
    assert table["B's to come"][COUNTER] > 0.95     # tanh bends the count a little
    assert np.argmax(table["B's to come"]) == COUNTER
    found = seq_explain.carriers(table, names)
    assert found["B's to come"][0][0] == f'h{COUNTER}'
    text = seq_explain.format_explain(table, names)
    assert f"B's to come  h{COUNTER} (" in text
    row = next(line for line in text.splitlines() if line.startswith(f'h{COUNTER} '))
    assert float(row.split()[2]) > 0.95      # columns: A's seen, B's to come, ...
