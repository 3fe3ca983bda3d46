"""Look inside a trained recurrent network (a checkpoint of seq_train.py).

Prints the parameters and the outputs of --num_plot fresh examples, then saves scatters
of the hidden states coloured by the language's state: plot/{lang}_{model}{hid}_{j}{k}.jpg
for every pair of hidden units, and for 3+ units 3-D views and a rotating GIF.
--context adds the LSTM's cell states, --fsm extracts the state machine the network
implements, --explain names the units that count.

    python3 seq_plot.py --lang anb2n --epoch 100
    python3 seq_plot.py --lang anb2nc3n --model lstm --epoch 100 --context --fsm --explain
"""
import itertools
import os

import numpy as np

import seq_args
import seq_checkpoint
import seq_explain
import seq_fsm
import seq_lang
import seq_trace
import seq_views
from common import UserError, ensure_dir, positive_int, run_cli, set_seed
from plotting import plt, save_figure, use_window



def parse_args(argv=None):
    parser = seq_args.make_parser(__doc__.split('\n\n')[0])
    seq_args.add_language_args(parser)
    seq_args.add_model_args(parser)
    seq_args.add_common_args(parser)
    group = parser.add_argument_group('pictures and analysis')
    group.add_argument('--epoch', type=seq_checkpoint.epoch_type, default=None,
                       help="which checkpoint, in thousands of training examples "
                            "(default: the language's full training, e.g. 100 for anb2n)")
    group.add_argument('--run', type=int, default=None,
                       help='which run of seq_train.py --restarts (the _r{i} files)')
    group.add_argument('--num_plot', type=positive_int, default=10,
                       help='fresh examples printed and plotted (default 10)')
    group.add_argument('--plot_dir', default='plot', help='folder for the pictures (default plot)')
    group.add_argument('--show', action='store_true', help='also open the figures')
    group.add_argument('--context', action='store_true',
                       help='LSTM: print and plot the cell (context) states too')
    group.add_argument('--fsm', action='store_true',
                       help='extract the finite state machine in the hidden states')
    group.add_argument('--states', type=positive_int, default=None,
                       help='--fsm: use this many states (default: chosen from the data)')
    group.add_argument('--explain', action='store_true',
                       help='fit each unit to the counts that solve the task')
    group.add_argument('--examples', type=positive_int, default=300,
                       help='fresh examples for --fsm and --explain (default 300; and a '
                            'third as many more, held out, to check the machine)')
    args = seq_args.resolve_defaults(parser.parse_args(argv))
    if args.context and args.model != 'lstm':
        raise UserError(f"--context shows the LSTM's cell states; the {args.model} has "
                        f"none (use --model lstm or leave out --context)")
    if args.states is not None and not args.fsm:
        raise UserError("--states fixes the number of states of --fsm; add --fsm")
    if args.explain and seq_lang.get_spec(args.lang).is_reber:
        raise UserError("--explain fits the counters of the counting languages (anbn, "
                        "anbncn, anb2n, anb2nc3n); for reber use --fsm")
    return args


def print_parameters(model):
    for name, param in model.named_parameters():
        print(name, param.data)


def main(argv=None):
    args = parse_args(argv)
    set_seed(args.seed)
    if args.show:
        use_window()
    model, meta = seq_checkpoint.load_epoch(args.out_path, args.lang, args.model, args.hid,
                                            args.epoch, args.embed, args.run)
    ensure_dir(args.plot_dir)            # fail before the work if it cannot be written
    # Analyse the strings the network was trained on unless asked otherwise.
    length = args.length if args.length is not None else meta.get('length')
    lang = seq_lang.make_language(args.lang, args.embed, length)
    name = seq_checkpoint.stem(args.lang, args.model, args.hid, args.embed, args.run)
    label = f"{name}, {seq_checkpoint.format_thousands(args.epoch)}k examples"
    rng = np.random.default_rng(args.seed)
    saved = []

    def save(fig, suffix):
        path = os.path.join(args.plot_dir, f"{name}_{suffix}")
        save_figure(fig, path, close=not args.show)
        saved.append(path)

    print_parameters(model)
    trace = seq_trace.run(model, lang.sample_many(rng, args.num_plot))
    for i, ex in enumerate(trace.examples):
        lang.print_outputs(i, ex, trace.hidden[i], trace.probs[i],
                           context=trace.cell[i] if args.context else None)

    plot_states(trace, lang.max_state, label, save, saved, args.plot_dir, name, 'h', '')
    if args.context:
        plot_states(trace, lang.max_state, label + ', cell states', save, saved,
                    args.plot_dir, name, 'c', 'ctx_', cell=True)

    if args.fsm or args.explain:
        fresh = seq_trace.run(model, lang.sample_many(rng, args.examples))
    if args.fsm:
        held_out = seq_trace.run(model, lang.sample_many(rng, max(args.examples // 3, 1)))
        extract_machine(fresh, held_out, lang, args, label, save)
    if args.explain:
        explain_units(fresh, args, label, save)

    print()
    for path in saved:
        print(f"saved {path}")
    if args.show:
        plt.show()


def plot_states(trace, max_state, label, save, saved, plot_dir, name, prefix, infix,
                cell=False):
    """Pair scatters of every two units; for 3+ units the 3-D views and the rotation."""
    points = trace.points(cell=cell)
    colours = trace.colours()
    initial = trace.initial_cell if cell else trace.initial
    for j, k in itertools.combinations(range(points.shape[1]), 2):
        save(seq_views.pair_scatter(points, colours, max_state, j, k, initial, label,
                                    prefix), f"{infix}{j}{k}.jpg")
    if points.shape[1] >= 3:
        note = '' if points.shape[1] == 3 else f' (units 0-2 of {points.shape[1]})'
        save(seq_views.scatter_3d(points, colours, max_state, initial, label + note,
                                  prefix), f"{infix}3d.jpg")
        save(seq_views.views_3d(points, colours, max_state, initial, label + note,
                                prefix), f"{infix}3d_views.jpg")
        gif = os.path.join(plot_dir, f"{name}_{infix}3d.gif")
        seq_views.rotation_gif(gif, points, colours, max_state, initial, label + note,
                               prefix)
        saved.append(gif)


def extract_machine(fresh, held_out, lang, args, label, save):
    """Cluster the hidden states into a machine, print it, check it, draw it."""
    # An LSTM's state is its hidden and cell vectors together; both carry over.
    with_cell = args.model == 'lstm'
    paths = fresh.paths(with_cell)
    seqs = [ex.seq for ex in fresh.examples]
    clustering = seq_fsm.cluster_states(paths, seqs, fresh.probs, args.states,
                                        seed=args.seed)
    machine = seq_fsm.build_machine(clustering, seqs, fresh.probs, lang.symbols)
    check = seq_fsm.check_machine(machine, [ex.seq for ex in held_out.examples],
                                  [ex.probs for ex in held_out.examples], held_out.probs)
    space = 'hidden and cell states' if with_cell else 'hidden states'
    print()
    print(f"finite state machine in the {space} of {len(paths)} fresh examples "
          f"({sum(len(p) for p in paths)} points):")
    print(seq_fsm.format_machine(machine, f"state machine: {machine.num_states} states, "
                                 f"start state s{machine.start}\n"
                                 f"(number of states: {clustering.how})"))
    minimal, groups = seq_fsm.minimise(machine)
    names = [f"s{g[0]}" for g in groups]
    if minimal.num_states < machine.num_states:
        print()
        print(f"merging states that behave alike (the same most likely next symbol, "
              f"equivalent successors) leaves {minimal.num_states} states:")
        print(seq_fsm.format_groups(groups))
        print(seq_fsm.format_machine(minimal, f"minimal machine: {minimal.num_states} "
                                     f"states, start state {names[minimal.start]}", names))
    print()
    print(seq_fsm.format_check(check))

    labels = np.concatenate(clustering.labels)
    # Colour the initial rows like the end of a string (state 0): what precedes a string.
    colours = np.concatenate([np.concatenate([[0], ex.state]) for ex in fresh.examples])
    points = np.concatenate([p[:, :fresh.initial.shape[0]] for p in paths])
    for j, k in itertools.combinations(range(points.shape[1]), 2):
        save(seq_views.fsm_scatter(points, labels, colours, lang.max_state, machine, j, k,
                                   fresh.initial, label), f"{j}{k}_fsm.jpg")
    # The diagram shows the minimal machine; rows follow the typical (median) colour of
    # a state's points, and (counting languages) lanes the n of their strings.
    row_key = np.array([np.median(colours[np.isin(labels, g)]) for g in groups])
    side = None
    if not seq_lang.get_spec(args.lang).is_reber:
        n = np.concatenate([np.concatenate([[0], seq_explain.counting_quantities(
            ex.text)[2]["A's seen"]]) for ex in fresh.examples])
        side = np.array([np.median(n[np.isin(labels, g)]) for g in groups])
    members = [" ".join(f"s{s}" for s in g[1:]) for g in groups]
    if minimal.num_states < machine.num_states:
        members = [f"+ {m}" if m else "" for m in members]
        title = (f"{label}: {machine.num_states} states in the {space}, "
                 f"{minimal.num_states} after merging alike ones")
    else:
        title = f"{label}: {machine.num_states} states in the {space}"
    save(seq_views.state_diagram(minimal, row_key, title, names, members, side),
         "fsm.jpg")


def explain_units(fresh, args, label, save):
    """R^2 of each unit against each counting quantity; the picture of the best fits."""
    phase, step, quantities = seq_explain.quantities_of([ex.text for ex in fresh.examples])
    units = fresh.points()
    names = [f"h{i}" for i in range(units.shape[1])]
    if fresh.cell is not None:
        units = np.concatenate([units, fresh.points(cell=True)], axis=1)
        names += [f"c{i}" for i in range(fresh.cell[0].shape[1])]
    table = seq_explain.fit_table(units, quantities, step)
    print()
    print(f"counter analysis over {len(fresh.examples)} fresh examples "
          f"({len(units)} positions):")
    print(seq_explain.format_explain(table, quantities, names))
    save(seq_views.explain_figure(units, names, quantities, table, phase, step,
                                  title=f"what the units track: {label}",
                                  seed=args.seed), "explain.jpg")


if __name__ == '__main__':
    run_cli(main)
