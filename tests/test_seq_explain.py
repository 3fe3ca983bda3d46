"""Counter analysis: the quantities per position, and R^2 naming the unit built to count."""
import numpy as np
import pytest
from seq_handnet import COUNTER, hand_built_srn

from nnlab.recurrent import explain, languages
from nnlab.recurrent.trace import trace_model


def test_counting_quantities_of_anb2n_text():
    phase, step, q = explain.counting_quantities('AABBBBABBA')
    # positions after reading A A B B B B A B B (the final A is never read)
    assert phase.tolist() == [0, 0, 1, 1, 1, 1, 0, 1, 1]
    assert step.tolist() == [0, 1, 0, 1, 2, 3, 0, 0, 1]
    assert q["A's seen"].tolist() == [1, 2, 2, 2, 2, 2, 1, 1, 1]
    assert q["B's to come"].tolist() == [2, 4, 3, 2, 1, 0, 2, 1, 0]
    assert "C's to come" not in q


def test_counting_quantities_of_anb2nc3n_text():
    phase, _, q = explain.counting_quantities('ABBCCCA')
    assert phase.tolist() == [0, 1, 1, 2, 2, 2]
    assert q["B's to come"].tolist() == [2, 1, 0, 0, 0, 0]
    assert q["C's to come"].tolist() == [3, 3, 3, 2, 1, 0]


def test_fitted_positions_of_each_quantity():
    phase, _, qs = explain.quantities_of(['ABBCCCA', 'AABBBBCCCCCCA'])
    by_name = {q.name: q for q in qs}
    assert list(by_name) == ["A's seen", "B's to come", "B's read", 'n', "C's to come",
                             'phase A', 'phase B', 'phase C']
    assert by_name["B's read"].values[phase == 1].tolist() == [1, 2, 1, 2, 3, 4]
    assert np.array_equal(by_name["C's to come"].subset, phase == 2)
    assert np.array_equal(by_name['n'].subset, phase == 1)    # kept for the C's
    assert by_name['phase C'].values.tolist() == (phase == 2).tolist()
    # with two phases, "phase B" would repeat "phase A", and no n must be kept
    names = [q.name for q in explain.quantities_of(['AABBBBA'])[2]]
    assert names == ["A's seen", "B's to come", 'phase A']


def test_quantities_match_the_language_states():
    # the language colours positions by the count of A's, then the same letters to come
    lang = languages.make_language('anb2nc3n')
    for ex in lang.sample_many(np.random.default_rng(1), 20):
        phase, _, q = explain.counting_quantities(ex.text)
        expected = np.choose(phase, [q["A's seen"], q["B's to come"], q["C's to come"]])
        assert np.array_equal(expected, ex.state)


def test_r_squared_of_lines_and_constants():
    x = np.arange(10.0)
    units = np.stack([3 * x - 2, np.ones(10), (x - 4.5) ** 2], axis=1)
    r2 = explain.r_squared(units, x)
    assert r2[0] == pytest.approx(1.0)
    assert r2[1] == 0.0                       # a constant unit explains nothing
    assert r2[2] == pytest.approx(0.0, abs=1e-12)   # symmetric: no linear trend
    assert np.all(explain.r_squared(units, np.zeros(10)) == 0.0)


def test_an_alternating_counter_is_recognised():
    # B's to come 7..0; the unit jumps between two branches, each counting down
    x = np.arange(7, -1, -1.0)
    step = np.arange(8)
    zigzag = np.where(step % 2 == 0, 0.5 + 0.05 * x, -0.5 - 0.05 * x)
    plain = 0.1 * x
    units = np.stack([zigzag, plain], axis=1)
    q = explain.Quantity("B's to come", x, np.ones(8, dtype=bool), 'after each B')
    fits = explain.fit_table(units, [q], step)["B's to come"]
    assert fits[0].alternating and fits[0].r2 == pytest.approx(1.0)
    assert explain.r_squared(units[:, :1], x)[0] < 0.2
    assert not fits[1].alternating and fits[1].r2 == pytest.approx(1.0)
    # two values per branch: a line through two points proves nothing
    short = explain.Quantity('n', x[:4], np.ones(4, dtype=bool), '')
    assert not explain.fit_table(units[:4], [short], step[:4])['n'][0].alternating


def test_the_unit_built_to_count_is_named():
    lang = languages.make_language('anbn', length=3)
    trace = trace_model(hand_built_srn(), lang.sample_many(np.random.default_rng(0), 60))
    _, step, qs = explain.quantities_of([ex.text for ex in trace.examples])
    units = trace.points()
    names = [f'h{i}' for i in range(units.shape[1])]
    table = explain.fit_table(units, qs, step)
    counts = table["B's to come"]
    assert counts[COUNTER].r2 > 0.95 and not counts[COUNTER].alternating
    assert explain.best_unit(counts) == COUNTER
    assert explain.best_unit(table["A's seen"]) == COUNTER
    found = explain.carriers(table, names)
    assert found["B's to come"][0][0] == f'h{COUNTER}'
    text = explain.format_explain(table, qs, names)
    assert f"B's to come  h{COUNTER} (" in text
    row = next(line for line in text.splitlines() if line.startswith(f'h{COUNTER} '))
    assert float(row.split()[2]) > 0.95      # columns: A's seen, B's to come, ...
