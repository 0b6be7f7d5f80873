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
    -DACCEL="lagc_${sys}_accel" examples/export/bench.c "$dir/$sys.o" -lm -o "$dir/bench"
exported=$("$dir/bench")
jit=$("$lagc" bench "$file" --system "$sys" --json --quiet | python3 -c 'import json,sys; print(json.load(sys.stdin)["jit_ns_per_eval"])')
echo "export_s $(echo "$end - $start" | bc)"
echo "exported_ns_per_state $exported"
echo "jit_ns_per_state $jit"
