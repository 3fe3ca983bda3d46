"""Part 1's tables and the confusion picture: parameter counts, confused pairs, the
confusion matrix as CSV and heat map, the training history as CSV."""
import numpy as np
import torch.nn as nn

from nnlab.files import atomic_write_text
from nnlab.kmnist.facts import CLASSES, confused_pairs, most_confused
from nnlab.plotting import plt, save_figure

BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


def confused_lines(confusion, k=3):
    lines = ['Most confused (true -> predicted):']
    lines += [f'{true} -> {pred}: {count}' for true, pred, count in most_confused(confusion, k)]
    return '\n'.join(lines)


def write_confusion_csv(confusion, path):
    """Counts with class names: first row the predicted classes, first column the true ones."""
    counts = np.asarray(confusion, dtype=np.int64)
    lines = ['true\\predicted,' + ','.join(CLASSES)]
    lines += [name + ',' + ','.join(map(str, row)) for name, row in zip(CLASSES, counts)]
    return atomic_write_text(path, '\n'.join(lines) + '\n')


HISTORY_COLUMNS = ('kind', 'epoch', 'batch', 'images_seen', 'loss', 'correct', 'accuracy')


def write_history_csv(history, path):
    """The numbers behind the training curve, as printed: a `train` row per 'Train Epoch'
    line (its batch's loss) and a `test` row per epoch (average test loss, correct,
    accuracy in %)."""
    def cell(value):
        if value is None:
            return ''
        return f'{value:.6f}' if isinstance(value, float) else str(value)
    lines = [','.join(HISTORY_COLUMNS)] + [','.join(cell(v) for v in row) for row in history]
    return atomic_write_text(path, '\n'.join(lines) + '\n')


def plot_confusion(confusion, path, title, samples=None):
    """The matrix as a heat map with counts in the cells and romaji names on both axes.

    `samples` (one 28x28 image per class, or None) are drawn beside the row labels, so a
    reader sees the character itself without a CJK font. Colours follow the square root
    of the counts, so the small off-diagonal errors stay visible next to the diagonal.
    """
    from matplotlib.colors import PowerNorm
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    counts = np.asarray(confusion, dtype=np.int64)
    n = len(counts)
    fig, ax = plt.subplots(figsize=(8.4, 7.2))
    image = ax.imshow(counts, cmap='Blues', norm=PowerNorm(0.5, vmin=0, vmax=max(1, counts.max())))
    threshold = 0.35 * counts.max()
    for t in range(n):
        for p in range(n):
            ax.text(p, t, str(counts[t, p]), ha='center', va='center', fontsize=8,
                    color='white' if counts[t, p] > threshold else 'black')
    ax.set_xticks(range(n), [f'{name}\n{i}' for i, name in enumerate(CLASSES)])
    ax.set_yticks(range(n), [f'{i} {name}' for i, name in enumerate(CLASSES)])
    ax.set_xlabel('predicted class')
    ax.set_ylabel('true class')
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label='count')
    if samples is not None:
        ax.tick_params(axis='y', pad=30)   # room for the images between labels and axis
        for row, img in enumerate(samples):
            if img is None:
                continue
            thumb = OffsetImage(np.asarray(img), cmap='gray_r', zoom=0.85)
            ax.add_artist(AnnotationBbox(thumb, (0, row), xycoords=('axes fraction', 'data'),
                                         xybox=(-3, 0), boxcoords='offset points',
                                         box_alignment=(1.0, 0.5), frameon=False,
                                         annotation_clip=False))
    return save_figure(fig, path)


def _weight_term(weight):
    """A weight tensor's size as a product, inputs first: Linear 784*10, Conv 1*16*3*3."""
    shape = list(weight.shape)
    if len(shape) >= 2:   # torch stores (out, in, ...); people write in * out * kernel
        shape[0], shape[1] = shape[1], shape[0]
    return '*'.join(map(str, shape))


def parameter_counts(net):
    """Independent (trainable) parameters layer by layer, with the arithmetic, as text.

    One line per layer, `name: weights + biases = subtotal` (e.g.
    `conv1: 1*16*3*3 + 16 = 160`), then `total: ... = N`. Batch-norm layers count their
    scale and shift; their running statistics are not trained, so they do not count.
    """
    lines = [f"{type(net).__name__}: independent parameters, layer by layer "
             f"(weights as inputs*outputs[*kernel] + biases)"]
    subtotals = []
    for name, module in net.named_modules():
        params = [(n, p) for n, p in module.named_parameters(recurse=False) if p.requires_grad]
        if not params:
            continue
        terms = [_weight_term(p) if n == 'weight' else str(p.numel()) for n, p in params]
        subtotal = sum(p.numel() for _, p in params)
        note = '   (batch-norm scale + shift)' if isinstance(module, BATCH_NORMS) else ''
        lines.append(f"{name}: {' + '.join(terms)} = {subtotal}{note}")
        subtotals.append(subtotal)
    sums = f"{' + '.join(map(str, subtotals))} = " if len(subtotals) > 1 else ''
    lines.append(f"total: {sums}{sum(subtotals)}")
    return '\n'.join(lines) + '\n'


def choose_mistakes(confusion, predictions, labels, k=3, count=6):
    """The images behind the k most confused pairs: [(true, predicted, errors, indices)],
    `indices` up to `count` test images of class `true` that the net called `predicted`,
    in test-set order (an unbiased pick; the set is not sorted by class)."""
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    rows = []
    for t, p, errors in confused_pairs(confusion, k):
        if errors == 0:
            break                       # no more mistakes to show
        wrong = np.nonzero((labels == t) & (predictions == p))[0]
        rows.append((t, p, errors, wrong[:count]))
    return rows


def typical_correct(images, predictions, labels, cls, count=3):
    """Indices of `count` correctly classified test images of class `cls` closest (in
    pixels) to the mean of them: what the net has learnt that character looks like."""
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    right = np.nonzero((labels == cls) & (predictions == cls))[0]
    if len(right) == 0:
        return right
    pixels = np.asarray(images[right], dtype=np.float32).reshape(len(right), -1)
    distance = ((pixels - pixels.mean(0)) ** 2).sum(1)
    return right[np.argsort(distance, kind='stable')[:count]]
