"""What Part 1 is, without torch: the class names, the nets, the course's figures, and
which classes a confusion matrix mixes up. The scripts' flags, the training and the report
page all read them from here."""

CLASSES = ('o', 'ki', 'su', 'tsu', 'na', 'ha', 'ma', 'ya', 're', 'wo')
NETS = ('lin', 'full', 'conv')          # kuzu.py's NETS has a class for each name
NET_CLASSES = {'lin': 'NetLin', 'full': 'NetFull', 'conv': 'NetConv'}
FULL_HIDDEN = 200           # NetFull's default hidden size (a multiple of 10, as the course asks)
FULL_TRAIN = 60000          # images in the official training set
COURSE_EPOCHS = 10


def confused_pairs(confusion, k=3):
    """The k largest off-diagonal cells of a square matrix (nested lists or an array) as
    (true class, predicted class, count), ties in row order."""
    rows = [[int(v) for v in row] for row in confusion]
    cells = sorted((-rows[t][p], t, p) for t in range(len(rows)) for p in range(len(rows))
                   if t != p)
    return [(t, p, -negative) for negative, t, p in cells[:k]]


def most_confused(confusion, k=3):
    """The same as (true name, predicted name, count)."""
    return [(CLASSES[t], CLASSES[p], count) for t, p, count in confused_pairs(confusion, k)]
