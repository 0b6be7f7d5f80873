"""Systems are shared between threads: concurrent calls give the serial results."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np

import lagc
from conftest import EXAMPLES, random_states


def test_threads_give_serial_results():
    s = lagc.load(EXAMPLES / "double_pendulum.lag")["double_pendulum"]
    batches = [random_states(s, 20000, seed=k) for k in range(8)]
    serial = [s.accel(x) for x in batches]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(s.accel, batches))
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda y0: s.simulate(y0, 1.0, 0.01).q, batches[0][:4]))
    for y0, q in zip(batches[0][:4], runs):
        np.testing.assert_array_equal(q, s.simulate(y0, 1.0, 0.01).q)
