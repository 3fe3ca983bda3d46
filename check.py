"""Part 2: a 2-layer perceptron on the 3x3 grid, and its hand-designed weights.

`MLP(hid, act)` is the network of the course: 2 inputs -> `hid` hidden units -> 1 output,
with the same activation (sigmoid or step) at both layers. Weights travel as a dict with
the four names below, so the built-in design, a JSON weights file (read by
nnlab/perceptron/weights.py) and a trained network all look alike.
"""
import torch
import torch.nn as nn


def heaviside(z):
    """The step function of the course: 1 where z >= 0, else 0."""
    return (z >= 0).to(z.dtype)


ACTIVATIONS = {'sig': torch.sigmoid, 'step': heaviside}
WEIGHT_NAMES = ('in_hid_weight', 'hid_bias', 'hid_out_weight', 'out_bias')


def weight_shapes(hid):
    """The shape of each named weight tensor for `hid` hidden units."""
    return {'in_hid_weight': (hid, 2), 'hid_bias': (hid,),
            'hid_out_weight': (1, hid), 'out_bias': (1,)}


# =====================================================================================
# HAND-DESIGNED WEIGHTS: a 4-hidden-unit step network that classifies all 9 points.
# (Edit them here, or put your own design in a JSON file and pass --weights FILE.)
#
# The target is 1 where x + y is odd. All four hidden units look at s = x + y and sit
# between the grid's diagonals: unit j is on when s >= j + 0.5, i.e. above the line
# x + y = j + 0.5. On the grid s is 0..4, so the units that are on are h0..h(s-1), and
# the alternating sum h0 - h1 + h2 - h3 is 1 for s = 1, 3 and 0 for s = 0, 2, 4. The
# output unit fires when that sum is above 0.5. Every point is 0.5 away from every
# threshold, which is what lets the sigmoid version (times SIG_SCALE) mimic the steps.
IN_HID_WEIGHT = [[1.0, 1.0],
                 [1.0, 1.0],
                 [1.0, 1.0],
                 [1.0, 1.0]]
HID_BIAS = [-0.5, -1.5, -2.5, -3.5]
HID_OUT_WEIGHT = [[1.0, -1.0, 1.0, -1.0]]
OUT_BIAS = [-0.5]
# For act='sig' all four are multiplied by this factor (flag --scale): the sigmoid of a
# pre-activation of +-5 is within 0.007 of the step's 0 or 1.
SIG_SCALE = 10.0
# =====================================================================================


def hand_designed_weights():
    return {'in_hid_weight': torch.tensor(IN_HID_WEIGHT), 'hid_bias': torch.tensor(HID_BIAS),
            'hid_out_weight': torch.tensor(HID_OUT_WEIGHT), 'out_bias': torch.tensor(OUT_BIAS)}


class MLP(nn.Module):
    def __init__(self, hid, act='sig'):
        super().__init__()
        if act not in ACTIVATIONS:
            raise ValueError(f"unknown activation {act!r}")
        self.act = act
        self.in_hid = nn.Linear(2, hid)
        self.hid_out = nn.Linear(hid, 1)
        self.hid = None  # hidden activations of the last forward pass, for the pictures

    @property
    def num_hid(self):
        return self.in_hid.out_features

    def forward(self, input):
        activation = ACTIVATIONS[self.act]
        self.hid = activation(self.in_hid(input))
        return activation(self.hid_out(self.hid))

    def _tensors(self):
        return {'in_hid_weight': self.in_hid.weight, 'hid_bias': self.in_hid.bias,
                'hid_out_weight': self.hid_out.weight, 'out_bias': self.hid_out.bias}

    def get_weights(self):
        """A copy of the four weight tensors, by name."""
        return {name: t.detach().clone() for name, t in self._tensors().items()}

    def load_weights(self, weights):
        """Copy the four named tensors in (their shapes must fit this network)."""
        expected = weight_shapes(self.num_hid)
        with torch.no_grad():
            for name, param in self._tensors().items():
                value = torch.as_tensor(weights[name], dtype=param.dtype)
                if tuple(value.shape) != expected[name]:
                    raise ValueError(f"{name} has shape {tuple(value.shape)}, "
                                     f"expected {expected[name]}")
                param.copy_(value)

    def set_weights(self, weights=None, scale=SIG_SCALE):
        """Load hand-designed step weights (the built-in block unless `weights` is given).

        The sigmoid network gets them multiplied by `scale`, so it mimics the step network.
        """
        weights = hand_designed_weights() if weights is None else weights
        factor = scale if self.act == 'sig' else 1.0
        self.load_weights({name: torch.as_tensor(w) * factor for name, w in weights.items()})


def accuracy(output, target):
    """Percentage of points whose output (>= 0.5 means class 1) matches the 0/1 target."""
    correct = ((output >= 0.5).to(target.dtype) == target).sum().item()
    return 100.0 * correct / target.numel()
