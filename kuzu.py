"""Part 1: the three KMNIST classifiers of the assignment (the worked example).

Every net maps a batch of 1x28x28 images, shape (B, 1, 28, 28), to log-probabilities over
the 10 classes, shape (B, 10), so `F.nll_loss` on the output is the cross-entropy the
course trains with. The toolkit needs nothing else from this file (docs/your-code.md).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class NetLin(nn.Module):
    """A linear map of the 784 pixels to 10 scores, then log-softmax."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(28 * 28, 10)

    def forward(self, x):
        return F.log_softmax(self.fc(x.flatten(1)), dim=1)


class NetFull(nn.Module):
    """One hidden tanh layer of `hid` units, then a log-softmax output layer."""

    def __init__(self, hid=200):
        super().__init__()
        self.hid = nn.Linear(28 * 28, hid)
        self.out = nn.Linear(hid, 10)

    def forward(self, x):
        return F.log_softmax(self.out(torch.tanh(self.hid(x.flatten(1)))), dim=1)


class NetConv(nn.Module):
    """Two 3x3 conv layers and one fully connected layer (all relu), then log-softmax.

    Each conv is followed by 2x2 max-pooling and batch normalisation. Pooling comes
    before normalisation and relu: the same features (max-pooling commutes with relu),
    but normalising a quarter of the values makes a training step much cheaper. Batch
    normalisation is what lets plain SGD (lr 0.01, momentum 0.5) get far in 10 epochs.
    The layers before a batch norm have no bias: its shift does that job, and a second
    bias would be a parameter that is not independent.
    """

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, bias=False)    # 28x28 -> pool 14x14
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1, bias=False)   # 14x14 -> pool 7x7
        self.bn2 = nn.BatchNorm2d(32)
        self.fc = nn.Linear(32 * 7 * 7, 128, bias=False)
        self.bn3 = nn.BatchNorm1d(128)
        self.out = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.bn1(F.max_pool2d(self.conv1(x), 2)))
        x = F.relu(self.bn2(F.max_pool2d(self.conv2(x), 2)))
        x = F.relu(self.bn3(self.fc(x.flatten(1))))
        return F.log_softmax(self.out(x), dim=1)

