#!/usr/bin/env python3
"""Writes the fixture of tests/nn_fixture.rs, independently of lagc.

- nets.safetensors: the weights of the nets in nets.lag (f64; `f.w{k}` of shape
  (fan_in, fan_out), `f.b{k}` of shape (fan_out,), the learn param `k` of shape ()),
  written by hand in the safetensors layout (8-byte little-endian header length, JSON
  header, raw data), so no lagc code and no safetensors package is involved.
- lnn.csv, hybrid.csv, mixed.csv: states, and the accelerations and energy computed
  here from the Euler-Lagrange equations with finite-difference derivatives of L
  (fourth-order central differences, nested for the Hessians): q'' = H^-1 (g - M q'),
  E = q' . dL/dq' - L.

Run from anywhere: python3 tests/data/nn/make_fixture.py (numpy only).
"""
import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20240607)


def mlp_params(name, widths, scale=1.0):
    p = {}
    for k, (fi, fo) in enumerate(zip(widths[:-1], widths[1:])):
        p[f"{name}.w{k}"] = rng.normal(0.0, scale / np.sqrt(fi), size=(fi, fo))
        p[f"{name}.b{k}"] = rng.normal(0.0, 0.3, size=(fo,))
    return p


ACT = {
    "softplus": lambda z: np.logaddexp(np.longdouble(0.0), z),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
}


def mlp(p, name, act, x):
    # Extended precision (x87 long double) keeps the finite differences' rounding small.
    h = np.asarray(x, dtype=np.longdouble)
    k = 0
    while f"{name}.w{k}" in p:
        h = h @ p[f"{name}.w{k}"].astype(np.longdouble) + p[f"{name}.b{k}"].astype(np.longdouble)
        if f"{name}.w{k + 1}" in p:
            h = ACT[act](h)
        k += 1
    return h


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        a = np.array(tensors[name], dtype="<f8", order="C")  # keeps shape () for scalars
        b = a.tobytes()
        header[name] = {"dtype": "F64", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


P = {}
P.update(mlp_params("lagrangian", [4, 8, 8, 1], scale=1.2))
P.update(mlp_params("V", [1, 8, 8, 1]))
P.update(mlp_params("T", [2, 8, 1]))
P["k"] = np.array(0.75)  # replaces the initial value 0.5 of `learn k`

SYSTEMS = {
    "lnn": (
        ["t1", "t2"],
        lambda q, v: mlp(P, "lagrangian", "softplus", np.concatenate([q, v]))[0],
    ),
    "hybrid": (
        ["x"],
        lambda q, v: 0.5 * 1.5 * v[0] ** 2 - mlp(P, "V", "tanh", [q[0]])[0],
    ),
    "mixed": (
        ["a", "b"],
        lambda q, v: 0.5 * 2.0 * (v[0] ** 2 + v[1] ** 2)
        + P["k"] * mlp(P, "T", "sigmoid", [v[0], v[1] * np.cos(q[0])])[0]
        - (mlp(P, "V", "tanh", [q[0] - q[1]])[0] + mlp(P, "V", "tanh", [2 * q[0]])[0]),
    ),
}

H = np.longdouble(1e-3)
STENCIL = [(-2, 1.0), (-1, -8.0), (1, 8.0), (2, -1.0)]  # / (12 h)


def d1(f, x, i):
    e = np.zeros_like(x)
    e[i] = H
    return sum(c * f(x + s * e) for s, c in STENCIL) / (12 * H)


def d2(f, x, i, j):
    return d1(lambda y: d1(f, y, j), x, i)


def accel_energy(lag, n, state):
    f = lambda x: lag(x[:n], x[n:])
    x = np.asarray(state, dtype=np.longdouble)
    g = np.array([d1(f, x, i) for i in range(n)])
    p = np.array([d1(f, x, n + i) for i in range(n)])
    Hm = np.array([[d2(f, x, n + i, n + j) for j in range(n)] for i in range(n)])
    M = np.array([[d2(f, x, n + i, j) for j in range(n)] for i in range(n)])
    v = x[n:]
    r = (g - M @ v).astype(np.float64)
    a = np.linalg.solve(Hm.astype(np.float64), r)
    return a, float(v @ p - f(x)), np.linalg.cond(Hm.astype(np.float64))


def main():
    write_safetensors(os.path.join(HERE, "nets.safetensors"), P)
    for name, (coords, lag) in SYSTEMS.items():
        n = len(coords)
        rows = []
        while len(rows) < 12:
            q = rng.uniform(-2.0, 2.0, size=n)
            v = rng.uniform(-1.5, 1.5, size=n)
            a, e, cond = accel_energy(lag, n, np.concatenate([q, v]))
            if cond > 50.0:  # keep well-conditioned mass matrices: the check is of the derivatives
                continue
            rows.append(list(q) + list(v) + list(a) + [e])
        header = coords + [c + "'" for c in coords] + [c + "''" for c in coords] + ["energy"]
        with open(os.path.join(HERE, f"{name}.csv"), "w") as f:
            f.write(",".join(header) + "\n")
            for r in rows:
                f.write(",".join(repr(float(c)) for c in r) + "\n")


main()
