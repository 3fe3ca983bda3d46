"""What a report needs from a finished run: confused pairs, the matrix as CSV and picture."""
import io

import numpy as np

from common import atomic_write_text
from kuzu_data import CLASSES
from plotting import plt, save_figure


def most_confused(confusion, k=3):
    """The k largest off-diagonal counts as (true name, predicted name, count), ties by order."""
    counts = np.asarray(confusion, dtype=np.int64)
    cells = [(-counts[t, p], t, p) for t in range(len(counts)) for p in range(len(counts))
             if t != p]
    return [(CLASSES[t], CLASSES[p], -neg) for neg, t, p in sorted(cells)[:k]]


def confused_lines(confusion, k=3):
    lines = ['Most confused (true -> predicted):']
    lines += [f'{true} -> {pred}: {count}' for true, pred, count in most_confused(confusion, k)]
    return '\n'.join(lines)


def write_confusion_csv(confusion, path):
    """Counts with class names: first row the predicted classes, first column the true ones."""
    counts = np.asarray(confusion, dtype=np.int64)
    out = io.StringIO()
    out.write('true\\predicted,' + ','.join(CLASSES) + '\n')
    for name, row in zip(CLASSES, counts):
        out.write(name + ',' + ','.join(map(str, row)) + '\n')
    return atomic_write_text(path, out.getvalue())


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
