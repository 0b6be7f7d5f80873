/* ns per state of an exported kernel's lagc_S_accel on N states, timed as `lagc
 * bench` times the JIT (best of 5 repetitions of ~50 ms of batches, after a warm-up);
 * the states are those of `lagc bench FILE --system S --n 10000` (same generator:
 * coordinates in [-pi, pi), velocities in [-1, 1), t = 0), whose jit_ns_per_eval it is
 * compared with. Built and run by examples/export/bench.sh. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include KERNEL_H

#define N 10000

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static double uniform(void) {
    static uint64_t seed = 0x9e3779b97f4a7c15ull;
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(seed >> 11) / (double)(1ull << 53);
}

int main(void) {
    static double in[N * NI], out[N * NO];
    double best = 1e30, t0, dt;
    int i, r, reps;
    for (i = 0; i < N; i++) {
        double *row = in + i * NI;
        int k;
        for (k = 0; k < NI; k++) row[k] = 0.0;
        for (k = 0; k < DOF; k++) row[k] = 3.141592653589793 * (2.0 * uniform() - 1.0);
        for (k = DOF; k < 2 * DOF; k++) row[k] = 2.0 * uniform() - 1.0;
    }
    t0 = now();
    ACCEL(in, out, N);
    dt = now() - t0;
    reps = (int)(0.05 / (dt > 1e-9 ? dt : 1e-9)) + 1;
    for (r = 0; r < 5; r++) {
        t0 = now();
        for (i = 0; i < reps; i++) ACCEL(in, out, N);
        dt = (now() - t0) / reps;
        if (dt < best) best = dt;
    }
    printf("%.1f\n", 1e9 * best / N);
    return 0;
}
