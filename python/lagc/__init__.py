"""lagc: compiled Lagrangian mechanics on numpy arrays.

Load a `.lag` source, pick a system, and evaluate, integrate or train it. States are
rows: the coordinates, then the velocities (momenta for H systems), as in
`System.inputs`. The work is done by the native module `lagc._lagc` (the Rust driver);
this module shapes arrays, names results and raises the package's exceptions.
Signatures and docs: `__init__.pyi`; user guide: docs/python.md.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from . import _lagc

__all__ = [
    "DivergedError",
    "LagError",
    "Model",
    "System",
    "Trajectory",
    "TrainResult",
    "load",
    "loads",
]

LagError = _lagc.LagError


def _diagnostics(self):
    """The located diagnostics of a LagError: dicts with line, col and message."""
    raw = getattr(self, "raw_diagnostics", [])
    return [{"line": line, "col": col, "message": msg} for line, col, msg in raw]


LagError.diagnostics = property(_diagnostics)


class DivergedError(RuntimeError):
    """A simulation whose state became non-finite (or whose implicit step failed).

    `trajectory` holds every finite row computed before the stop; in an ensemble,
    `runs` lists the indices of the runs that stopped and `trajectory` is the whole
    ensemble (each run's rows after its stop are NaN).
    """

    def __init__(self, message, trajectory, runs=()):
        super().__init__(message)
        self.trajectory = trajectory
        self.runs = list(runs)


def _overrides(set):
    if set is None:
        return []
    out = []
    for name, value in dict(set).items():
        if not isinstance(name, str):
            raise TypeError(f"set: param names are strings, got {name!r}")
        out.append((name, float(value)))
    return out


def load(path, set=None):
    """Read and check a `.lag` file; `set` overrides params as `--set` does."""
    return Model(_lagc.Model.load(os.fspath(path), _overrides(set)))


def loads(text, name="inline.lag", set=None):
    """Check `.lag` source text; `name` is the file name diagnostics show."""
    return Model(_lagc.Model.loads(text, name, _overrides(set)))


class Model:
    """A checked `.lag` source with its param overrides."""

    def __init__(self, native):
        self._native = native

    @property
    def systems(self):
        """The system names, in file order."""
        return list(self._native.systems)

    def __getitem__(self, name):
        return self.system(name)

    def system(self, name, backend="jit"):
        """The system `name` compiled with `backend` ("jit" or "interp")."""
        return System(self._native.system(name, backend), self._native)

    def __repr__(self):
        return f"<lagc.Model {self._native.name!r}: {', '.join(self.systems)}>"

    def run(self, no_train=False, quiet=True):
        """Run every simulate and train block, as `lagc run FILE` does (files are
        written relative to the current directory); one dict per report line."""
        name = self._native.name
        if not Path(name).is_file():
            raise ValueError("run needs a model loaded from a file (lagc.load), not a string")
        status, out, err = _lagc.run_file(name, no_train, quiet, list(self._native.overrides))
        if status != 0:
            text = err.strip()
            if text.startswith("Error:"):
                raise LagError(text)
            raise RuntimeError(text.removeprefix("error: "))
        reports = []
        for line in out.splitlines():
            if line and not line.startswith(" "):
                kind, _, rest = line.partition(" ")
                system, _, summary = rest.partition(":")
                reports.append({"kind": kind, "system": system, "summary": summary.strip(), "text": line})
            elif line and reports:
                reports[-1]["text"] += "\n" + line
        return reports


def _states(x, width, what="states"):
    """x as a C-contiguous float64 (n, width) array and whether it was one row."""
    a = np.asarray(x)
    if a.dtype.kind not in "fiu":
        raise ValueError(f"{what} must be numbers, got dtype {a.dtype}")
    a = np.ascontiguousarray(a, dtype=np.float64)
    if a.ndim == 1:
        if a.shape[0] != width:
            raise ValueError(f"{what}: expected {width} values, got shape {a.shape}")
        return a.reshape(1, width), True
    if a.ndim != 2 or a.shape[1] != width:
        raise ValueError(f"{what}: expected shape (n, {width}) or ({width},), got {a.shape}")
    return a, False


class Trajectory:
    """Rows at t_k = k*dt_out (dt_out defaults to dt); an ensemble of k runs has a
    leading axis k on q, v, a, multipliers, energy."""

    def __init__(self, t, q, v, a, energy, names, multipliers):
        self.t, self.q, self.v, self.a, self.energy = t, q, v, a, energy
        self.multipliers = multipliers
        self._names = names

    def to_dict(self):
        """The trajectory CSV's columns by name (t, coordinates, velocities, q''..., energy)."""
        coords, vels, outs = self._names
        cols = {"t": self.t}
        for k, name in enumerate(coords):
            cols[name] = self.q[..., k]
        for k, name in enumerate(vels):
            cols[name] = self.v[..., k]
        rates = self.a.shape[-1]
        for k, name in enumerate(outs[:rates]):
            cols[name] = self.a[..., k]
        for k, name in enumerate(outs[rates:-1]):
            cols[name] = self.multipliers[..., k]
        cols["energy"] = self.energy
        return cols

    def __len__(self):
        return len(self.t)

    def __repr__(self):
        return f"<lagc.Trajectory {self.q.shape[-2]} rows to t = {self.t[-1]:g}>"


class TrainResult:
    """The losses of `System.train` (the system's weights are updated in place).

    `loss` is the batch loss of each step; `val_loss` has one entry per step, the
    validation loss at the loss curve's points and NaN in between; `curve_steps` are
    those points; `final_val_loss` is over all validation rows after the last step."""

    def __init__(self, loss, val_steps, val_losses, final_val_loss, skipped_steps):
        self.loss = loss
        self.val_loss = np.full(len(loss), np.nan)
        for step, v in zip(val_steps, val_losses):
            if 0 < step <= len(loss):
                self.val_loss[step - 1] = v
        self.curve_steps = np.asarray(val_steps, dtype=np.int64)
        self.final_val_loss = final_val_loss
        self.skipped_steps = skipped_steps

    def __repr__(self):
        return f"<lagc.TrainResult {len(self.loss)} steps, final validation loss {self.final_val_loss:.3e}>"


class System:
    """One compiled system (see `__init__.pyi` for every method's contract)."""

    def __init__(self, native, model):
        self._s = native
        self._model = model

    name = property(lambda self: self._s.name)
    coords = property(lambda self: list(self._s.coords))
    inputs = property(lambda self: list(self._s.inputs))
    dof = property(lambda self: self._s.dof)
    params = property(lambda self: dict(self._s.params))
    learn = property(lambda self: dict(self._s.learn))
    kind = property(lambda self: self._s.kind)
    backend = property(lambda self: self._s.backend)

    @property
    def measured(self):
        return list(self._s.measured)

    @property
    def nets(self):
        return {n: (i, list(h), o, act) for n, i, h, o, act in self._s.nets}

    def __repr__(self):
        return f"<lagc.System {self.name} ({self.kind}, {self.dof} dof, {self.backend})>"

    def accel(self, states, t=None):
        return self._s.accel(states, t)

    def energy(self, states, t=None):
        return self._s.energy(states, t)

    def rhs(self, t, y):
        return self._s.rhs(t, y)

    def terms(self, states, t=None):
        x, one = _states(states, 2 * self.dof)
        tt = None if t is None else np.ascontiguousarray(np.broadcast_to(np.asarray(t, dtype=np.float64), (x.shape[0],)))
        h, m, g = self._s.terms(x, tt)
        return (h[0], m[0], g[0]) if one else (h, m, g)

    def derive(self, format="text"):
        text = self._s.derive(format)
        return json.loads(text) if format == "json" else text

    def _repr_latex_(self):
        """The equations of `derive(format="latex")` (an align* block) for notebooks."""
        lines = self._s.derive("latex").splitlines()
        return "\n".join(line for line in lines if not line.startswith("%"))

    def _init_states(self, init):
        if isinstance(init, dict):
            names = self.inputs
            y = np.zeros(len(names))
            for k, v in init.items():
                if k not in names:
                    raise KeyError(f"init: `{k}` is not a state variable of `{self.name}` (its states: {', '.join(names)})")
                y[names.index(k)] = float(v)
            return y.reshape(1, -1), True
        a = np.asarray(init)
        if a.ndim == 2 and a.shape[0] == 0:
            raise ValueError("init: no initial states")
        return _states(a, 2 * self.dof, "init")

    def simulate(self, init, t_end, dt, method="rk4", rtol=1e-9, atol=1e-9, project_init=False, dt_out=None, inputs=None):
        y0, one = self._init_states(init)
        signals = None
        if inputs is not None:
            if "t" not in inputs:
                raise ValueError("inputs needs a \"t\" array besides one array per input")
            t = [float(x) for x in np.asarray(inputs["t"], dtype=np.float64).ravel()]
            cols = [
                (str(k), [float(x) for x in np.asarray(v, dtype=np.float64).ravel()])
                for k, v in inputs.items()
                if k != "t"
            ]
            signals = (t, cols)
        runs = self._s.simulate(
            y0,
            float(t_end),
            float(dt),
            method,
            float(rtol),
            float(atol),
            bool(project_init),
            None if dt_out is None else float(dt_out),
            signals,
        )
        n = self.dof
        names = (self.coords, self.inputs[n:], list(self._s.outputs))
        # Rates (q'' or q', p') are the outputs with a prime; multipliers and energy follow.
        k = next(j for j, o in enumerate(names[2]) if "'" not in o)

        def traj(t, y, out):
            return Trajectory(t, y[:, :n], y[:, n:], out[:, :k], out[:, -1], names, out[:, k:-1])

        failed = [k for k, r in enumerate(runs) if r[3] is not None]
        if one:
            t, y, out, msg = runs[0]
            tr = traj(t, y, out)
            if msg is not None:
                raise DivergedError(f"system `{self.name}`: {msg}", tr)
            return tr
        m = max(len(r[0]) for r in runs)
        longest = next(r[0] for r in runs if len(r[0]) == m)

        def stack(parts):
            full = np.full((len(parts), m) + parts[0].shape[1:], np.nan)
            for k, p in enumerate(parts):
                full[k, : len(p)] = p
            return full

        tr = Trajectory(
            longest,
            stack([r[1][:, :n] for r in runs]),
            stack([r[1][:, n:] for r in runs]),
            stack([r[2][:, :k] for r in runs]),
            stack([r[2][:, -1] for r in runs]),
            names,
            stack([r[2][:, k:-1] for r in runs]),
        )
        if failed:
            msgs = "; ".join(f"run {k}: {runs[k][3]}" for k in failed)
            raise DivergedError(f"system `{self.name}`: {len(failed)} of {len(runs)} runs diverged ({msgs})", tr, failed)
        return tr

    def weights(self):
        return {name: np.array(data, dtype=np.float64).reshape(shape) for name, shape, data in self._s.weights()}

    def set_weights(self, weights):
        current = {name: tuple(shape) for name, shape, _ in self._s.weights()}
        tensors = []
        for name, value in dict(weights).items():
            if name not in current:
                continue
            a = np.asarray(value, dtype=np.float64)
            if a.shape != current[name]:
                raise ValueError(f"weights: `{name}` has shape {current[name]}, got {a.shape}")
            tensors.append((name, list(a.shape), a.ravel().tolist()))
        keep = {n for n, _, _ in tensors}
        tensors += [(n, list(s), d) for n, s, d in self._s.weights() if n not in keep]
        self._s.set_weights(tensors)

    def save_weights(self, path):
        self._s.save_weights(os.fspath(path))

    def load_weights(self, path):
        self._s.load_weights(os.fspath(path))

    def sample(self, n, seed=0, **ranges):
        spec = []
        for name, d in ranges.items():
            if isinstance(d, (int, float)):
                spec.append((name, "value", float(d), 0.0))
                continue
            kind, a, b = d
            spec.append((name, str(kind), float(a), float(b)))
        states, targets, _ = self._s.sample(int(n), int(seed), spec)
        return states, targets

    def train(self, data, steps, batch=32, lr=1e-3, lr_decay=1.0, loss="mse", seed=0, val=0.1,
              reg=0.0, t=None, reinit=False, progress=False):
        states, targets = data[0], data[1]
        x, _ = _states(states, 2 * self.dof)
        width = 2 * self.dof if self.kind == "H" else self.dof
        y, _ = _states(targets, width, "targets")
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"data: {x.shape[0]} states but {y.shape[0]} targets")
        tt = None if t is None else np.ascontiguousarray(np.asarray(t, dtype=np.float64))
        res = self._s.train(x, y, tt, int(steps), int(batch), float(lr), float(lr_decay), loss,
                            int(seed), float(val), float(reg), bool(reinit))
        out = TrainResult(*res)
        if progress:
            print(f"train {self.name}: {len(out.loss)} steps, final validation loss {out.final_val_loss:.3e}")
        return out

    def __reduce__(self):
        weights = [(n, list(s), list(d)) for n, s, d in self._s.weights()]
        m = self._model
        return (_rebuild, (m.text, m.name, str(m.dir), list(m.overrides), self.name, self.backend, weights))


def _rebuild(text, name, folder, overrides, system, backend, weights):
    """Recompiles a pickled System: its source, overrides, weights and backend."""
    native = _lagc.Model.loads(text, name, overrides)
    s = native.system(system, backend)
    if weights:
        s.set_weights(weights)
    return System(s, native)
