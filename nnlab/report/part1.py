"""Part 1 of the page: the three KMNIST nets, each with its accuracy line, confusion
matrix, parameter arithmetic and pictures, then a comparison (the report's discussion)."""
import os

from nnlab.report.commands import course_command
from nnlab.report.common import figures, made_by, shortened, to_run
from nnlab.report.doc import Heading, Pre, Table, para
from nnlab.report.sources import read_text

NETS = (('lin', 'NetLin', 'a linear map of the pixels, then log-softmax'),
        ('full', 'NetFull', 'one hidden tanh layer'),
        ('conv', 'NetConv', 'two convolutional layers and one fully connected layer'))
# The same names as nnlab.kmnist.data.CLASSES, which imports torch; used only when the
# confusion CSV (which carries the names) is missing.
CLASSES = ('o', 'ki', 'su', 'tsu', 'na', 'ha', 'ma', 'ya', 're', 'wo')
FULL_TRAIN, COURSE_EPOCHS = 60000, 10
TARGETS = ('The course\'s targets, with all 60,000 training images and 10 epochs: NetLin '
           'about 70%, NetFull at least 84%, NetConv at least 93%.')


def build(sources):
    blocks = [Heading(2, 'Part 1: Japanese character recognition (KMNIST)', 'part1')]
    compared = []
    for number, (net, name, what) in enumerate(NETS, 1):
        anchor = f'part1-{net}'
        blocks.append(Heading(3, f'{number}. {name}: {what}', anchor))
        found = sources.records('kuzu_main.py', f'kuzu_{net}_run.json', sources.plot_dir)
        if not found:
            blocks += to_run(sources, f'kuzu_{net}', [course_command(f'kuzu_{net}')],
                             os.path.join(sources.plot_dir, f'kuzu_{net}_run.json'))
            continue
        path, record = found[-1]                # the latest run of this net
        blocks += net_blocks(sources, anchor, path, record)
        compared.append((name, path, record))
    blocks.append(Heading(3, '4. Comparison: accuracy, parameters, confused characters',
                          'part1-compare'))
    blocks += comparison(compared)
    return blocks


def final_line(record):
    """The course's last printed line: 'Test set: Average loss: ..., Accuracy: c/n (p%)'."""
    results = record.get('results') or {}
    epochs = results.get('epochs') or [{}]
    correct, total = results.get('correct'), results.get('test_images')
    loss = epochs[-1].get('test_loss')
    if not isinstance(correct, int) or not total or not isinstance(loss, (int, float)):
        return None
    return (f"Test set: Average loss: {loss:.4f}, Accuracy: {correct}/{total} "
            f"({100. * correct / total:.0f}%)")


def confusion_of(path, record):
    """(class names, matrix rows) from the confusion CSV beside the record, else from the
    record itself; None if neither has one."""
    text = read_text(os.path.join(os.path.dirname(path),
                                  os.path.basename(path).replace('_run.json', '_confusion.csv')))
    if text:
        lines = [line.split(',') for line in text.strip().splitlines()]
        if len(lines) > 1 and all(len(line) == len(lines[0]) for line in lines):
            try:
                return lines[0][1:], [[int(v) for v in line[1:]] for line in lines[1:]]
            except ValueError:
                pass
    matrix = (record.get('results') or {}).get('confusion')
    if isinstance(matrix, list) and len(matrix) == len(CLASSES):
        return list(CLASSES), matrix
    return None


def most_confused(names, matrix, k=3):
    """The k largest off-diagonal counts as 'true -> predicted: count' (ties in order)."""
    cells = sorted((-matrix[t][p], t, p) for t in range(len(matrix))
                   for p in range(len(matrix)) if t != p)
    return [f'{names[t]} -> {names[p]}: {-count}' for count, t, p in cells[:k]]


def shortening(record):
    """Why this run is shorter than the course's, or ''."""
    config, results = record.get('config') or {}, record.get('results') or {}
    why = []
    epochs = config.get('epochs')
    if isinstance(epochs, int) and epochs < COURSE_EPOCHS:
        why.append(f'{epochs} epoch{"s" if epochs != 1 else ""} instead of {COURSE_EPOCHS}')
    count, available = config.get('train_count'), results.get('available_train_images')
    if isinstance(count, int) and isinstance(available, int) and count < available:
        why.append(f'{count:,} training images an epoch instead of all {available:,}')
    return ', '.join(why)


def net_blocks(sources, anchor, path, record):
    results = record.get('results') or {}
    blocks = made_by(path, record)
    cut = shortening(record)
    if cut:
        blocks.append(shortened(sources, anchor, cut))
    available = results.get('available_train_images')
    if isinstance(available, int) and available < FULL_TRAIN:
        blocks.append(para(f'Trained on the {available:,} of the {FULL_TRAIN:,} official '
                           f'training images this machine has (the test set is the complete '
                           f'one, {results.get("test_images", 10000):,} images). ' + TARGETS))
    line = final_line(record)
    if line:
        accuracy = results.get('accuracy')
        caption = (f'after epoch {results.get("final_epoch")}: accuracy {accuracy:.2f}%'
                   if isinstance(accuracy, (int, float)) else 'the last test')
        blocks.append(Pre(line, f'The final accuracy line ({caption})'))
    confusion = confusion_of(path, record)
    if confusion:
        names, matrix = confusion
        header = ('true \\ predicted', *(f'{i} {n}' for i, n in enumerate(names)))
        rows = tuple((f'{i} {n}', *map(str, row)) for i, (n, row) in enumerate(zip(names, matrix)))
        blocks.append(Table(header, rows, 'Confusion matrix on the test set (rows: the true '
                                          'class, columns: the predicted class)', True))
        blocks.append(para('Most confused (true -> predicted): '
                           + ', '.join(most_confused(names, matrix)) + '.'))
    stem = path[:-len('_run.json')]
    params = read_text(stem + '_params.txt')
    if params:
        blocks.append(Pre(params.rstrip('\n'), 'Independent parameters, layer by layer'))
    epochs = results.get('epochs') or []
    if len(epochs) > 1:
        rows = tuple((str(e.get('epoch')), f"{e.get('test_loss', 0):.4f}",
                      f"{e.get('accuracy', 0):.2f}%") for e in epochs)
        blocks.append(Table(('epoch', 'test loss', 'test accuracy'), rows,
                            'The test after each epoch'))
    blocks += figures([(stem + '_confusion.jpg', 'The confusion matrix as a heat map'),
                       (stem + '_curve.jpg', 'Training and test loss, test accuracy'),
                       (stem + '_mistakes.jpg', 'Test images it classified wrongly')])
    return blocks


def comparison(compared):
    if not compared:
        return [para('Nothing to compare yet: run the three nets above.', kind='note')]
    rows = []
    for name, path, record in compared:
        results = record.get('results') or {}
        accuracy = results.get('accuracy')
        confusion = confusion_of(path, record)
        worst = most_confused(*confusion, k=1)[0] if confusion else ''
        params = results.get('parameters')
        cut = shortening(record)
        rows.append((name, f'{accuracy:.2f}%' if isinstance(accuracy, (int, float)) else '?',
                     f'{params:,}' if isinstance(params, int) else '?',
                     str(results.get('final_epoch', '?')) + (' (shortened)' if cut else ''),
                     worst))
    return [Table(('net', 'test accuracy', 'independent parameters', 'epochs',
                   'most confused pair'), tuple(rows), 'The three nets side by side'),
            para(TARGETS)]
