#!/usr/bin/env bash
# Exported kernel vs the JIT, same machine, same run:
#   examples/export/bench.sh [FILE SYSTEM]   (default: the double pendulum)
# prints ns per state of lagc_S_accel (exported, linked into C) and of the JIT (`lagc
# bench`), and the wall time of the `lagc export` process.
set -euo pipefail
cd "$(dirname "$0")/../.."
file=${1:-examples/double_pendulum.lag}
sys=${2:-double_pendulum}
lagc=${LAGC:-target/release/lagc}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
start=$(date +%s.%N)
"$lagc" export "$file" --system "$sys" --out "$dir" --quiet
end=$(date +%s.%N)
up=$(echo "$sys" | tr a-z A-Z)
cc -O2 -I"$dir" -DKERNEL_H="\"$sys.h\"" -DNI="LAGC_${up}_N_INPUTS" -DNO="LAGC_${up}_N_OUTPUTS" \
    -DDOF="LAGC_${up}_DOF" \
    -DACCEL="lagc_${sys}_accel" examples/export/bench.c "$dir/$sys.o" -lm -o "$dir/bench"
# alternate the two five times and keep the best of each (the machine may be shared)
exported=1e30
jit=1e30
for _ in 1 2 3 4 5; do
    e=$("$dir/bench")
    j=$("$lagc" bench "$file" --system "$sys" --n 10000 --json --quiet |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["jit_ns_per_eval"])')
    exported=$(python3 -c "print(min($exported, $e))")
    jit=$(python3 -c "print(min($jit, $j))")
done
echo "export_s $(echo "$end - $start" | bc)"
echo "exported_ns_per_state $exported"
echo "jit_ns_per_state $jit"
python3 -c "print('exported/jit', round($exported / $jit, 3))"
