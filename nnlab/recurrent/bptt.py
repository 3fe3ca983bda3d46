"""Fast training step for the sequence models: hand-written BPTT in numpy, K runs at once.

Why: these networks have a few dozen weights, so the course's training loop (autograd over
a Python loop of time steps) spends its time in per-operation overhead, about 3.6 ms per
anb2n example. Here a time step costs 4 numpy calls (SRN) or 10 (LSTM) on preallocated
buffers; everything that does not recur (outputs, loss, weight gradients) is computed for
all time steps at once; and K independent networks share each call (their weights form
one block matrix), so K restarts cost little more than one.

Semantics are those of seq_models.py + torch.optim (tested against autograd in
tests/test_seq_train.py): per run and example, loss = mean NLL of the next symbols, one
optimiser step, weight decay added to the gradient as torch's SGD/Adam do. Arithmetic is
float64 (checkpoints are saved as float32 models).

Parameters of each run live in one flat row of theta (K, P):
    M = [U; W; hid_bias]   (hid + S + 1, gates*hid)   so that [h, one-hot x, 1] @ M = x W + h U + b
    O = [V; out_bias]      (hid + 1, S)
    H0 (hid,)              SRN only
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided
from scipy.special import expit  # scipy comes with scikit-learn

GATES = {'srn': 1, 'lstm': 4, 'gru': 3}
# np.dot without the __array_function__ dispatch layer: 0.8 instead of 1.2 us a call
DOT = getattr(np.dot, '_implementation', np.dot)


class Layout:
    """Where each parameter of one run sits in its flat row, and conversion to/from models."""

    def __init__(self, kind, num_symbols, hid):
        self.kind, self.S, self.h = kind, num_symbols, hid
        self.width = GATES[kind] * hid
        # column order of M: the model's, except the LSTM's gates i,f,g,o become i,f,o,g
        blocks = [0, 1, 3, 2] if kind == 'lstm' else range(GATES[kind])
        self.columns = np.concatenate([np.arange(b * hid, (b + 1) * hid) for b in blocks])
        self.shapes = {'M': (hid + num_symbols + 1, self.width), 'O': (hid + 1, num_symbols)}
        if kind == 'srn':
            self.shapes['H0'] = (hid,)
        self.offsets, start = {}, 0
        for name, shape in self.shapes.items():
            size = int(np.prod(shape))
            self.offsets[name] = (start, start + size)
            start += size
        self.size = start

    def views(self, flat):
        """Views (K, *shape) into flat (K, P), by block name."""
        return {name: flat[:, a:b].reshape((flat.shape[0],) + self.shapes[name])
                for name, (a, b) in self.offsets.items()}

    def pack(self, named):
        """Flat row (P,) from {name: array} in the model's names and shapes."""
        p = {name: np.asarray(value, dtype=np.float64) for name, value in named.items()}
        row = np.zeros((1, self.size))
        v = self.views(row)
        v['M'][0] = np.concatenate([p['U'], p['W'], p['hid_bias'][None]])[:, self.columns]
        v['O'][0] = np.concatenate([p['V'], p['out_bias'][None]])
        if self.kind == 'srn':
            v['H0'][0] = p['H0']
        return row[0]

    def unpack(self, row):
        """{name: array} in the model's names and shapes from a flat row."""
        v = self.views(np.asarray(row, dtype=np.float64)[None])
        h = self.h
        M = v['M'][0][:, np.argsort(self.columns)]
        named = {'U': M[:h], 'W': M[h:-1], 'hid_bias': M[-1],
                 'V': v['O'][0, :h], 'out_bias': v['O'][0, -1]}
        if self.kind == 'srn':
            named['H0'] = v['H0'][0]
        return named

    def from_model(self, model):
        return self.pack({name: t.detach().double().numpy()
                          for name, t in model.named_parameters()})

    def to_model(self, row, model):
        import torch
        named = self.unpack(row)
        with torch.no_grad():
            for name, param in model.named_parameters():
                param.copy_(torch.from_numpy(np.ascontiguousarray(named[name])))
        return model


class BlockMatrix:
    """A matrix holding run k's small (m, n) block at rows row_index[k], columns
    col_index[k] and zeros elsewhere: one np.dot then applies all K runs' weights."""

    def __init__(self, row_index, col_index, shape):
        self.mat = np.zeros(shape)
        K, m, n = row_index.shape[0], row_index.shape[1], col_index.shape[1]
        rows = np.broadcast_to(row_index[:, :, None], (K, m, n))
        cols = np.broadcast_to(col_index[:, None, :], (K, m, n))
        self.flat_index = np.ravel_multi_index((rows, cols), shape).ravel()

    def fill(self, blocks):
        np.put(self.mat, self.flat_index, blocks)
        return self.mat


class _Kernel:
    """Buffers, per-step views and block matrices for one kind of network.

    A numpy call costs about a microsecond whatever its (small) size, so a time step must
    be few calls: each step's values of all K runs sit in one vector, sections
    [hidden of run 0..K-1 | one-hot input of run 0..K-1 | a 1 per run]; gate values are
    gate-major ([i of every run | f of every run | ...]); and the K runs' weights form
    one block matrix, so a step's matrix product is a single np.dot. Buffers are (T, n),
    grown on demand and reused, with the per-step views made once.
    """

    def __init__(self, layout, K):
        self.layout, self.K = layout, K
        S, h, b = layout.S, layout.h, layout.width
        self.S, self.h, self.Kh = S, h, K * h
        self.width = K * (h + S + 1)                          # one step of X
        self.run = k = np.arange(K)[:, None]
        self.hid_pos = k * h + np.arange(h)                   # (K, h) run-major
        self.row_of_M = np.concatenate([self.hid_pos, K * h + k * S + np.arange(S),
                                        K * h + K * S + k], axis=1)  # rows of M -> X
        gate, unit = np.divmod(np.arange(b), h)
        self.col_of_M = gate * K * h + k * h + unit           # columns of M -> gate-major
        self.cap = 0
        self.symbol_ids = np.arange(S)

    def back_matrix(self, reps, row_offset=0, col_offset=0, shape=None):
        """The block matrix taking [dZ_{t+1} (gate-major), dY_t (run-major)], found at
        row_offset of a backward row, to dh_t repeated `reps` times from col_offset."""
        K, S, h, b = self.K, self.S, self.h, self.layout.width
        rows = np.concatenate([self.col_of_M, K * b + self.run * S + np.arange(S)], axis=1)
        cols = np.concatenate([r * K * h + self.hid_pos for r in range(reps)], axis=1)
        shape = shape or (K * b + K * S, reps * K * h)
        self.reps = reps
        self.back = BlockMatrix(rows + row_offset, cols + col_offset, shape)
        return self.back

    def ensure(self, T):
        if T > self.cap:
            self.cap = max(T, 2 * self.cap, 64)
            self.X = np.zeros((self.cap + 1, self.width))     # X[t] = [h_{t-1}, x_t, 1]
            self.X[:, self.width - self.K:] = 1.0
            self.ones = np.ones((self.cap, 1)).T.copy()      # (1, cap) for sums over time
            self.x_steps = list(self.X)
            self.h_steps = [x[:self.Kh] for x in self.X]
            self._allocate(self.cap)

    def set_inputs(self, inputs):
        """One-hot inputs (T, K) into X; padding (-1) gives zeros. (A padded step comes after
        its run's example has ended: no loss, so it sends back no gradient.)"""
        T, Kh = inputs.shape[0], self.Kh
        one_hot = self.X[:T, Kh:Kh + self.K * self.S].reshape(T, self.K, self.S)
        np.equal(inputs[:, :, None], self.symbol_ids, out=one_hot)

    def hidden(self, T):
        """h_0..h_{T-1} (T, K, h)."""
        return self.X[1:T + 1, :self.Kh].reshape(T, self.K, self.h)

    def run_major(self, Z, T):
        """Gate-major (T, gates*K*h) -> per run (K, T, gates*h) in M's column order."""
        gates = Z.shape[1] // self.Kh
        return Z.reshape(T, gates, self.K, self.h).transpose(2, 0, 1, 3).reshape(
            self.K, T, gates * self.h)

    def inputs_by_run(self, T):
        """(K, S, T): each run's one-hot inputs."""
        Kh, KS = self.Kh, self.K * self.S
        return self.X[:T, Kh:Kh + KS].reshape(T, self.K, self.S).transpose(1, 2, 0)

    def weight_grad(self, T, dZ, out, dZ_inputs=None):
        """dM = sum_t [h_{t-1}, x_t, 1]^T dZ_t per run; dZ gate-major (T, gates*K*h).
        (The GRU's input rows see a different dZ than its recurrent rows.)"""
        dZk = self.run_major(dZ, T)
        dXk = dZk if dZ_inputs is None else self.run_major(dZ_inputs, T)
        h, S = self.h, self.S
        h_prev = self.X[:T, :self.Kh].reshape(T, self.K, h).transpose(1, 2, 0)
        np.matmul(h_prev, dZk, out=out[:, :h])
        np.matmul(self.inputs_by_run(T), dXk, out=out[:, h:h + S])
        np.matmul(self.ones[:, :T], dXk, out=out[:, h + S:])

    def fill_back(self, p):
        """Per run [U^T; V^T] (width + S, h), tiled `reps` times, into the block matrix."""
        h = self.h
        N = np.concatenate([p['M'][:, :h].transpose(0, 2, 1),
                            p['O'][:, :h].transpose(0, 2, 1)], axis=1)
        return self.back.fill(np.tile(N, (1, 1, self.reps)) if self.reps > 1 else N)


class SRNKernel(_Kernel):

    def __init__(self, layout, K):
        super().__init__(layout, K)
        self.fwd = BlockMatrix(self.row_of_M, self.col_of_M, (self.width, self.Kh))
        self.back_matrix(reps=1)

    def _allocate(self, cap):
        Kh, KS = self.Kh, self.K * self.S
        self.D = np.zeros((cap, Kh))                      # 1 - h_t^2
        self.G = np.zeros((cap + 1, Kh + KS))             # G[j] = [dZ_j, dY_{j-1}]
        self.tmp = np.zeros(Kh)
        self.d_steps, self.g_steps = list(self.D), list(self.G)
        self.dz_steps = [g[:Kh] for g in self.G]

    def forward(self, p, inputs):
        T = inputs.shape[0]
        self.ensure(T)
        self.set_inputs(inputs)
        self.X[0, :self.Kh] = np.tanh(p['H0']).ravel()
        M, dot, tanh = self.fwd.fill(p['M']), DOT, np.tanh
        for x_t, h_next in zip(self.x_steps[:T], self.h_steps[1:T + 1]):
            dot(x_t, M, out=h_next)
            tanh(h_next, out=h_next)
        return self.hidden(T)

    def backward(self, p, dY, g):
        """dY (T, K*S) = dLoss/dlogits; writes dM and dH0 into g (dO is done outside)."""
        T, Kh = dY.shape[0], self.Kh
        N = self.fill_back(p)
        H = self.X[1:T + 1, :Kh]
        np.subtract(1.0, H * H, out=self.D[:T])
        self.G[T, :Kh] = 0.0
        self.G[1:T + 1, Kh:] = dY
        dot, multiply, tmp = DOT, np.multiply, self.tmp
        steps = zip(self.g_steps[T:0:-1], self.d_steps[T - 1::-1], self.dz_steps[T - 1::-1])
        for g_next, d, dz in steps:                      # t = T-1 .. 0
            dot(g_next, N, out=tmp)                       # dh_t = dZ_{t+1} U^T + dY_t V^T
            multiply(tmp, d, out=dz)                      # dZ_t = dh_t * (1 - h_t^2)
        dZ = self.G[:T, :Kh]
        self.weight_grad(T, dZ, g['M'])
        h0 = self.X[0, :Kh].reshape(self.K, self.h)
        dh0 = np.matmul(dZ[0].reshape(self.K, 1, self.h),
                        p['M'][:, :self.h].transpose(0, 2, 1))[:, 0]
        g['H0'][:] = dh0 * (1.0 - h0 * h0)


class LSTMKernel(_Kernel):
    """Gate sections i, f, o, g (Layout reorders the model's i, f, g, o), so one expit
    call covers the sigmoid gates and [i, f] * [g, c_prev] is one call."""

    def __init__(self, layout, K):
        super().__init__(layout, K)
        self.fwd = BlockMatrix(self.row_of_M, self.col_of_M, (self.width, 4 * self.Kh))
        self.back_matrix(reps=4)             # [dZ_{t+1}, dY_t] -> dh_t, 4 times

    def _allocate(self, cap):
        Kh, KS = self.Kh, self.K * self.S
        # A[t] = [i, f, o, g, c_{t-1}] of step t; c_{-1} = 0 stays in A[0]
        self.A = np.zeros((cap + 1, 5 * Kh))
        self.TC = np.zeros((cap, Kh))                     # tanh(c_t)
        self.prod = np.zeros(2 * Kh)
        A = self.A
        self.z_steps = [a[:4 * Kh] for a in A]
        self.sig_steps = [a[:3 * Kh] for a in A]
        self.g_steps = [a[3 * Kh:4 * Kh] for a in A]
        self.if_steps = [a[:2 * Kh] for a in A]
        self.gc_steps = [a[3 * Kh:] for a in A]           # [g, c_prev]
        self.o_steps = [a[2 * Kh:3 * Kh] for a in A]
        self.c_steps = [a[4 * Kh:] for a in A]
        self.tc_steps = list(self.TC)
        # backward: one dot, one multiply, one add per step.
        #   W_t = [dc, dc, dh, dc]_t multiplies each gate's derivative: dZ_t = W_t * PP_t,
        #   and W_t = W_{t+1} * FF[t,0] + dh_t * FF[t,1]  (dc_t = dc_{t+1} f_{t+1} + dh_t R_t).
        #   So [W_t, dZ_t] = W_{t+1} * FFP[t,0] + dh_t * FFP[t,1] with FFP = [FF, FF * PP].
        # Row B[j] = [W_j, dZ_j, dY_{j-1}, dh_{j-1} x4]: the dot reads [dZ, dY] and writes dh;
        # a strided view pairs W_{t+1} with dh_t for the multiply.
        row = 8 * Kh + KS + 4 * Kh
        self.B = np.zeros((cap + 1, row))
        self.FFP = np.zeros((cap, 2, 2, 4 * Kh))             # [W or dh][FF or FF*PP]
        self.FFP.reshape(cap, 2, 2, 4, Kh)[:, 1, 0, 2] = 1.0   # o section: 0*dc + 1*dh
        self.PP = np.zeros((cap, 4 * Kh))
        self.q = np.zeros((2, 2, 4 * Kh))
        B = self.B
        self.dzdy_steps = [b[4 * Kh:8 * Kh + KS] for b in B]
        self.dh_steps = [b[8 * Kh + KS:] for b in B]
        self.wdh_steps = [as_strided(b, shape=(2, 1, 4 * Kh),
                                     strides=((8 * Kh + KS) * b.itemsize, 0, b.itemsize))
                          for b in B]
        self.ffp_steps = list(self.FFP)
        self.wdz_steps = [b[:8 * Kh].reshape(2, 4 * Kh) for b in B]

    def forward(self, p, inputs):
        T = inputs.shape[0]
        self.ensure(T)
        self.set_inputs(inputs)
        M = self.fwd.fill(p['M'])
        dot, tanh, multiply, add = DOT, np.tanh, np.multiply, np.add
        Kh = self.Kh
        prod, p_ig, p_fc = self.prod, self.prod[:Kh], self.prod[Kh:]
        steps = zip(self.x_steps[:T], self.z_steps[:T], self.sig_steps[:T], self.g_steps[:T],
                    self.if_steps[:T], self.gc_steps[:T], self.c_steps[1:T + 1],
                    self.tc_steps[:T], self.o_steps[:T], self.h_steps[1:T + 1])
        for x, z, sig, g, i_f, g_c, c_next, tc, o, h_next in steps:
            dot(x, M, out=z)
            expit(sig, out=sig)
            tanh(g, out=g)
            multiply(i_f, g_c, out=prod)                  # [i*g, f*c_prev]
            add(p_ig, p_fc, out=c_next)
            tanh(c_next, out=tc)
            multiply(o, tc, out=h_next)
        return self.hidden(T)

    def backward(self, p, dY, g):
        T, Kh = dY.shape[0], self.Kh
        A = self.A[:T + 1].reshape(T + 1, 5, Kh)
        sig, g_act, tc = A[:T, :3], A[:T, 3], self.TC[:T]
        # PP = (derivative of each gate's activation) * (what it multiplies)
        PP = self.PP[:T].reshape(T, 4, Kh)
        np.multiply(sig, sig, out=PP[:, :3])
        np.subtract(sig, PP[:, :3], out=PP[:, :3])          # i(1-i), f(1-f), o(1-o)
        np.multiply(g_act, g_act, out=PP[:, 3])
        np.subtract(1.0, PP[:, 3], out=PP[:, 3])            # 1 - g^2
        PP[:, :2] *= A[:T, 3:5]                             # * g, * c_prev
        PP[:, 2] *= tc
        PP[:, 3] *= A[:T, 0]                                # * i
        # FF: dc_t = dc_{t+1} f_{t+1} + dh_t o_t (1 - tanh(c_t)^2); the o section holds
        # the constants 0 and 1 set at allocation, so it passes dh_t through
        FFP = self.FFP[:T].reshape(T, 2, 2, 4, Kh)
        FF = FFP[:, :, 0]
        FF[:T - 1, 0, :2] = A[1:T, None, 1]
        FF[:T - 1, 0, 3] = A[1:T, 1]
        FF[T - 1, 0] = 0.0                                  # no step after the last
        R = FF[:, 1, 3]
        np.multiply(tc, tc, out=R)
        np.subtract(1.0, R, out=R)
        R *= A[:T, 2]                                       # o (1 - tanh(c)^2)
        FF[:, 1, :2] = R[:, None]
        np.multiply(FF, PP[:, None], out=FFP[:, :, 1])
        N = self.fill_back(p)
        self.B[T, :8 * Kh] = 0.0                            # W_T = dZ_T = 0
        self.B[1:T + 1, 8 * Kh:8 * Kh + self.K * self.S] = dY
        dot, multiply, add = DOT, np.multiply, np.add
        q, q0, q1 = self.q, self.q[0], self.q[1]
        steps = zip(self.dzdy_steps[T:0:-1], self.dh_steps[T:0:-1], self.wdh_steps[T:0:-1],
                    self.ffp_steps[T - 1::-1], self.wdz_steps[T - 1::-1])
        for dz_dy, dh, w_dh, ffp, wdz in steps:          # t = T-1 .. 0
            dot(dz_dy, N, out=dh)                         # dh_t = dZ_{t+1} U^T + dY_t V^T
            multiply(w_dh, ffp, out=q)
            add(q0, q1, out=wdz)                          # [W_t, dZ_t]
        self.weight_grad(T, self.B[:T, 4 * Kh:8 * Kh], g['M'])


class GRUKernel(_Kernel):
    """Gate sections r, z, n; n = tanh(x W_n + b_n + r * (h U_n)), h' = (1-z) n + z h."""

    def __init__(self, layout, K):
        super().__init__(layout, K)
        self.rec = BlockMatrix(self.hid_pos, self.col_of_M, (self.Kh, 3 * self.Kh))
        self.back_matrix(reps=3)

    def _allocate(self, cap):
        Kh, KS = self.Kh, self.K * self.S
        self.XW = np.zeros((cap, 3 * Kh))                 # x W + b, all steps at once
        self.HU = np.zeros((cap, 3 * Kh))                 # h_{t-1} U
        self.RZ = np.zeros((cap, 2 * Kh))
        self.Nn = np.zeros((cap, Kh))
        self.tmp = np.zeros(Kh)
        # backward, dh kept 3 times over so that dZU_t = DH3_t * AA_t needs no broadcast
        self.AA = np.zeros((cap, 3 * Kh))
        self.Z3 = np.zeros((cap, 3 * Kh))                 # z_{t+1}, 3 times
        self.G = np.zeros((cap + 1, 3 * Kh + KS))         # G[j] = [dZU_j, dY_{j-1}]
        self.DH3 = np.zeros((cap + 1, 3 * Kh))
        self.part = np.zeros(3 * Kh)
        self.tmp3 = np.zeros(3 * Kh)
        self.hu_steps, self.rz_steps, self.n_steps = list(self.HU), list(self.RZ), list(self.Nn)
        self.xw_rz = [x[:2 * Kh] for x in self.XW]
        self.xw_n = [x[2 * Kh:] for x in self.XW]
        self.hu_rz = [x[:2 * Kh] for x in self.HU]
        self.hu_n = [x[2 * Kh:] for x in self.HU]
        self.r_steps = [x[:Kh] for x in self.RZ]
        self.z_steps = [x[Kh:] for x in self.RZ]
        self.g_steps, self.dh3_steps = list(self.G), list(self.DH3)
        self.z3_steps, self.aa_steps = list(self.Z3), list(self.AA)
        self.dzu_steps = [g[:3 * Kh] for g in self.G]

    def forward(self, p, inputs):
        T = inputs.shape[0]
        self.ensure(T)
        self.set_inputs(inputs)
        M, h, S = p['M'], self.h, self.S
        xw = np.matmul(self.inputs_by_run(T).transpose(0, 2, 1), M[:, h:h + S])
        xw += M[:, h + S:]                                          # (K, T, 3h)
        self.XW[:T] = xw.reshape(self.K, T, 3, h).transpose(1, 2, 0, 3).reshape(T, -1)
        U = self.rec.fill(M[:, :self.h])
        dot, tanh, multiply, add, subtract = DOT, np.tanh, np.multiply, np.add, np.subtract
        tmp = self.tmp
        steps = zip(self.h_steps[:T], self.h_steps[1:T + 1], self.hu_steps[:T],
                    self.xw_rz[:T], self.hu_rz[:T], self.xw_n[:T], self.hu_n[:T],
                    self.rz_steps[:T], self.r_steps[:T], self.z_steps[:T], self.n_steps[:T])
        for h_prev, h_next, hu, xw_rz, hu_rz, xw_n, hu_n, rz, r, z, n in steps:
            dot(h_prev, U, out=hu)
            add(xw_rz, hu_rz, out=rz)
            expit(rz, out=rz)
            multiply(r, hu_n, out=n)
            add(n, xw_n, out=n)
            tanh(n, out=n)
            subtract(h_prev, n, out=tmp)
            multiply(tmp, z, out=tmp)
            add(tmp, n, out=h_next)                       # h = n + z (h_prev - n)
        return self.hidden(T)

    def backward(self, p, dY, g):
        T, Kh = dY.shape[0], self.Kh
        r, z = self.RZ[:T, :Kh], self.RZ[:T, Kh:]
        n, hun = self.Nn[:T], self.HU[:T, 2 * Kh:]
        h_prev = self.X[:T, :Kh]
        An = (1.0 - z) * (1.0 - n * n)                    # d h / d (n pre-activation)
        self.AA[:T, :Kh] = An * hun * r * (1.0 - r)
        self.AA[:T, Kh:2 * Kh] = (h_prev - n) * z * (1.0 - z)
        self.AA[:T, 2 * Kh:] = An * r                     # towards h U_n
        self.Z3[:T - 1] = np.tile(z[1:], (1, 3))
        self.Z3[T - 1] = 0.0
        N = self.fill_back(p)
        self.G[T, :3 * Kh] = 0.0
        self.G[1:T + 1, 3 * Kh:] = dY
        self.DH3[T] = 0.0
        dot, multiply, add = DOT, np.multiply, np.add
        part, tmp3 = self.part, self.tmp3
        steps = zip(self.g_steps[T:0:-1], self.dh3_steps[T:0:-1], self.z3_steps[T - 1::-1],
                    self.dh3_steps[T - 1::-1], self.aa_steps[T - 1::-1],
                    self.dzu_steps[T - 1::-1])
        for g_next, dh_next, z_next, dh, aa, dzu in steps:   # t = T-1 .. 0
            dot(g_next, N, out=part)                      # dZU_{t+1} U^T + dY_t V^T
            multiply(dh_next, z_next, out=tmp3)
            add(part, tmp3, out=dh)                       # dh_t (3 times)
            multiply(dh, aa, out=dzu)
        dZU = self.G[:T, :3 * Kh]
        dZX = dZU.copy()
        dZX[:, 2 * Kh:] = self.DH3[:T, :Kh] * An          # W_n, b_n see the whole n input
        self.weight_grad(T, dZU, g['M'], dZ_inputs=dZX)


KERNELS = {'srn': SRNKernel, 'lstm': LSTMKernel, 'gru': GRUKernel}


class BatchedNet:
    """K networks of one kind: forward for checks, loss and gradients for training."""

    def __init__(self, kind, num_symbols, hid, K):
        self.layout = Layout(kind, num_symbols, hid)
        self.kernel = KERNELS[kind](self.layout, K)
        self.K, self.S, self.h = K, num_symbols, hid
        self.grad = np.zeros((K, self.layout.size))
        self.grad_views = self.layout.views(self.grad)
        k = np.arange(K)[:, None]
        self.out_block = BlockMatrix(self.kernel.hid_pos, k * self.S + np.arange(self.S),
                                     (K * hid, K * num_symbols))
        self.sum_block = np.kron(np.eye(K), np.ones((num_symbols, 1)))   # (K*S, K)
        self.spread_block = self.sum_block.T.copy()                       # (K, K*S)
        self.symbol_ids = np.arange(num_symbols)
        self.cap = 0

    def target_positions(self, targets):
        """Flat positions in a (T, K*S) array of each run's target symbol (padding -> 0)."""
        T = targets.shape[0]
        if T > self.cap:
            self.cap = max(T, 2 * self.cap, 64)
            self.target_base = (np.arange(self.cap)[:, None] * self.K * self.S
                                + np.arange(self.K) * self.S)
        return self.target_base[:T] + np.maximum(targets, 0)

    def _probs(self, p, T):
        """Logits (T, K*S) of every step and the softmax normaliser (T, K)."""
        H = self.kernel.X[1:T + 1, :self.kernel.Kh]
        logits = np.dot(H, self.out_block.fill(p['O'][:, :-1]))
        logits += p['O'][:, -1].ravel()
        e = np.exp(logits)          # |h| <= 1, so logits stay far from overflow
        total = np.dot(e, self.sum_block)
        e *= np.dot(1.0 / total, self.spread_block)
        return logits, e, total

    def views(self, theta):
        """Parameter views of theta, cached while the same array is passed in."""
        if theta is not getattr(self, '_theta', None):
            self._theta, self._views = theta, self.layout.views(theta)
        return self._views

    def forward(self, theta, inputs):
        """inputs (T, K) symbol indices (-1 = padding). Returns hidden (K,T,h), probs (K,T,S)."""
        p = self.views(theta)
        T = inputs.shape[0]
        H = self.kernel.forward(p, inputs)
        _, probs, _ = self._probs(p, T)
        return (H.transpose(1, 0, 2).copy(),
                probs.reshape(T, self.K, self.S).transpose(1, 0, 2).copy())

    def loss_and_grad(self, theta, inputs, targets, want_loss=True):
        """Mean NLL per run (K,) of targets (T, K) (-1 = padding); gradient in self.grad.
        Training does not need the loss value itself (want_loss=False skips it)."""
        p = self.views(theta)
        T = inputs.shape[0]
        H = self.kernel.forward(p, inputs)
        logits, probs, total = self._probs(p, T)
        mask = targets >= 0
        weight = mask / np.count_nonzero(mask, axis=0)    # mean over each run's positions
        loss = None
        if want_loss:
            at = self.target_positions(targets)
            loss = -(weight * (np.take(logits, at) - np.log(total))).sum(axis=0)
        dY = probs                                        # dLoss/dlogits = (p - one-hot) w
        dY.reshape(T, self.K, self.S)[:] -= np.equal(targets[:, :, None], self.symbol_ids)
        dY *= np.dot(weight, self.spread_block)
        g = self.grad_views
        dY_k = dY.reshape(T, self.K, self.S).transpose(1, 0, 2)
        np.matmul(H.transpose(1, 2, 0), dY_k, out=g['O'][:, :-1])
        g['O'][:, -1] = dY.sum(axis=0).reshape(self.K, self.S)
        self.kernel.backward(p, dY, g)
        return loss


class FlatOptimizer:
    """torch.optim.SGD / Adam (weight decay added to the gradient) on flat (K, P) rows."""

    def __init__(self, name, shape, lr, mom=0.0, weight_decay=0.0, betas=(0.9, 0.999),
                 eps=1e-8):
        self.name, self.lr, self.mom, self.wd = name, lr, mom, weight_decay
        self.b1, self.b2, self.eps = betas[0], betas[1], eps
        self.steps = 0
        self.buf = np.zeros(shape)      # SGD momentum / Adam first moment
        self.sq = np.zeros(shape)       # Adam second moment

    def step(self, theta, grad):
        if self.wd:
            grad += self.wd * theta
        self.steps += 1
        if self.name == 'sgd':
            if self.mom:
                if self.steps == 1:
                    self.buf[:] = grad
                else:
                    self.buf *= self.mom
                    self.buf += grad
                grad = self.buf
            theta -= self.lr * grad
            return
        self.buf += (1 - self.b1) * (grad - self.buf)     # torch: exp_avg.lerp_(grad, 1-b1)
        self.sq *= self.b2
        self.sq += (1 - self.b2) * grad * grad
        bias1 = 1 - self.b1 ** self.steps
        bias2_sqrt = (1 - self.b2 ** self.steps) ** 0.5
        denom = np.sqrt(self.sq) / bias2_sqrt + self.eps
        theta -= (self.lr / bias1) * self.buf / denom

