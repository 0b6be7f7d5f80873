/* The double pendulum, integrated with lagc's exported kernel and no lagc at run time:
 *   lagc export examples/double_pendulum.lag --system double_pendulum --out build
 *   cc -O2 -Ibuild examples/export/main.c build/double_pendulum.o -lm -o pendulum */
#include <stdio.h>
#include "double_pendulum.h"

int main(void) {
    double y[LAGC_DOUBLE_PENDULUM_N_STATE] = {1.0, 0.5, 0.0, 0.0}; /* t1, t2, t1', t2' */
    double k[4][LAGC_DOUBLE_PENDULUM_N_STATE], tmp[LAGC_DOUBLE_PENDULUM_N_STATE], e0, e;
    double t = 0.0, h = 1e-3;
    int i, s;
    lagc_double_pendulum_energy(t, y, &e0, NULL);
    for (s = 0; s < 10000; s++, t += h) { /* classic RK4 to t = 10 */
        lagc_double_pendulum_rhs(t, y, k[0], NULL);
        for (i = 0; i < 4; i++) tmp[i] = y[i] + h / 2 * k[0][i];
        lagc_double_pendulum_rhs(t + h / 2, tmp, k[1], NULL);
        for (i = 0; i < 4; i++) tmp[i] = y[i] + h / 2 * k[1][i];
        lagc_double_pendulum_rhs(t + h / 2, tmp, k[2], NULL);
        for (i = 0; i < 4; i++) tmp[i] = y[i] + h * k[2][i];
        lagc_double_pendulum_rhs(t + h, tmp, k[3], NULL);
        for (i = 0; i < 4; i++) y[i] += h / 6 * (k[0][i] + 2 * k[1][i] + 2 * k[2][i] + k[3][i]);
    }
    lagc_double_pendulum_energy(t, y, &e, NULL);
    printf("t = %g: t1 = %.6f, t2 = %.6f, energy drift %.2e\n", t, y[0], y[1], e - e0);
    return 0;
}
