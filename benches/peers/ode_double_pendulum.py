"""Context for `cargo bench --bench integrate`: the double pendulum (m = l = 1, g = 9.8)
from (t1, t2, t1', t2') = (1, 2, 0, 0) to t = 10 at rtol = atol = 1e-9, with SciPy's
solve_ivp (RK45, DOP853) and JAX's odeint (jit, float64, CPU), and a fixed-step rk4 in
JAX (1000 steps of 1e-3, jit + lax.fori_loop). Prints one line per method: wall time
per solve (median of repeats) and the final energy drift.

    /path/to/venv/bin/python benches/peers/ode_double_pendulum.py
"""
import time

import numpy as np
from scipy.integrate import solve_ivp

G = 9.8


def accel_np(t, y):
    t1, t2, w1, w2 = y
    s, c = np.sin(t1 - t2), np.cos(t1 - t2)
    den = 2.0 - c * c
    a1 = (-2 * G * np.sin(t1) - s * (w2 * w2 + w1 * w1 * c) + G * c * np.sin(t2)) / den
    a2 = (2 * w1 * w1 * s - 2 * G * np.sin(t2) + 2 * G * np.sin(t1) * c + w2 * w2 * s * c) / den
    return np.array([w1, w2, a1, a2])


def energy(y):
    t1, t2, w1, w2 = y
    return w1 * w1 + 0.5 * w2 * w2 + w1 * w2 * np.cos(t1 - t2) - 2 * G * np.cos(t1) - G * np.cos(t2)


def median_time(f, repeats=5):
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = f()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts)), out


Y0 = np.array([1.0, 2.0, 0.0, 0.0])
E0 = energy(Y0)

for method in ["RK45", "DOP853"]:
    t, sol = median_time(
        lambda: solve_ivp(accel_np, (0.0, 10.0), Y0, method=method, rtol=1e-9, atol=1e-9)
    )
    print(
        f"scipy solve_ivp {method}: {t * 1e3:.1f} ms, {sol.t.size - 1} steps, "
        f"energy drift {abs(energy(sol.y[:, -1]) - E0) / abs(E0):.2e}"
    )

try:
    import jax
    import jax.numpy as jnp
    from jax.experimental.ode import odeint

    jax.config.update("jax_enable_x64", True)

    def accel_jax(y, t):
        t1, t2, w1, w2 = y
        s, c = jnp.sin(t1 - t2), jnp.cos(t1 - t2)
        den = 2.0 - c * c
        a1 = (-2 * G * jnp.sin(t1) - s * (w2 * w2 + w1 * w1 * c) + G * c * jnp.sin(t2)) / den
        a2 = (2 * w1 * w1 * s - 2 * G * jnp.sin(t2) + 2 * G * jnp.sin(t1) * c + w2 * w2 * s * c) / den
        return jnp.array([w1, w2, a1, a2])

    ts = jnp.array([0.0, 10.0])
    solve = jax.jit(lambda y0: odeint(accel_jax, y0, ts, rtol=1e-9, atol=1e-9))
    y0 = jnp.array(Y0)
    t0 = time.perf_counter()
    solve(y0).block_until_ready()
    compile_s = time.perf_counter() - t0
    t, out = median_time(lambda: solve(y0).block_until_ready())
    print(
        f"jax odeint (jit): {t * 1e3:.2f} ms (first call with compile {compile_s:.2f} s), "
        f"energy drift {abs(energy(np.array(out[-1])) - E0) / abs(E0):.2e}"
    )

    H = 1e-3

    def rk4_step(i, y):
        k1 = accel_jax(y, 0.0)
        k2 = accel_jax(y + H / 2 * k1, 0.0)
        k3 = accel_jax(y + H / 2 * k2, 0.0)
        k4 = accel_jax(y + H * k3, 0.0)
        return y + H / 6 * (k1 + 2 * (k2 + k3) + k4)

    rk4 = jax.jit(lambda y0: jax.lax.fori_loop(0, 1000, rk4_step, y0))
    rk4(y0).block_until_ready()
    t, _ = median_time(lambda: rk4(y0).block_until_ready(), repeats=20)
    print(f"jax rk4 (jit, fori_loop): {1000 / t:.3e} steps/s")
except ImportError:
    print("jax not installed: skipped")
