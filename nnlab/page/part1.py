"""Part 1 of the page: the three KMNIST nets, each with its accuracy line, confusion
matrix, parameter arithmetic and pictures, then a comparison (the report's discussion)."""
import os

from nnlab.formats import kuzu_run
from nnlab.formats.kuzu_run import KuzuRun
from nnlab.kmnist.facts import CLASSES, COURSE_EPOCHS, FULL_TRAIN, NET_CLASSES, most_confused
from nnlab.page.common import figures, formatted, made_by, shortened, to_run, unreadable
from nnlab.page.doc import Heading, Pre, Table, para

WHAT = {'lin': 'a linear map of the pixels, then log-softmax',
        'full': 'one hidden tanh layer',
        'conv': 'two convolutional layers and one fully connected layer'}
TARGETS = ('The course\'s targets, with all 60,000 training images and 10 epochs: NetLin '
           'about 70%, NetFull at least 84%, NetConv at least 93%.')


def build(sources):
    blocks = [Heading(2, 'Part 1: Japanese character recognition (KMNIST)', 'part1')]
    compared = []
    found = sources.records(KuzuRun, kuzu_run.RECORDS, sources.plot_dir, 'part1')
    blocks += unreadable(sources, 'part1')
    for number, (net, name) in enumerate(NET_CLASSES.items(), 1):
        anchor = f'part1-{net}'
        blocks.append(Heading(3, f'{number}. {name}: {WHAT[net]}', anchor))
        mine = [(p, r) for p, r in found if r.config.net == net]
        if not mine:
            blocks += to_run(sources, kuzu_run.output_path(sources.plot_dir, net, 'run.json'),
                             f'kuzu_{net}')
            continue
        path, record = mine[-1]                 # the latest run of this net
        blocks += net_blocks(sources, anchor, path, record)
        compared.append((name, record))
    blocks.append(Heading(3, '4. Comparison: accuracy, parameters, confused characters',
                          'part1-compare'))
    blocks += comparison(compared)
    return blocks


def final_line(record):
    """The course's last printed line: 'Test set: Average loss: ..., Accuracy: c/n (p%)'."""
    results = record.results
    if results.correct is None or not results.test_images or not results.epochs or \
            results.epochs[-1].test_loss is None:
        return None
    correct, total = results.correct, results.test_images
    return (f"Test set: Average loss: {results.epochs[-1].test_loss:.4f}, Accuracy: "
            f"{correct}/{total} ({100. * correct / total:.0f}%)")


def pairs_text(matrix, k=3):
    return [f'{true} -> {predicted}: {count}'
            for true, predicted, count in most_confused(matrix, k)]


def shortening(record):
    """Why this run is shorter than the course's, or ''."""
    config, results = record.config, record.results
    why = []
    if config.epochs < COURSE_EPOCHS:
        epochs = config.epochs
        why.append(f'{epochs} epoch{"s" if epochs != 1 else ""} instead of {COURSE_EPOCHS}')
    count, available = config.train_count, results.available_train_images
    if count is not None and count < available:
        why.append(f'{count:,} training images an epoch instead of all {available:,}')
    return ', '.join(why)


def net_blocks(sources, anchor, path, record):
    results = record.results
    blocks = made_by(path, record) + shortened(sources, anchor, shortening(record))
    available = results.available_train_images
    if 0 < available < FULL_TRAIN:
        blocks.append(para(f'Trained on the {available:,} of the {FULL_TRAIN:,} official '
                           f'training images this machine has (the test set is the complete '
                           f'one, {results.test_images:,} images). ' + TARGETS))
    line = final_line(record)
    if line:
        caption = (f'after epoch {results.final_epoch}: accuracy {results.accuracy:.2f}%'
                   if results.accuracy is not None else 'the last test')
        blocks.append(Pre(line, f'The final accuracy line ({caption})'))
    matrix = results.confusion
    if matrix:
        header = ('true \\ predicted', *(f'{i} {n}' for i, n in enumerate(CLASSES)))
        rows = tuple((f'{i} {n}', *map(str, row))
                     for i, (n, row) in enumerate(zip(CLASSES, matrix)))
        blocks.append(Table(header, rows, 'Confusion matrix on the test set (rows: the true '
                                          'class, columns: the predicted class)', True))
        blocks.append(para('Most confused (true -> predicted): '
                           + ', '.join(pairs_text(matrix)) + '.'))
    def beside(what):          # the run's other files, where the writer put them
        return kuzu_run.output_path(os.path.dirname(path), record.config.net, what)
    params = sources.text(beside('params.txt'), limit=1_000_000)
    if params:
        blocks.append(Pre(params.rstrip('\n'), 'Independent parameters, layer by layer'))
    if len(results.epochs) > 1:
        rows = tuple((str(e.epoch), '' if e.test_loss is None else f"{e.test_loss:.4f}",
                      f"{e.accuracy:.2f}%") for e in results.epochs)
        blocks.append(Table(('epoch', 'test loss', 'test accuracy'), rows,
                            'The test after each epoch'))
    blocks += figures(sources, [(beside('confusion.jpg'), 'The confusion matrix as a heat map'),
                                (beside('curve.jpg'), 'Training and test loss, test accuracy'),
                                (beside('mistakes.jpg'), 'Test images it classified wrongly')])
    return blocks


def comparison(compared):
    if not compared:
        return [para('Nothing to compare yet: run the three nets above.', kind='note')]
    rows = []
    for name, record in compared:
        results = record.results
        worst = pairs_text(results.confusion, k=1)[0] if results.confusion else ''
        cut = ' (shortened)' if shortening(record) else ''
        rows.append((name, formatted(results.accuracy, '{:.2f}%'), f'{results.parameters:,}',
                     str(results.final_epoch or '?') + cut, worst))
    return [Table(('net', 'test accuracy', 'independent parameters', 'epochs',
                   'most confused pair'), tuple(rows), 'The three nets side by side'),
            para(TARGETS)]
