"""State-machine extraction: on a hand-built SRN whose states are known it must find
those states and transitions, and the machine it prints must run on its own."""
import re

import numpy as np
import pytest
from seq_handnet import DELTA, STATES, hand_built_srn, known_state

from nnlab.cli import UserError
from nnlab.recurrent import fsm, languages
from nnlab.recurrent.trace import trace_model

SYMBOLS = 'AB'


def next_state(machine, state, symbol):
    """The most frequent successor, or None if never seen."""
    found = machine.table()[state, symbol]
    return int(found) if found >= 0 else None


def nondeterministic(machine):
    """(from, symbol) pairs seen going to more than one state."""
    return [(s, a) for s in range(machine.num_states) for a in range(len(machine.symbols))
            if np.count_nonzero(machine.counts[s, a]) > 1]


def accepts(machine, seq):
    return bool(fsm.run_machines(machine, [seq])[1][0])


def drawn_state_names(fig):
    """The state names (s0, s1, ...) written on a figure's axes."""
    return [t.get_text() for ax in fig.axes for t in ax.texts
            if re.fullmatch(r's\d+', t.get_text())]


@pytest.fixture(scope='module')
def hand_runs():
    lang = languages.make_language('anbn', length=3)
    rng = np.random.default_rng(0)
    model = hand_built_srn()
    return (trace_model(model, lang.sample_many(rng, 120)),
            trace_model(model, lang.sample_many(rng, 40)))


@pytest.fixture(scope='module')
def extracted(hand_runs):
    fresh, _ = hand_runs
    seqs = [ex.seq for ex in fresh.examples]
    clustering = fsm.cluster_states(fresh.paths(), seqs, fresh.probs, seed=0)
    return clustering, fsm.build_machine(clustering, seqs, fresh.probs, SYMBOLS)


def state_names(trace, clustering):
    """Map each extracted state to the hand state of its points; it must be one."""
    names = {}
    for path, labels in zip(trace.paths(), clustering.labels):
        for row, s in zip(path, labels):
            names.setdefault(int(s), set()).add(known_state(row))
    return names


def test_every_state_vector_is_assigned_to_the_cluster_it_was_put_in(hand_runs, extracted):
    """The rule the explore page applies to the analysis record's centres and scale (the
    centre nearest in units of each unit's scale) gives each point the cluster the
    extraction gave it."""
    fresh, _ = hand_runs
    clustering, _ = extracted
    points = np.concatenate(fresh.paths())
    gaps = (points[:, None, :] - clustering.centers[None, :, :]) / clustering.scale
    assigned = (gaps ** 2).sum(-1).argmin(1)
    assert (assigned == np.concatenate(clustering.labels)).all()


def test_the_hand_built_net_is_perfect(hand_runs):
    fresh, _ = hand_runs
    lang = languages.make_language('anbn', length=3)
    errors = [lang.error(ex, p) for ex, p in zip(fresh.examples, fresh.probs)]
    assert max(errors) < 1e-4


def test_extraction_recovers_the_states_and_transitions(hand_runs, extracted):
    fresh, _ = hand_runs
    clustering, machine = extracted
    assert machine.num_states == len(STATES)
    names = state_names(fresh, clustering)
    assert all(len(v) == 1 for v in names.values()), names      # no state mixes two
    name = {s: v.pop() for s, v in names.items()}
    assert sorted(name.values()) == sorted(STATES)
    assert name[machine.start] == 'S0' and machine.start == 0
    found = {(name[s], a): name[next_state(machine, s, a)]
             for s in range(machine.num_states) for a in range(2)
             if next_state(machine, s, a) is not None}
    assert found == DELTA
    assert nondeterministic(machine) == []


def test_predictions_per_state(hand_runs, extracted):
    fresh, _ = hand_runs
    clustering, machine = extracted
    name = {s: v.pop() for s, v in state_names(fresh, clustering).items()}
    for s in range(1, machine.num_states):       # s0 (start) also follows every string
        expected = {'A1': 0.8, 'A2': 0.8, 'A3': 0.0, 'R1': 0.0, 'R2': 0.0,
                    'S0': 1.0}[name[s]]
        assert machine.predict[s, 0] == pytest.approx(expected, abs=0.01)


def test_machine_alone_predicts_held_out_examples(hand_runs, extracted):
    _, held_out = hand_runs
    _, machine = extracted
    score = fsm.score_held_out(machine, [ex.seq for ex in held_out.examples],
                               [ex.probs for ex in held_out.examples], held_out.probs)
    assert score.accepted == score.net_accepted == score.examples == 40
    assert score.deterministic > 0
    assert score.machine_det == score.net_det == score.deterministic
    assert score.machine_all == score.net_all == score.positions


def test_machine_rejects_a_string_off_the_language(extracted):
    _, machine = extracted
    bad = np.array([0, 1, 1, 1, 0])              # ABBB: one B too many
    assert not accepts(machine, bad)
    good = np.array([0, 0, 1, 1, 0])
    assert accepts(machine, good)


def test_fixed_number_of_states(hand_runs):
    fresh, _ = hand_runs
    seqs = [ex.seq for ex in fresh.examples]
    clustering = fsm.cluster_states(fresh.paths(), seqs, fresh.probs, num_states=3,
                                        seed=0)
    assert clustering.num_states == 3 and clustering.how == 'fixed by --states'
    machine = fsm.build_machine(clustering, seqs, fresh.probs, SYMBOLS)
    assert nondeterministic(machine)             # 3 states cannot hold this machine
    with pytest.raises(UserError, match='distinct hidden vectors'):
        fsm.cluster_states(fresh.paths(), seqs, fresh.probs, num_states=10 ** 4,
                               seed=0)


def test_same_seed_same_machine(hand_runs, extracted):
    fresh, _ = hand_runs
    seqs = [ex.seq for ex in fresh.examples]
    again = fsm.cluster_states(fresh.paths(), seqs, fresh.probs, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(again.labels, extracted[0].labels))


ROW = re.compile(r'^s(\d+)\s+([A-Z])\s+s(\d+)\s+(\d+)')


def parse_transitions(text):
    return {(int(m.group(1)), m.group(2)): (int(m.group(3)), int(m.group(4)))
            for m in map(ROW.match, text.splitlines()) if m}


def test_printed_table_parses_back_to_the_machine(extracted):
    _, machine = extracted
    text = fsm.format_machine(machine, 'the heading\nin two lines')
    assert text.splitlines()[:3] == ['the heading', 'in two lines', 'state  points  predicts']
    rows = parse_transitions(text)
    expected = {(s, SYMBOLS[a]): (next_state(machine, s, a),
                                  int(machine.counts[s, a].sum()))
                for s in range(machine.num_states) for a in range(2)
                if machine.counts[s, a].sum() > 0}
    assert rows == expected
    assert re.search(r'^s0\s+\d+\s+A 1\.00\s+\(start\)$', text, re.M)


def test_nondeterminism_is_noted():
    # two paths: from the start, A leads to different states
    paths = [np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]),
             np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 1.0]])]
    seqs = [np.array([0, 1, 0]), np.array([0, 1, 0])]
    probs = [np.full((2, 2), 0.5)] * 2
    clustering = fsm.cluster_states(paths, seqs, probs, num_states=4, seed=0)
    machine = fsm.build_machine(clustering, seqs, probs, SYMBOLS)
    assert nondeterministic(machine) == [(0, 0)]
    assert 'non-deterministic: s1 1, s2 1' in fsm.format_machine(machine, "heading")


def test_minimise_merges_states_that_behave_alike(extracted):
    _, machine = extracted
    minimal, groups = fsm.minimise(machine)     # already minimal: nothing merges
    assert minimal.num_states == machine.num_states
    assert groups == [[s] for s in range(machine.num_states)]
    # Split every state in two copies that behave the same: 12 states, minimal 6.
    k, S = machine.num_states, 2
    counts = np.zeros((2 * k, S, 2 * k), dtype=np.int64)
    for s in range(k):
        for a in range(S):
            for t in range(k):
                c = machine.counts[s, a, t]
                # copy 0 goes to copy 1 of the successor and the other way round
                counts[s, a, k + t] = counts[k + s, a, t] = c
    doubled = fsm.Machine(SYMBOLS, counts, np.vstack([machine.predict] * 2),
                              np.concatenate([machine.visits] * 2), machine.start)
    minimal, groups = fsm.minimise(doubled)
    assert minimal.num_states == k
    assert sorted(groups) == [[s, k + s] for s in range(k)]
    assert groups[0] == [machine.start, k + machine.start]
    assert minimal.counts.sum() == machine.counts.sum() * 2
    assert fsm.format_groups(groups).splitlines()[0] == '  s0   = c0 c6'
    # Merged states are numbered in reach order, as the clusters were: no gaps, and
    # the same table as the machine that was doubled.
    assert minimal.start == 0
    assert np.array_equal(minimal.table(), machine.table())


def test_pictures_and_printout_use_the_same_gap_free_names(hand_runs):
    """Split one state's points into two clusters that behave alike: the printout
    names 7 clusters c0..c6 and 6 states s0..s5; the scatter names every cluster by its
    state, the diagram every state once, with the printed names."""
    from nnlab.plotting import plt
    from nnlab.recurrent import analysis, diagrams
    fresh, held_out = hand_runs
    seqs = [ex.seq for ex in fresh.examples]
    clustering = fsm.cluster_states(fresh.paths(), seqs, fresh.probs, seed=0)
    # Every other visit of cluster 3 becomes a cluster 6 of its own.
    split = []
    for labels in clustering.labels:
        labels = labels.copy()
        threes = np.nonzero(labels == 3)[0]
        labels[threes[::2]] = 6
        split.append(labels)
    clustering.labels, clustering.num_states = split, 7
    clusters = fsm.build_machine(clustering, seqs, fresh.probs, SYMBOLS)
    machine, groups = fsm.minimise(clusters)
    assert (clusters.num_states, machine.num_states) == (7, 6)
    assert [3, 6] in groups
    score = fsm.score_held_out(machine, [ex.seq for ex in held_out.examples],
                               [ex.probs for ex in held_out.examples], held_out.probs)
    text = analysis.machine_text(clusters, machine, groups, 'fixed', len(seqs), 0, score,
                                 'hidden states')
    table = text[text.index('state machine:'):]
    printed = set(re.findall(r'^(s\d+) ', table, re.M))
    names = fsm.state_names(machine.num_states)
    assert printed == set(names) == {f's{i}' for i in range(6)}
    assert set(re.findall(r'^(c\d+) ', text, re.M)) == {f'c{i}' for i in range(7)}
    merged_line = next(line for line in text.splitlines() if line.endswith('= c3 c6'))
    state_of = analysis.state_of_clusters(groups)
    assert merged_line.split()[0] == names[state_of[3]]

    labels = np.concatenate(clustering.labels)
    points = np.concatenate(fresh.paths())
    colours = np.concatenate([np.concatenate([[0], ex.state]) for ex in fresh.examples])
    fig = diagrams.fsm_scatter(points, labels, colours, 3, machine, 0, 6, fresh.initial,
                               clusters=clusters, state_of=state_of, names=names)
    drawn = drawn_state_names(fig)
    assert sorted(drawn) == sorted(names[state_of[c]] for c in range(7))  # one per cluster
    plt.close(fig)
    fig = diagrams.state_diagram(machine, names=names, to_end=[0, 1, 2, 3, 2, 1])
    assert sorted(drawn_state_names(fig)) == sorted(names)    # each state once
    plt.close(fig)
