"""seq_plot.py's work: look inside a trained recurrent network (a checkpoint of seq_train.py).

Prints the parameters and the outputs of fresh examples, then draws the hidden states
coloured by the language's state for every pair of units (and 3-D views for 3+ units);
with --context the LSTM's cell states too, with --fsm the extracted state machine, with
--explain which units count, with --generalise how far beyond the training lengths it
predicts right.
"""
import itertools
import os
import shlex

import numpy as np

from nnlab.cli import Invocation, UserError, stop
from nnlab.formats import schema, seq_analysis
from nnlab.formats.seq_analysis import (
    Analysis,
    Counters,
    MachineRecord,
    PlotConfig,
    Trained,
)
from nnlab.outputs import Plan
from nnlab.plotting import plt, save_figure, use_window
from nnlab.recurrent import (
    checkpoint,
    diagrams,
    explain,
    fsm,
    generalise,
    generalise_text,
    languages,
    layout,
    page_network,
    views,
)
from nnlab.recurrent.parameters import Layout
from nnlab.recurrent.trace import NO_CONTEXT, trace_model
from nnlab.seeds import set_seed

__all__ = ['PlotConfig', 'run']


class SeqPlotOutputs(Plan):
    """Everything a seq_plot.py run writes: pictures named {stem}_{suffix} in --plot_dir,
    and the analysis record {stem}_analysis.json."""

    def __init__(self, config):
        self.name = page_network.stem(config.weights) if config.weights else \
            checkpoint.stem(config.lang, config.model, config.hid, config.embed, config.run)
        super().__init__(config.plot_dir, f'{self.name}_plot', f'the {self.name} pictures')
        self.plot_dir = self.folder(config.plot_dir)
        self.record = self.file(seq_analysis.record_path(config.plot_dir, self.name))

    def picture(self, suffix):
        return os.path.join(self.plot_dir, f"{self.name}_{suffix}")


def run(args):
    """seq_plot.py's work; `args` is a PlotConfig."""
    stop.check()                             # a Ctrl-C while torch loaded: stop here
    if args.weights is not None:
        model, meta, path = page_network.load(args.weights)
        print(page_network.verdict_line(meta))
    else:
        model, meta, path = checkpoint.load_epoch(args.out_path, args, args.epoch, args.run)
    # the model in seq_models.py must be the one that trained the weights
    kernel_maths = checkpoint.same_model(meta, path)
    with SeqPlotOutputs(args) as out:
        return _run(args, out, model, meta, path, kernel_maths)


def strings_of(model, seqs, kernel_maths):
    """generalise.run_strings of the model: by the numpy copy of the kernels' maths where
    the model computes them (fast), else by the student's model itself."""
    if not kernel_maths:
        from nnlab.recurrent import autograd
        return autograd.run_strings(model, seqs)
    weights = Layout(model.kind, model.num_input, model.num_hid)
    return generalise.run_strings(model.kind, weights, weights.from_model(model), seqs)


def _run(args, out, model, meta, path, kernel_maths):
    set_seed(args.seed)
    if args.show:
        use_window()
    # Analyse the strings the network was trained on unless asked otherwise.
    length = args.length if args.length is not None else meta.network.length
    lang = languages.make_language(args.lang, args.embed, length)
    label = f"{out.name}, {checkpoint.format_thousands(args.epoch)}k examples"
    rng = np.random.default_rng(args.seed)
    saved = []

    def save(fig, suffix):
        path = out.picture(suffix)
        save_figure(fig, path, close=not args.show)
        saved.append(path)

    for name, param in model.named_parameters():
        print(name, param.data)
    traced = trace_model(model, lang.sample_many(rng, args.num_plot))
    if args.model == 'lstm' and traced.cell is None:
        missing = NO_CONTEXT.format(cls=type(model).__name__)
        if args.context:
            raise UserError(f"--context: {missing}")
        print(f"note: {missing}; the pictures and analyses use the hidden states alone",
              flush=True)
    for i, ex in enumerate(traced.examples):
        lang.print_outputs(i, ex, traced.hidden[i], traced.probs[i],
                           context=traced.cell[i] if args.context else None)

    plot_states(traced, lang.max_state, label, save, saved, out)
    curve = training_curve(args, meta, label)
    if curve is not None:
        save(curve, "loss.jpg")
    if args.context:
        plot_states(traced, lang.max_state, label + ', cell states', save, saved, out,
                    cell=True)

    script, argv = Invocation.current()
    analysis = Analysis(network=meta.network, command=shlex.join(['python3', script, *argv]),
                        checkpoint=path, epoch=args.epoch, run=args.run, seed=args.seed,
                        trained=Trained(meta.seed, meta.success, meta.checks, meta.metric,
                                        meta.threshold))
    if args.fsm or args.explain:
        fresh = trace_model(model, lang.sample_many(rng, args.examples))
    if args.fsm:
        held_out = trace_model(model, lang.sample_many(rng, max(args.examples // 3, 1)))
        analysis.fsm = extract_machine(fresh, held_out, lang, args, label, save, model,
                                       meta, kernel_maths)
    if args.explain:
        analysis.explain = explain_units(fresh, args, label, save)
    if args.generalise is not None:
        analysis.generalise = measure_generalisation(model, meta, args, label, save,
                                                   kernel_maths)

    analysis.pictures = list(saved)
    # What report.py needs of this look inside the network, beside the pictures.
    saved.append(schema.save(out.record, analysis))
    print()
    for path in saved:
        print(f"saved {path}")
    if args.show:
        plt.show()
    return 0


def plot_states(trace, max_state, label, save, saved, out, cell=False):
    """Pair scatters of every two units; for 3+ units the 3-D views and the rotation."""
    points = trace.points(cell=cell)
    colours = trace.colours()
    initial = trace.initial_cell if cell else trace.initial
    prefix, infix = ('c', 'ctx_') if cell else ('h', '')
    for j, k in itertools.combinations(range(points.shape[1]), 2):
        save(views.pair_scatter(points, colours, max_state, j, k, initial, label,
                                prefix), f"{infix}{j}{k}.jpg")
    if points.shape[1] >= 3:
        note = '' if points.shape[1] == 3 else f' (units 0-2 of {points.shape[1]})'
        shown = (points, colours, max_state, initial, label + note, prefix)
        save(views.scatter_3d(*shown), f"{infix}3d.jpg")
        save(views.views_3d(*shown), f"{infix}3d_views.jpg")
        saved.append(views.rotation_gif(out.picture(f"{infix}3d.gif"), *shown))


def training_curve(args, meta, label):
    """`{stem}_loss.jpg` from the checks the checkpoint carries: of the run loaded, or,
    for the best of `seq_train.py --restarts` (the plain name), of every run."""
    from nnlab.recurrent.trainer import CHECK_EVERY, VERDICT_CHECKS
    if not meta.checks:
        return None
    spec = languages.get_spec(args.lang)
    runs, labels, best = [meta.checks], [f"seed {meta.seed}"], 0
    if args.run is None and meta.restarts > 1 and meta.run is not None:
        runs, labels = [], []
        for i in range(meta.restarts):
            try:
                _, other, _ = checkpoint.load_epoch(args.out_path, args, args.epoch, i)
            except UserError:       # a run's file removed: show the others
                continue
            if i == meta.run:
                best = len(runs)
            runs.append(other.checks or [np.nan])
            labels.append(f"run {i} (seed {other.seed})")
    checks = [[np.nan if v is None else v for v in run] for run in runs]
    threshold = spec.threshold if meta.threshold is None else meta.threshold
    return views.loss_curve(checks, CHECK_EVERY, threshold, meta.metric,
                            title=f"{label}: {meta.metric} at each check",
                            consistently=spec.consistently, labels=labels, best=best,
                            window=VERDICT_CHECKS)


def extract_machine(fresh, held_out, lang, args, label, save, model, meta, kernel_maths):
    """Cluster the states, merge alike clusters into the machine, print it, score it on
    held-out examples (for the counting languages also beyond the training lengths), draw
    it (over each pair scatter, and as a diagram) with the printed names."""
    # An LSTM's state is its hidden and cell vectors together; both carry over.
    with_cell = fresh.cell is not None
    space = 'hidden and cell states' if with_cell else 'hidden states'
    paths = fresh.paths(with_cell)
    seqs = [ex.seq for ex in fresh.examples]
    clustering = fsm.cluster_states(paths, seqs, fresh.probs, args.states, seed=args.seed)
    clusters = fsm.build_machine(clustering, seqs, fresh.probs, lang.symbols)
    machine, groups = fsm.minimise(clusters)
    score = fsm.score_held_out(machine, [ex.seq for ex in held_out.examples],
                               [ex.probs for ex in held_out.examples], held_out.probs)
    text = machine_text(clusters, machine, groups, clustering.how, len(paths),
                        sum(len(p) for p in paths), score, space)
    same = None
    if not languages.get_spec(args.lang).is_reber:
        same, line = machine_beyond_training(machine, model, meta, args, kernel_maths)
        text += '\n' + line
    print(text)
    draw_machine(fresh, clustering, clusters, machine, groups, lang, args, label, save, space)
    names = fsm.state_names(machine.num_states)
    table = machine.table()
    return MachineRecord(text=text, states=int(clusters.num_states),
                         minimal_states=int(machine.num_states),
                         state_of_cluster=[names[i] for i in state_of_clusters(groups)],
                         accepted=int(score.accepted), examples=int(score.examples),
                         agrees_up_to=same, symbols=lang.symbols, start=names[machine.start],
                         moves={names[s]: {a: names[t] for a, t in zip(lang.symbols, row)
                                           if t >= 0} for s, row in enumerate(table)},
                         predicts=dict(zip(names, machine.predict.tolist())),
                         centres=clustering.centers.tolist(),
                         scale=clustering.scale.tolist(), with_cell=with_cell,
                         lines=fsm.state_lines(text, names))


def machine_beyond_training(machine, model, meta, args, kernel_maths):
    """Up to which n the machine, run on its own, picks the network's symbol at every
    determined position (n = 1..--generalise, default 100), and the printed line."""
    spec = languages.get_spec(args.lang)
    trained = meta.network.length or spec.default_length
    count = args.generalise or generalise.DEFAULT_N
    seqs = [generalise.string(spec.multiples, n) for n in range(1, count + 1)]
    runs = strings_of(model, seqs, kernel_maths)
    mine, _ = fsm.run_machines(machine, seqs)
    found = generalise.agreement([probs for _, probs, _ in runs], mine, spec.multiples)
    return found.largest_n_same, generalise.agreement_line(found, trained)


def state_of_clusters(groups):
    """cluster -> merged state, from minimise's groups."""
    state_of = np.empty(sum(len(g) for g in groups), dtype=int)
    for i, g in enumerate(groups):
        state_of[g] = i
    return state_of


def machine_text(clusters, machine, groups, how, examples, points, score, space):
    """What --fsm prints: the clusters (c0, c1, ...) when merging changes anything, which
    clusters each state holds, the machine (s0, s1, ...: the pictures' names), its score
    on held-out examples."""
    lines = ['', f"finite state machine in the {space} of {examples} fresh examples "
                 f"({points} points):"]
    heading = f"state machine: {machine.num_states} states, start state s{machine.start}"
    if machine.num_states < clusters.num_states:
        lines.append(fsm.format_machine(
            clusters, f"clusters: {clusters.num_states}, start cluster c{clusters.start}\n"
                      f"(number of clusters: {how})",
            fsm.state_names(clusters.num_states, 'c')))
        lines.append('')
        lines.append(f"merging clusters that behave alike (the same most likely next "
                     f"symbol, equivalent successors) leaves {machine.num_states} states; "
                     f"each state and its clusters:")
        lines.append(fsm.format_groups(groups))
    else:
        heading += f"\n(number of states: {how}; no two behave alike)"
    lines.append(fsm.format_machine(machine, heading))
    lines.append('')
    lines.append(fsm.format_held_out(score))
    return '\n'.join(lines)


def draw_machine(fresh, clustering, clusters, machine, groups, lang, args, label, save,
                 space):
    """`{stem}_{j}{k}_fsm.jpg` for every pair of units and the diagram `{stem}_fsm.jpg`."""
    labels = np.concatenate(clustering.labels)
    state_of = state_of_clusters(groups)
    names = fsm.state_names(machine.num_states)
    # Colour the initial rows like the end of a string (state 0): what precedes a string.
    colours = np.concatenate([np.concatenate([[0], ex.state]) for ex in fresh.examples])
    points = np.concatenate(fresh.paths())            # the hidden units of the paths
    for j, k in itertools.combinations(range(points.shape[1]), 2):
        save(diagrams.fsm_scatter(points, labels, colours, lang.max_state, machine, j, k,
                                  fresh.initial, label, clusters=clusters,
                                  state_of=state_of, names=names), f"{j}{k}_fsm.jpg")
    of_point = state_of[labels]
    members = [' '.join(f'c{c}' for c in g) if len(g) > 1 else '' for g in groups]
    if machine.num_states < clusters.num_states:
        title = (f"{label}: {clusters.num_states} clusters in the {space}, "
                 f"{machine.num_states} states after merging alike ones")
    else:
        title = f"{label}: {machine.num_states} states in the {space}"
    if languages.get_spec(args.lang).is_reber:
        # Rows follow the typical (median) colour of a state's points.
        row_key = np.array([np.median(colours[of_point == s])
                            for s in range(machine.num_states)])
        figure = diagrams.state_diagram(machine, row_key, title, names, members)
    else:
        # Counting languages: rows are the symbols still to come in the string.
        to_end = np.concatenate([layout.to_end_of_string(ex.text) for ex in fresh.examples])
        typical = [np.median(to_end[of_point == s]) for s in range(machine.num_states)]
        figure = diagrams.state_diagram(machine, title=title, names=names, members=members,
                                        to_end=typical)
    save(figure, "fsm.jpg")


def explain_units(fresh, args, label, save):
    """R^2 of each unit against each counting quantity; the picture of the best fits."""
    phase, step, quantities = explain.quantities_of([ex.text for ex in fresh.examples])
    units = fresh.points()
    names = [f"h{i}" for i in range(units.shape[1])]
    if fresh.cell is not None:
        units = np.concatenate([units, fresh.points(cell=True)], axis=1)
        names += [f"c{i}" for i in range(fresh.cell[0].shape[1])]
    table = explain.fit_table(units, quantities, step)
    text = (f"counter analysis over {len(fresh.examples)} fresh examples "
            f"({len(units)} positions):\n" + explain.format_explain(table, quantities, names))
    print()
    print(text)
    save(views.explain_figure(units, names, quantities, table, phase, step,
                              title=f"what the units track: {label}",
                              seed=args.seed), "explain.jpg")
    return Counters(text=text)


def measure_generalisation(model, meta, args, label, save, kernel_maths=True):
    """--generalise: the rule on n = 1..N printed as a line and a table; the picture."""
    spec = languages.get_spec(args.lang)
    trained = meta.network.length or spec.default_length
    if kernel_maths:
        found = generalise.of_model(model, spec.multiples, trained, args.generalise)
    else:                                   # the student's model, not the numpy copy
        from nnlab.recurrent import autograd
        weights = Layout(model.kind, model.num_input, model.num_hid)
        outcome = autograd.generalise(model.kind, weights, weights.from_model(model),
                                      spec.multiples, args.generalise)
        found = generalise.record(outcome, 0, trained)
    print()
    print(generalise_text.line(found))
    print(generalise_text.table(found, spec.multiples))
    shown = [n for n in (found.largest_n_right, found.largest_n_right + 1)
             if 1 <= n <= found.checked]
    seqs = [generalise.string(spec.multiples, n) for n in [*range(1, trained + 1), *shown]]
    runs = strings_of(model, seqs, kernel_maths)
    training, paths = runs[:trained], runs[trained:]
    counter = counting_cell(seqs[:trained], training) if model.kind == 'lstm' and all(
        cell is not None for _, _, cell in training) else None
    save(views.generalise_figure(found, training, dict(zip(shown, paths)),
                                 title=f"{label}: beyond the training lengths",
                                 counter=counter),
         "generalise.jpg")
    return found


def counting_cell(seqs, runs):
    """(unit, R^2): the LSTM cell that tracks the A's seen best over the training strings,
    as --explain fits it."""
    texts = [''.join(generalise_text.SYMBOLS[s] for s in seq) for seq in seqs]
    _, step, quantities = explain.quantities_of(texts)
    count = next(q for q in quantities if q.name == "A's seen")
    fits = explain.fit_table(np.concatenate([cell for _, _, cell in runs]), [count],
                             step)[count.name]
    unit = explain.best_unit(fits)
    return unit, fits[unit].r2
