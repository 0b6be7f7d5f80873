"""Data for examples/driven_pendulum.lag and tests/it/inputs.rs.

Writes tests/data/inputs/drive.csv: a known torque u(t) = 3 sin(1.3 t) + 2 sin(2.9 t)
sampled every 0.01 s on [0, 20] (columns t, u). Then, given the truth's trajectory
(`lagc run examples/driven_pendulum.lag` writes driven_pendulum_truth.csv), keeps only
t, theta and u of it as tests/data/inputs/driven_pendulum.csv: the measurements a
system identification starts from (velocities and accelerations are estimated).

    python3 scripts/make_driven_pendulum_data.py drive
    lagc run examples/driven_pendulum.lag --no-train     # writes driven_pendulum_truth.csv
    python3 scripts/make_driven_pendulum_data.py measure driven_pendulum_truth.csv
"""

import csv
import math
import sys

DATA = "tests/data/inputs/"


def drive():
    with open(DATA + "drive.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t", "u"])
        for k in range(2001):
            t = k / 100
            w.writerow([repr(t), repr(3 * math.sin(1.3 * t) + 2 * math.sin(2.9 * t))])


def measure(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    with open(DATA + "driven_pendulum.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t", "theta", "u"])
        for r in rows:
            w.writerow([r["t"], r["theta"], r["u"]])


if __name__ == "__main__":
    if sys.argv[1] == "drive":
        drive()
    else:
        measure(sys.argv[2])
