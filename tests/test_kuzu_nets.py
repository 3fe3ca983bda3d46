"""The three nets: their shapes, outputs and the parameter report a report relies on."""
import math
import re

import pytest
import torch

from kuzu import NetConv, NetFull, NetLin
from nnlab.kmnist.nets import make_net
from nnlab.kmnist.tables import parameter_counts


def nets():
    return [NetLin(), NetFull(), NetFull(hid=30), NetConv()]


@pytest.mark.parametrize('net', nets(), ids=['lin', 'full', 'full30', 'conv'])
def test_output_is_log_probabilities_over_10_classes(net):
    net.eval()
    out = net(torch.randn(5, 1, 28, 28))
    assert out.shape == (5, 10)
    assert torch.allclose(out.exp().sum(dim=1), torch.ones(5), atol=1e-5)


def parse_report(text):
    """{layer: (terms, subtotal)} and the total line's (terms, total)."""
    layers, total = {}, None
    for line in text.strip().splitlines()[1:]:
        if re.fullmatch(r'total: \d+', line):     # one layer: no sum to show
            line = line.replace('total: ', f'total: {line.split()[1]} = ')
        m = re.fullmatch(r'(\S+): ([\d*+ ]+) = (\d+)(\s+\(.*\))?', line)
        assert m, f'unexpected report line: {line!r}'
        terms = [t.strip() for t in m.group(2).split('+')]
        if m.group(1) == 'total':
            total = (terms, int(m.group(3)))
        else:
            layers[m.group(1)] = (terms, int(m.group(3)))
    return layers, total


@pytest.mark.parametrize('net', nets(), ids=['lin', 'full', 'full30', 'conv'])
def test_parameter_counts_adds_up_to_the_nets_parameters(net):
    layers, (total_terms, total) = parse_report(parameter_counts(net))
    assert total == sum(p.numel() for p in net.parameters())
    for name, (terms, subtotal) in layers.items():
        assert sum(math.prod(int(f) for f in t.split('*')) for t in terms) == subtotal, name
        module = dict(net.named_modules())[name]
        assert subtotal == sum(p.numel() for p in module.parameters(recurse=False))
    assert [int(t) for t in total_terms] == [s for _, s in layers.values()]


def test_parameter_counts_writes_weights_inputs_first():
    report = parameter_counts(NetConv())
    assert 'conv1: 1*16*3*3 = 144' in report   # no bias before a batch norm
    assert 'bn1: 16 + 16 = 32' in report
    assert 'fc: 1568*128 = 200704' in report
    assert 'out: 128*10 + 10 = 1290' in report
    assert 'fc: 784*10 + 10 = 7850' in parameter_counts(NetLin())
    assert parameter_counts(NetLin()).endswith('\ntotal: 7850\n')   # not '7850 = 7850'
    assert 'hid: 784*50 + 50 = 39250' in parameter_counts(NetFull(hid=50))


def test_netfull_default_hidden_size_is_a_multiple_of_10():
    hid = make_net('full').hid.out_features
    assert hid % 10 == 0 and make_net('full', 70).hid.out_features == 70


def test_the_scripts_choices_are_the_nets_kuzu_defines():
    # kuzu_main.py names the nets itself, so --help needs no torch; kuzu.py defines each
    import kuzu
    import kuzu_main
    from nnlab.kmnist.facts import NET_CLASSES
    assert sorted(kuzu_main.NETS) == sorted(NET_CLASSES)
    assert all(isinstance(getattr(kuzu, cls), type) for cls in NET_CLASSES.values())

