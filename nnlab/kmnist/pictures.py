"""Part 1's pictures beyond the confusion matrix: how training went, and the mistakes
themselves, so a report can say not only which characters are confused but why."""
import numpy as np

from nnlab.curves import legend_if_any
from nnlab.kmnist.facts import CLASSES
from nnlab.plotting import plt, save_figure

# The mistakes picture, in inches: one image cell, the gap between groups, the height
# of a row's heading and of the index line under an image.
CELL, GAP, HEADING, UNDER = 0.72, 0.3, 0.34, 0.2
MARGIN = 0.15
MISTAKE_FRAME = '#d62728'


def plot_curve(history, train_count, path, title):
    """`kuzu_{net}_curve.jpg`: the loss of the batches printed every 100 batches and the
    test loss per epoch (left), the test accuracy per epoch (right).

    `history` holds the rows of kuzu_{net}_history.csv: ('train', epoch, batch, seen,
    loss, None, None) and ('test', epoch, None, None, loss, correct, accuracy). A
    training point sits at its share of the epoch (epoch 1 runs from 0 to 1).
    """
    train = np.array([(e - 1 + seen / train_count, loss)
                      for kind, e, _, seen, loss, _, _ in history if kind == 'train'])
    test = np.array([(e, loss, acc) for kind, e, _, _, loss, _, acc in history
                     if kind == 'test'])
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.0))
    if len(train):
        left.plot(train[:, 0], train[:, 1], '.-', color='C0', lw=1, ms=4,
                  label='training batch (every 100 batches)')
    if len(test):
        left.plot(test[:, 0], test[:, 1], 'o-', color='C3', lw=1.8, ms=5,
                  label='test set (average, after each epoch)')
        right.plot(test[:, 0], test[:, 2], 'o-', color='C3', lw=1.8, ms=5)
        right.annotate(f'{test[-1, 2]:.2f}%', test[-1, [0, 2]], xytext=(0, 8),
                       textcoords='offset points', ha='center', fontsize=9)
        low, high = test[:, 2].min(), test[:, 2].max()
        right.set_ylim(max(0.0, low - 5), min(100.0, high + 5))
    left.set_ylabel('loss (negative log-likelihood)')
    right.set_ylabel('test accuracy (%)')
    for ax in (left, right):
        ax.set_xlabel('epoch')
        ax.set_xlim(left=0)
        ax.grid(alpha=0.3)
        # Whole epochs only: a tick at 0.5 would suggest a test there.
        ax.xaxis.get_major_locator().set_params(integer=True)
    legend_if_any(left, fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)


def _image(fig, rect, pixels, frame=None, caption=None):
    ax = fig.add_axes(rect)
    ax.imshow(np.asarray(pixels, dtype=np.float32).reshape(28, 28), cmap='gray_r',
              vmin=-1, vmax=1, interpolation='nearest')   # ink dark on white paper
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color(frame or '#bbbbbb')
        spine.set_linewidth(2.0 if frame else 0.8)
    if caption:
        ax.set_xlabel(caption, fontsize=8, labelpad=2)
    return ax


def plot_mistakes(images, labels, predictions, rows, path, title, typical=3, count=None):
    """`kuzu_{net}_mistakes.jpg`: one row per confused pair (from `choose_mistakes`):
    test images of the true class that the net called the other class (red frames,
    test-set index under each), then typical correctly classified images of both.

    `images` are the normalised test images ((N, 1, 28, 28) or (N, 28, 28)).
    """
    from nnlab.kmnist.tables import typical_correct
    count = count or max([len(idx) for *_, idx in rows] + [1])
    columns = count + 2 * typical
    width = 2 * MARGIN + columns * CELL + 2 * GAP
    row_height = HEADING + CELL + UNDER + 0.12
    height = 0.55 + max(len(rows), 1) * row_height
    fig = plt.figure(figsize=(width, height))
    fig.suptitle(title, fontsize=11, y=1 - 0.12 / height, va='top')

    def rect(x, y):                     # inches from the top left -> figure fraction
        return (x / width, 1 - (y + CELL) / height, CELL / width, CELL / height)

    def heading(x, y, text, span):
        fig.text((x + span / 2) / width, 1 - (y + HEADING - 0.08) / height, text,
                 ha='center', va='bottom', fontsize=10)

    if not rows:
        fig.text(0.5, 0.4, 'no test image was misclassified', ha='center', fontsize=11)
    for r, (true, pred, errors, indices) in enumerate(rows):
        top = 0.55 + r * row_height
        y = top + HEADING
        x = MARGIN
        heading(x, top, f'{CLASSES[true]} ({true}) read as {CLASSES[pred]} ({pred}): '
                        f'{errors} test images, {len(indices)} shown', count * CELL)
        for i, index in enumerate(indices):
            _image(fig, rect(x + i * CELL, y), images[index], MISTAKE_FRAME, f'#{index}')
        x += count * CELL + GAP
        for cls in (true, pred):
            heading(x, top, f'typical {CLASSES[cls]} ({cls}), read right', typical * CELL)
            for i, index in enumerate(typical_correct(images, predictions, labels, cls,
                                                      typical)):
                _image(fig, rect(x + i * CELL, y), images[index])
            x += typical * CELL + GAP
    return save_figure(fig, path, tight=False)
