"""The recurrent models: the course's parameter names and shapes, and the spec's equations."""
import pytest
import torch

from seq_models import GRU_model, LSTM_model, SRN_model, make_model


def named_shapes(model):
    return {name: tuple(p.shape) for name, p in model.named_parameters()}


def test_parameter_names_and_shapes_follow_the_course():
    assert named_shapes(SRN_model(2, 3, 2)) == {
        'H0': (3,), 'W': (2, 3), 'U': (3, 3), 'hid_bias': (3,), 'V': (3, 2), 'out_bias': (2,)}
    assert named_shapes(LSTM_model(3, 3, 3)) == {
        'W': (3, 12), 'U': (3, 12), 'hid_bias': (12,), 'V': (3, 3), 'out_bias': (3,)}
    assert named_shapes(GRU_model(7, 2, 7)) == {
        'W': (7, 6), 'U': (2, 6), 'hid_bias': (6,), 'V': (2, 7), 'out_bias': (7,)}


def one_hot_batch(T=6, S=3, batch=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, S, (batch, T), generator=g)
    return torch.nn.functional.one_hot(idx, S).double()


def test_srn_follows_its_equation_from_tanh_h0():
    net = SRN_model(3, 2, 3, init=0.5).double()
    x = one_hot_batch()
    hidden, output = net(x)
    assert hidden.shape == (2, 6, 2) and output.shape == (2, 6, 3)
    h = torch.tanh(net.H0)
    torch.testing.assert_close(net.initial_hidden(), h)
    for t in range(6):
        h = torch.tanh(x[:, t] @ net.W + h @ net.U + net.hid_bias)
        torch.testing.assert_close(hidden[:, t], h)
    torch.testing.assert_close(output, hidden @ net.V + net.out_bias)


def test_lstm_follows_its_equations_and_returns_its_context():
    net = LSTM_model(3, 3, 3).double()
    x = one_hot_batch()
    hidden, output, ctx = net(x, context=True)
    assert set(ctx) == {'cell', 'i', 'f', 'g', 'o'}
    h = c = torch.zeros(2, 3, dtype=torch.float64)
    torch.testing.assert_close(net.initial_hidden(), torch.zeros(3, dtype=torch.float64))
    for t in range(6):
        z = x[:, t] @ net.W + h @ net.U + net.hid_bias
        i, f, g, o = z[:, :3].sigmoid(), z[:, 3:6].sigmoid(), z[:, 6:9].tanh(), z[:, 9:].sigmoid()
        c = f * c + i * g
        h = o * torch.tanh(c)
        torch.testing.assert_close(hidden[:, t], h)
        torch.testing.assert_close(ctx['cell'][:, t], c)
        torch.testing.assert_close(ctx['g'][:, t], g)
    torch.testing.assert_close(output, hidden @ net.V + net.out_bias)


def test_gru_follows_its_equations():
    net = GRU_model(3, 2, 3).double()
    x = one_hot_batch()
    hidden, _, ctx = net(x, context=True)
    assert set(ctx) == {'r', 'z', 'n'}
    h = torch.zeros(2, 2, dtype=torch.float64)
    W, U, b = net.W, net.U, net.hid_bias
    for t in range(6):
        r = torch.sigmoid(x[:, t] @ W[:, :2] + h @ U[:, :2] + b[:2])
        z = torch.sigmoid(x[:, t] @ W[:, 2:4] + h @ U[:, 2:4] + b[2:4])
        n = torch.tanh(x[:, t] @ W[:, 4:] + b[4:] + r * (h @ U[:, 4:]))
        h = (1 - z) * n + z * h
        torch.testing.assert_close(hidden[:, t], h)


def test_init_is_the_std_of_normal_weights_and_seeded():
    big = SRN_model(50, 200, 50, init=0.3, generator=torch.Generator().manual_seed(1))
    assert big.U.std().item() == pytest.approx(0.3, rel=0.05)
    assert big.U.mean().item() == pytest.approx(0.0, abs=0.01)
    again = SRN_model(50, 200, 50, init=0.3, generator=torch.Generator().manual_seed(1))
    assert torch.equal(big.U, again.U)
    lstm = LSTM_model(3, 4, 3, generator=torch.Generator().manual_seed(1))
    assert lstm.U.abs().max().item() <= 0.5          # uniform +-1/sqrt(hid)


@pytest.mark.parametrize('kind', ['srn', 'lstm', 'gru'])
def test_make_model_builds_each_kind(kind):
    net = make_model(kind, 7, 2, 7)
    assert net.kind == kind and net.num_hid == 2
    hidden, output = net(one_hot_batch(S=7).float())
    assert hidden.shape == (2, 6, 2) and output.shape == (2, 6, 7)
