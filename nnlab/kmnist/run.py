"""Part 1's run: load KMNIST once, train a net epoch by epoch, report and save.

`run(Config(...))` is what kuzu_main.py calls after checking its flags.
"""
import os
import sys

import torch

from nnlab.cli import Interrupted, stop
from nnlab.files import atomic_torch_save, atomic_write_text
from nnlab.formats import kuzu_net, kuzu_run, schema
from nnlab.formats.kuzu_run import EpochTest, KuzuConfig, KuzuResults, KuzuRun, Mistake
from nnlab.kmnist.data import default_root, load_kmnist, sample_images
from nnlab.kmnist.facts import CLASSES, FULL_HIDDEN, FULL_TRAIN
from nnlab.kmnist.nets import (
    PROBE_IMAGES,
    build,
    check_contract,
    runs_channels_last,
    takes_hidden_size,
)
from nnlab.kmnist.pictures import plot_curve, plot_mistakes
from nnlab.kmnist.tables import (
    choose_mistakes,
    confused_lines,
    parameter_counts,
    plot_confusion,
    write_confusion_csv,
    write_history_csv,
)
from nnlab.kmnist.train import check_finite, evaluate, prepare, print_test, threads_for, train_epoch
from nnlab.outputs import Plan, RunWriter
from nnlab.seeds import set_seed

Config = KuzuConfig


class KuzuOutputs(Plan):
    """Everything a kuzu_main.py run writes."""

    def __init__(self, config):
        name = f'kuzu_{config.net}'
        super().__init__(config.plot_dir, name, f'the {name} outputs')
        def named(what):
            return kuzu_run.output_path(config.plot_dir, config.net, what)
        self.params = self.file(named('params.txt'))
        self.confusion_csv = self.file(named('confusion.csv'))
        self.confusion_jpg = self.file(named('confusion.jpg'))
        self.history = self.file(named('history.csv'))
        self.curve = self.file(named('curve.jpg'))
        self.mistakes = self.file(named('mistakes.jpg'))
        self.record = self.chosen(config.summary, '--summary', named('run.json'))
        self.save = self.file(config.save, '--save') if config.save is not None else None
        self.saved_net = (self.file(kuzu_net.record_path(config.save))
                          if config.save is not None else None)   # which net --save holds


def run(config):
    """kuzu_main.py's work; one run at a time writes a net's outputs in a --plot_dir."""
    stop.check()                             # a Ctrl-C while torch loaded: stop here
    with KuzuOutputs(config) as out:
        return _run(config, out)


def _run(config, out):
    use_cuda = config.cuda and torch.cuda.is_available()
    device = torch.device('cuda' if use_cuda else 'cpu')

    train_x, train_y, test_x, test_y = load_kmnist(config.data or default_root(),
                                                   fallback=config.data is None)
    available = len(train_x)
    if available < FULL_TRAIN:              # a part of the official set: say so, once
        print(f"note: training on {available:,} of the {FULL_TRAIN:,} official training "
              f"images (the copy on this machine); expect lower accuracy than the course's "
              f"full-data figures", file=sys.stderr, flush=True)
    samples = sample_images(test_x, test_y)
    test = (test_x, test_y.numpy())   # on the CPU, in file order: the mistakes picture
    if config.train_count:
        order = torch.arange(config.train_count) % len(train_x)
        train_x, train_y = train_x[order], train_y[order]

    torch.set_num_threads(threads_for(config.net))
    set_seed(config.seed)
    net, notes = build(config.net, config.hid)
    net = net.to(device)
    notes += check_contract(net, config.net, train_x[:PROBE_IMAGES].to(device))
    for line in notes:
        print(line, file=sys.stderr, flush=True)
    counts = parameter_counts(net)
    print(counts, flush=True)
    atomic_write_text(out.params, counts)
    record = RunWriter(KuzuRun, config, KuzuResults(
        net=type(net).__name__, train_images=len(train_x), available_train_images=available,
        test_images=len(test_y), parameters=sum(p.numel() for p in net.parameters())),
        [config.seed])

    train_x, train_y, test_x, test_y = (t.to(device) for t in (train_x, train_y, test_x, test_y))
    fast_layout = runs_channels_last(net, train_x[:PROBE_IMAGES])
    net, (train_x, test_x) = prepare(net, [train_x, test_x], fast_layout)
    optimizer = torch.optim.SGD(net.parameters(), lr=config.lr, momentum=config.mom)

    finished = None   # (epoch, correct, confusion, state, predictions) of the last epoch
    history = []      # ('train', epoch, batch, seen, loss, '', '') / ('test', ...)
    try:
        for epoch in range(1, config.epochs + 1):
            for batch, seen, loss in train_epoch(net, optimizer, train_x, train_y, epoch):
                history.append(('train', epoch, batch, seen, loss, None, None))
            loss_sum, correct, confusion, predicted = evaluate(net, test_x, test_y,
                                                               predictions=True)
            check_finite(loss_sum, f'the test after epoch {epoch}')
            state = ({k: v.detach().clone() for k, v in net.state_dict().items()}
                     if out.save else None)
            finished = (epoch, correct, confusion, state, predicted)
            n = len(test_y)
            history.append(('test', epoch, None, None, loss_sum / n, correct, 100. * correct / n))
            record.results.epochs.append(EpochTest(epoch, loss_sum / n, correct,
                                                   100. * correct / n))
            print_test(loss_sum, correct, confusion, n)
    except Interrupted:
        if finished is None:
            record.write(out.record, 'interrupted')
            raise
        print(f'\ninterrupted after epoch {finished[0]} of {config.epochs}; the outputs '
              f'hold that epoch', file=sys.stderr, flush=True)
        write_outputs(out, net, finished, history, samples, test, len(train_x), available,
                      record, 'interrupted')
        raise
    write_outputs(out, net, finished, history, samples, test, len(train_x), available,
                  record, 'finished')
    return 0


def write_outputs(out, net, finished, history, samples, test, train_count, available,
                  record, status):
    epoch, correct, confusion, state, predicted = finished
    test_images, test_labels = test
    n = len(test_labels)
    print(confused_lines(confusion), flush=True)
    write_confusion_csv(confusion, out.confusion_csv)
    write_history_csv(history, out.history)
    accuracy = 100. * correct / n
    name = type(net).__name__
    trained_on = '' if available >= FULL_TRAIN else \
        f'\ntrained on {available:,} of the {FULL_TRAIN:,} official training images'
    title = (f'{name} on the KMNIST test set: accuracy {accuracy:.2f}% '
             f'({correct}/{n}), epoch {epoch}{trained_on}')
    plot_confusion(confusion, out.confusion_jpg, title, samples)
    plot_curve(history, train_count, out.curve,
               f'{name} training: loss and test accuracy (final {accuracy:.2f}%)')
    mistakes = choose_mistakes(confusion, predicted, test_labels)
    plot_mistakes(test_images, test_labels, predicted, mistakes, out.mistakes,
                  f'{name}, epoch {epoch}: the three most confused pairs, test images '
                  f'(red) beside typical ones of both classes')
    written = [out.params, out.confusion_csv, out.confusion_jpg, out.history, out.curve,
               out.mistakes]
    if out.save:
        atomic_torch_save({k: v.cpu().contiguous() for k, v in state.items()}, out.save)
        config = record.record.config
        takes_hid = config.net == 'full' and takes_hidden_size(type(net))
        written += [out.save, schema.save(out.saved_net, kuzu_net.SavedNet(
            net=config.net, net_class=name,
            hid=(config.hid or FULL_HIDDEN) if takes_hid else None,
            weights=os.path.basename(out.save), epoch=epoch, accuracy=accuracy))]
    results = record.results
    results.final_epoch, results.correct, results.accuracy = epoch, correct, accuracy
    results.confusion = confusion.astype(int).tolist()
    results.files = written
    results.mistakes = [Mistake(CLASSES[t], CLASSES[p], c, [int(i) for i in idx])
                        for t, p, c, idx in mistakes]
    written.append(record.write(out.record, status))
    print('wrote ' + ', '.join(written), flush=True)
