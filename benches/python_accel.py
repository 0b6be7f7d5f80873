"""Thread scaling and call overhead of System.accel (a script, not a pytest module).

    python benches/python_accel.py      (with the package installed, and target/release/lagc built)

Prints, one number per line after its label:
  ratio: time of one thread evaluating 2 x 200,000 double-pendulum states divided by the
         time of two threads evaluating 200,000 each at once (median of 5; about 2 on
         2 free cores when the GIL is released)
  one-state call overhead in microseconds (median of timeit over 10^5 calls)
  batched accel of 100,000 states, nanoseconds per state (median of 5), and the same
         kernel's time per state as `lagc bench --n 100000` measures it in the same run
"""

import json
import statistics
import subprocess
import threading
import time
import timeit
from pathlib import Path

import numpy as np

import lagc

ROOT = Path(__file__).resolve().parent.parent
LAG = ROOT / "examples" / "double_pendulum.lag"


def states(n, seed):
    rng = np.random.default_rng(seed)
    return np.hstack([rng.uniform(-np.pi, np.pi, (n, 2)), rng.uniform(-1, 1, (n, 2))])


def median_time(fn, reps=5):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    s = lagc.load(LAG)["double_pendulum"]
    a, b = states(200_000, 0), states(200_000, 1)
    s.accel(a)  # warm up

    def serial():
        s.accel(a)
        s.accel(b)

    def threaded():
        workers = [threading.Thread(target=s.accel, args=(x,)) for x in (a, b)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    one, two = median_time(serial), median_time(threaded)
    print(f"serial_s {one:.6f}")
    print(f"threaded_s {two:.6f}")
    print(f"ratio {one / two:.3f}")

    x1 = states(1, 2)[0]
    calls = 100_000
    per_call = [t / calls for t in timeit.repeat(lambda: s.accel(x1), number=calls, repeat=5)]
    print(f"one_state_us {statistics.median(per_call) * 1e6:.3f}")

    big = states(100_000, 3)
    py_ns = median_time(lambda: s.accel(big)) / 100_000 * 1e9
    print(f"batched_ns_per_state {py_ns:.3f}")
    cli = [str(ROOT / "target" / "release" / "lagc"), "bench", str(LAG), "--system", "double_pendulum",
           "--n", "100000", "--json"]
    cli_ns = statistics.median(json.loads(subprocess.run(cli, capture_output=True, text=True, check=True).stdout)
                               ["jit_ns_per_eval"] for _ in range(5))
    print(f"cli_kernel_ns_per_state {cli_ns:.3f}")
    print(f"python_over_cli {py_ns / cli_ns:.3f}")


if __name__ == "__main__":
    main()
