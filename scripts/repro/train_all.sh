#!/bin/sh
# Every training of the reproductions (docs/results.md, "Reproductions"), one after the
# other, from the repository root. Logs and weights go to results/repro/ (~20 minutes on
# 2 shared cores).
#   sh scripts/repro/train_all.sh [lagc]     (default target/release/lagc)
set -e
L=${1:-target/release/lagc}
R=results/repro
mkdir -p $R
python3 scripts/repro/two_body.py ics
$L train examples/repro_double_pendulum.lag --system lnn > $R/dp_lnn.train.log 2>&1
$L train examples/repro_double_pendulum.lag --system baseline > $R/dp_baseline.train.log 2>&1
for s in lnn hnn_velocity hnn_canonical; do
    $L train examples/repro_relativistic.lag --system $s > $R/rel_$s.train.log 2>&1
done
(cd $R && ../../$L train ../../examples/hybrid_spring_pendulum.lag --system hybrid > hybrid.train.log 2>&1)
# Two-body: the truth orbits (the training data), the three trainings, the test orbits.
# The last block (the one-orbit LNN on the unseen orbits) is expected to fail: a run
# that blows up stops it.
$L run examples/repro_two_body.lag > $R/tb_run.log 2>&1 || true
