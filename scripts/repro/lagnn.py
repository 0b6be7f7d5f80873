"""Independent numpy evaluation of lagc's learned models (for the reproductions).

Reads a lagc weights file (safetensors: `f.w{k}` of shape (fan_in, fan_out), `f.b{k}`,
learn params as 0-d tensors), evaluates an MLP with its input gradient and Hessian
(forward-mode second-order jets written out by hand, no lagc code), and from it the
accelerations of an LNN (q'' = H^-1 (dL/dq - M q')), an HNN (q' = dH/dp, p' = -dH/dq)
or a black-box `accel` net. Integrates batches of initial conditions with fixed-step RK4.

`lagc accel --weights` evaluates the same models; `check_against_lagc` compares the two.
"""

import json
import struct

import numpy as np


def load_weights(path):
    """The tensors of a safetensors file as a dict of float64 arrays."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    body = raw[8 + n :]
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        assert meta["dtype"] == "F64", (name, meta["dtype"])
        a, b = meta["data_offsets"]
        out[name] = np.frombuffer(body[a:b], dtype="<f8").reshape(meta["shape"]).copy()
    return out


def _act(name, z):
    """Activation value, first and second derivative."""
    if name == "softplus":
        s = 1.0 / (1.0 + np.exp(-z))
        return np.logaddexp(0.0, z), s, s * (1.0 - s)
    if name == "tanh":
        t = np.tanh(z)
        return t, 1 - t * t, -2 * t * (1 - t * t)
    if name == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-z))
        return s, s * (1 - s), s * (1 - s) * (1 - 2 * s)
    if name == "relu":
        return np.maximum(z, 0), (z > 0).astype(float), np.zeros_like(z)
    if name == "relu2":
        r = np.maximum(z, 0)
        return r * r, 2 * r, 2.0 * (z > 0)
    if name == "sin":
        return np.sin(z), np.cos(z), -np.sin(z)
    raise ValueError(name)


class Mlp:
    """A net `name` from a weights dict; `act` is its hidden activation."""

    def __init__(self, weights, name, act):
        self.w, self.b = [], []
        k = 0
        while f"{name}.w{k}" in weights:
            self.w.append(weights[f"{name}.w{k}"])
            self.b.append(weights[f"{name}.b{k}"])
            k += 1
        assert self.w, f"no net {name} in the weights"
        self.act = act

    def __call__(self, x):
        """Outputs (B, out) at inputs (B, in)."""
        h = x
        for k, (w, b) in enumerate(zip(self.w, self.b)):
            h = h @ w + b
            if k + 1 < len(self.w):
                h = _act(self.act, h)[0]
        return h

    def jet2(self, x, g0=None, h0=None):
        """Value (B, out), gradient (B, m, out), Hessian (B, m, m, out) with respect to m
        variables z, given the inputs x (B, in), their Jacobian g0 = dx/dz (B, m, in) and
        second derivatives h0 (B, m, m, in); by default z = x."""
        bsz, n = x.shape
        v = x
        if g0 is None:
            g0 = np.broadcast_to(np.eye(n)[None, :, :], (bsz, n, n))
        m = g0.shape[1]
        g = g0
        h = np.zeros((bsz, m, m, n)) if h0 is None else h0
        for k, (w, b) in enumerate(zip(self.w, self.b)):
            v = v @ w + b
            g = g @ w
            h = h @ w
            if k + 1 < len(self.w):
                a0, a1, a2 = _act(self.act, v)
                h = a1[:, None, None, :] * h + a2[:, None, None, :] * (
                    g[:, :, None, :] * g[:, None, :, :]
                )
                g = a1[:, None, :] * g
                v = a0
        return v, g, h


def linear_features(scale, extra=None):
    """Features x = [q, q', extra] * scale (elementwise), as a `feat` for the functions
    below; `extra` (B, e) holds per-sample params (not differentiated)."""

    def feat(q, v):
        parts = [q, v] + ([extra] if extra is not None else [])
        x = np.concatenate(parts, axis=1)
        bsz, n = x.shape
        m = q.shape[1] + v.shape[1]
        s = np.ones(n) if scale is None else np.asarray(scale, float)
        g0 = np.zeros((bsz, m, n))
        for i in range(m):
            g0[:, i, i] = s[i]
        return x * s, g0, np.zeros((bsz, m, m, n))

    return feat


def angle_features(q, v, vscale=1.0):
    """Features [cos q0, sin q0, cos q1, sin q1, ..., q' * vscale] of angles q (B, d)."""
    bsz, d = q.shape
    n = 3 * d
    x = np.zeros((bsz, n))
    g0 = np.zeros((bsz, 2 * d, n))
    h0 = np.zeros((bsz, 2 * d, 2 * d, n))
    for i in range(d):
        c, s = np.cos(q[:, i]), np.sin(q[:, i])
        x[:, 2 * i], x[:, 2 * i + 1] = c, s
        g0[:, i, 2 * i], g0[:, i, 2 * i + 1] = -s, c
        h0[:, i, i, 2 * i], h0[:, i, i, 2 * i + 1] = -c, -s
        x[:, 2 * d + i] = v[:, i] * vscale
        g0[:, d + i, 2 * d + i] = vscale
    return x, g0, h0


def lnn_accel(net, q, v, feat):
    """q'' of L = net(feat(q, q')); q, v: (B, d)."""
    d = q.shape[1]
    _, g, h = net.jet2(*feat(q, v))
    g, h = g[..., 0], h[..., 0]
    hvv = h[:, d:, d:]
    mvq = h[:, d:, :d]
    rhs = g[:, :d] - np.einsum("bij,bj->bi", mvq, v)
    return np.einsum("bij,bj->bi", np.linalg.pinv(hvv), rhs)


def lnn_energy(net, q, v, feat):
    """E = q' dL/dq' - L of L = net(feat(q, q'))."""
    d = q.shape[1]
    val, g, _ = net.jet2(*feat(q, v))
    return np.sum(v * g[:, d:, 0], axis=1) - val[:, 0]


def hnn_rates(net, q, p, feat):
    """(q', p') of H = net(feat(q, p))."""
    d = q.shape[1]
    _, g, _ = net.jet2(*feat(q, p))
    g = g[..., 0]
    return g[:, d:], -g[:, :d]


def rk4(rate, y0, t_end, dt, every=1):
    """Fixed-step RK4 of y' = rate(y) for a batch y0 (B, n); returns times and states
    (T, B, n) at every `every`-th step."""
    n = int(round(t_end / dt))
    y = y0.copy()
    ts, ys = [0.0], [y.copy()]
    for k in range(1, n + 1):
        k1 = rate(y)
        k2 = rate(y + 0.5 * dt * k1)
        k3 = rate(y + 0.5 * dt * k2)
        k4 = rate(y + dt * k3)
        y = y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        if k % every == 0 or k == n:
            ts.append(k * dt)
            ys.append(y.copy())
    return np.array(ts), np.array(ys)


def second_order(accel, d):
    """The first-order rate of y = [q, q'] for q'' = accel(q, q')."""

    def rate(y):
        q, v = y[:, :d], y[:, d:]
        return np.concatenate([v, accel(q, v)], axis=1)

    return rate
