"""Part 1's run: load KMNIST once, train a net epoch by epoch, report and save.

`run(Config(...))` is what kuzu_main.py calls after checking its flags.
"""
import os
import sys
from dataclasses import dataclass

import torch

from kuzu import make_net
from nnlab.cli import Interrupted, stop
from nnlab.files import (
    OutputLock,
    atomic_torch_save,
    atomic_write_text,
    check_writable_file,
    ensure_dir,
    probe_temporary,
)
from nnlab.kmnist.data import CLASSES, FULL_TRAIN, default_root, load_kmnist, sample_images
from nnlab.kmnist.pictures import plot_curve, plot_mistakes
from nnlab.kmnist.report import (
    choose_mistakes,
    confused_lines,
    parameter_report,
    plot_confusion,
    write_confusion_csv,
    write_history_csv,
)
from nnlab.kmnist.train import check_finite, evaluate, prepare, print_test, threads_for, train_epoch
from nnlab.records import RunRecord
from nnlab.seeds import set_seed


@dataclass(frozen=True)
class Config:
    net: str = 'full'
    lr: float = 0.01
    mom: float = 0.5
    epochs: int = 10
    hid: int | None = None            # NetFull's hidden units (None: kuzu.FULL_HIDDEN)
    seed: int = 1
    cuda: bool = True
    data: str | None = None           # None: $KUZU_DATA, else ./data (shared copy offline)
    plot_dir: str = 'plot'
    save: str | None = None
    train_count: int | None = None
    summary: str | None = None        # the run record's path (default beside the outputs)


def output_paths(plot_dir, net_name):
    stem = os.path.join(plot_dir, f'kuzu_{net_name}')
    return {'params': f'{stem}_params.txt', 'csv': f'{stem}_confusion.csv',
            'jpg': f'{stem}_confusion.jpg', 'history': f'{stem}_history.csv',
            'curve': f'{stem}_curve.jpg', 'mistakes': f'{stem}_mistakes.jpg',
            'record': f'{stem}_run.json'}


def check_outputs(config, paths):
    """Fail on an unwritable folder or file now, not after the training."""
    probe_temporary(ensure_dir(config.plot_dir), paths['csv'])
    if config.save is not None:
        check_writable_file(config.save, '--save')
    if config.summary is not None:
        check_writable_file(config.summary, '--summary')


def subset_note(count):
    """One line, once, when the training set is a part of the official one."""
    if count >= FULL_TRAIN:
        return None
    return (f"note: training on {count:,} of the {FULL_TRAIN:,} official training images "
            f"(the copy on this machine); expect lower accuracy than the course's "
            f"full-data figures")


def run(config):
    """kuzu_main.py's work; one run at a time writes a net's outputs in a --plot_dir."""
    stop.check()                             # a Ctrl-C while torch loaded: stop here
    with OutputLock(ensure_dir(config.plot_dir), f'kuzu_{config.net}',
                    f'the kuzu_{config.net} outputs'):
        return _run(config)


def _run(config):
    paths = output_paths(config.plot_dir, config.net)
    check_outputs(config, paths)
    use_cuda = config.cuda and torch.cuda.is_available()
    device = torch.device('cuda' if use_cuda else 'cpu')

    train_x, train_y, test_x, test_y = load_kmnist(config.data or default_root(),
                                                   fallback=config.data is None)
    available = len(train_x)
    note = subset_note(available)
    if note:
        print(note, file=sys.stderr, flush=True)
    samples = sample_images(test_x, test_y)
    test = (test_x, test_y.numpy())   # on the CPU, in file order: the mistakes picture
    if config.train_count:
        order = torch.arange(config.train_count) % len(train_x)
        train_x, train_y = train_x[order], train_y[order]

    torch.set_num_threads(threads_for(config.net))
    set_seed(config.seed)
    net = make_net(config.net, config.hid).to(device)
    report = parameter_report(net)
    print(report, flush=True)
    atomic_write_text(paths['params'], report)
    record = RunRecord('kuzu_main.py', config, [config.seed])
    record.results.update(net=type(net).__name__, train_images=len(train_x),
                          available_train_images=available, test_images=len(test_y),
                          parameters=sum(p.numel() for p in net.parameters()), epochs=[])

    train_x, train_y, test_x, test_y = (t.to(device) for t in (train_x, train_y, test_x, test_y))
    net, (train_x, test_x) = prepare(net, [train_x, test_x], config.net)
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
                     if config.save else None)
            finished = (epoch, correct, confusion, state, predicted)
            n = len(test_y)
            history.append(('test', epoch, None, None, loss_sum / n, correct, 100. * correct / n))
            record.results['epochs'].append(dict(epoch=epoch, test_loss=loss_sum / n,
                                                 correct=correct, accuracy=100. * correct / n))
            print_test(loss_sum, correct, confusion, n)
    except Interrupted:
        if finished is None:
            record.write(config.summary or paths['record'], 'interrupted')
            raise
        print(f'\ninterrupted after epoch {finished[0]} of {config.epochs}; the outputs '
              f'hold that epoch', file=sys.stderr, flush=True)
        write_outputs(config, paths, net, finished, history, samples, test,
                      len(train_x), available, record, 'interrupted')
        raise
    write_outputs(config, paths, net, finished, history, samples, test, len(train_x),
                  available, record, 'finished')
    return 0


def write_outputs(config, paths, net, finished, history, samples, test, train_count,
                  available, record, status):
    epoch, correct, confusion, state, predicted = finished
    test_images, test_labels = test
    n = len(test_labels)
    print(confused_lines(confusion), flush=True)
    write_confusion_csv(confusion, paths['csv'])
    write_history_csv(history, paths['history'])
    accuracy = 100. * correct / n
    trained_on = '' if available >= FULL_TRAIN else \
        f'\ntrained on {available:,} of the {FULL_TRAIN:,} official training images'
    title = (f'{type(net).__name__} on the KMNIST test set: accuracy {accuracy:.2f}% '
             f'({correct}/{n}), epoch {epoch}{trained_on}')
    plot_confusion(confusion, paths['jpg'], title, samples)
    name = type(net).__name__
    plot_curve(history, train_count, paths['curve'],
               f'{name} training: loss and test accuracy (final {accuracy:.2f}%)')
    mistakes = choose_mistakes(confusion, predicted, test_labels)
    plot_mistakes(test_images, test_labels, predicted, mistakes, paths['mistakes'],
                  f'{name}, epoch {epoch}: the three most confused pairs, test images '
                  f'(red) beside typical ones of both classes')
    written = [paths['params'], paths['csv'], paths['jpg'], paths['history'],
               paths['curve'], paths['mistakes']]
    if config.save:
        atomic_torch_save({k: v.cpu().contiguous() for k, v in state.items()}, config.save)
        written.append(config.save)
    record.results.update(final_epoch=epoch, correct=correct, accuracy=accuracy,
                          confusion=confusion.astype(int).tolist(), files=written,
                          mistakes=[dict(true=CLASSES[t], predicted=CLASSES[p], count=c,
                                         test_images=[int(i) for i in idx])
                                    for t, p, c, idx in mistakes])
    written.append(record.write(config.summary or paths['record'], status))
    print('wrote ' + ', '.join(written), flush=True)
