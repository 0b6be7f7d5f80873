/* ns per state of an exported kernel's lagc_S_accel on N random states, best of 20
 * batches; compare with `lagc bench FILE --system S --json` (jit_ns_per_eval).
 * Built by examples/export/bench.sh. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include KERNEL_H

#define N 10000

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(void) {
    static double in[N * NI], out[N * NO];
    double best = 1e30, t0, dt;
    int i, r;
    srand(1);
    for (i = 0; i < N * NI; i++) in[i] = 2.0 * rand() / RAND_MAX - 1.0;
    for (r = 0; r < 20; r++) {
        t0 = now();
        ACCEL(in, out, N);
        dt = now() - t0;
        if (dt < best) best = dt;
    }
    printf("%.1f\n", 1e9 * best / N);
    return 0;
}
