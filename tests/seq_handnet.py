"""A hand-built SRN for anbn with n in 1..3 whose states are known exactly.

Units 0-5 are one-hot states of the minimal machine (+1 for the current state, -1 for the
others): S0 (start, or a string just ended), A1..A3 (A's read), R1, R2 (B's still to
come). Unit 6 counts: +0.1 per A, -0.1 per B, so it tracks the B's to come.

Each state unit j switches on when one of its predecessor states P_j is on and the symbol
that leads into j is read: with weight c/2 from each predecessor, c from the symbol and
bias c(|P_j|/2 - 1.5) its input is +c/2 exactly then and at most -c/2 otherwise.
"""
import numpy as np
import torch

import seq_models

STATES = ['S0', 'A1', 'A2', 'A3', 'R1', 'R2']
A, B = 0, 1
# state -> (symbol that leads into it, predecessors)
INTO = {'S0': (B, ['A1', 'R1']), 'A1': (A, ['S0']), 'A2': (A, ['A1']),
        'A3': (A, ['A2']), 'R1': (B, ['A2', 'R2']), 'R2': (B, ['A3'])}
# the machine: (state, symbol) -> state
DELTA = {(p, sym): s for s, (sym, preds) in INTO.items() for p in preds}
# what each state predicts next, as logits over (A, B)
SURE_A, SURE_B = [5.0, -5.0], [-5.0, 5.0]
MAYBE_MORE_A = [np.log(0.8), np.log(0.2)]
PREDICT = {'S0': SURE_A, 'A1': MAYBE_MORE_A, 'A2': MAYBE_MORE_A, 'A3': SURE_B,
           'R1': SURE_B, 'R2': SURE_B}
COUNTER = 6
GAIN = 10.0
STEP = 0.1


def hand_built_srn():
    num_hid = len(STATES) + 1
    W = np.zeros((2, num_hid))
    U = np.zeros((num_hid, num_hid))
    bias = np.zeros(num_hid)
    H0 = np.full(num_hid, -3.0)
    H0[STATES.index('S0')] = 3.0
    H0[COUNTER] = 0.0
    for j, name in enumerate(STATES):
        sym, preds = INTO[name]
        W[sym, j] = GAIN
        for p in preds:
            U[STATES.index(p), j] = GAIN / 2
        bias[j] = GAIN * (len(preds) / 2 - 1.5)
    W[A, COUNTER], W[B, COUNTER], U[COUNTER, COUNTER] = STEP, -STEP, 1.0
    # logits = h V + out_bias: with +1 for the current state, -1 for the others, these
    # give exactly that state's logits.
    target = np.array([PREDICT[s] for s in STATES])
    V = np.zeros((num_hid, 2))
    V[:len(STATES)] = target / 2
    out_bias = target.sum(0) / 2
    model = seq_models.SRN_model(2, num_hid, 2)
    with torch.no_grad():
        for name, value in dict(H0=H0, W=W, U=U, hid_bias=bias, V=V,
                                out_bias=out_bias).items():
            getattr(model, name).copy_(torch.tensor(value, dtype=torch.float32))
    return model.eval()


def known_state(hidden_row):
    """The hand state a hidden vector encodes (the unit that is on)."""
    return STATES[int(np.argmax(hidden_row[:len(STATES)]))]


# ---------------------------------------------------------------- generalisation
# A one-hot machine for a counting language that knows the strings n = 1..K exactly and
# no longer one: its K-th A state loops on A, so a string with n > K runs along the
# string K's path and predicts that string's end too early. Right exactly for n <= K.

def bounded_counter(multiples, K, gain=20.0):
    """(SRN model, unit names) right on every n <= K and on no n > K."""
    num_symbols = 1 + len(multiples)
    tails = {n: [s for phase, k in enumerate(multiples, start=1) for s in [phase] * (k * n)]
             + [A] for n in range(1, K + 1)}    # what follows the A's, final A included
    names = ['S0'] + [f'A{i}' for i in range(1, K + 1)] + \
        [(n, j) for n in range(1, K + 1) for j in range(1, len(tails[n]))]
    into = {name: [] for name in names}         # unit -> [(symbol, predecessor)]
    into['A1'].append((A, 'S0'))
    for i in range(1, K + 1):
        into[f'A{min(i + 1, K)}'].append((A, f'A{i}'))
        into[(i, 1)].append((B, f'A{i}'))
    for n, tail in tails.items():
        last = len(tail) - 1                  # (n, last): the string's last B or C read
        for j in range(1, last):
            into[(n, j + 1)].append((tail[j], (n, j)))
        into['A1'].append((A, (n, last)))
    sure = lambda s: [5.0 if x == s else -5.0 for x in range(num_symbols)]  # noqa: E731
    maybe = [np.log(0.8), np.log(0.2)] + [-5.0] * (num_symbols - 2)
    predict = {'S0': sure(A), **{f'A{i}': maybe for i in range(1, K + 1)},
               **{(n, j): sure(tails[n][j]) for n in tails for j in range(1, len(tails[n]))}}
    hid, index = len(names), {name: i for i, name in enumerate(names)}
    W, U, bias = np.zeros((num_symbols, hid)), np.zeros((hid, hid)), np.zeros(hid)
    for j, name in enumerate(names):
        symbols = {s for s, _ in into[name]}
        assert len(symbols) <= 1, name            # each unit is entered by one symbol
        if not symbols:
            bias[j] = -gain                       # S0: only the initial state
            continue
        W[symbols.pop(), j] = gain
        preds = [p for _, p in into[name]]
        for p in preds:
            U[index[p], j] = gain / 2
        bias[j] = gain * (len(preds) / 2 - 1.5)
    H0 = np.full(hid, -gain / 2)
    H0[index['S0']] = gain / 2
    target = np.array([predict[name] for name in names])
    model = seq_models.SRN_model(num_symbols, hid, num_symbols).double()
    with torch.no_grad():
        for name, value in dict(H0=H0, W=W, U=U, hid_bias=bias, V=target / 2,
                                out_bias=target.sum(0) / 2).items():
            getattr(model, name).copy_(torch.tensor(value, dtype=torch.float64))
    return model.eval(), names


def exact_counter_lstm():
    """A one-unit LSTM for anbn whose cell counts exactly (+1 per A, -1 per B: gates
    saturated to 1.0 in float64): right on every n."""
    model = seq_models.LSTM_model(2, 1, 2).double()
    big = 40.0
    with torch.no_grad():
        model.W.copy_(torch.tensor([[0.0, 0.0, big, 0.0], [0.0, 0.0, -big, 0.0]]))
        model.U.zero_()
        model.hid_bias.copy_(torch.tensor([big, big, 0.0, big]))
        # h = tanh(count): A when the count is 0, B from tanh(1) = 0.76 up
        model.V.copy_(torch.tensor([[-20.0, 0.0]]))
        model.out_bias.copy_(torch.tensor([7.6, 0.0]))
    return model.eval()
