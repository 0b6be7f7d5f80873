#!/bin/sh
# Every training of the reproductions (docs/results.md, "Reproductions"), one after the
# other, from the repository root. Logs and weights go to results/repro/.
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
# The two-body truth orbits are the training data: `lagc run` writes them, then stops at
# the first train block when train blocks are not wired into `run`.
$L run examples/repro_two_body.lag > $R/tb_run.log 2>&1 || true
for s in lnn_one lnn_many; do
    $L train examples/repro_two_body.lag --system $s > $R/tb_$s.train.log 2>&1
done
