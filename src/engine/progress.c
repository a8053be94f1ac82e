/* The progress line of rank 0: simulated time, wall time, real-time
 * factor and ETA; on a terminal one line rewritten, in a log one line per
 * report. */
#include <math.h>
#include <stdio.h>

#include "engine_impl.h"

void bs_engine_progress(const bs_ctx *ctx, const bs_run_opts *o,
                        const bs_spec *s, int64_t step0, int64_t step,
                        double t_start, int final) {
  if (!o->progress || ctx->rank != 0)
    return;
  /* Rates and ETA from the steps this process ran (a restart starts at
   * step0); the percentage never rounds up to 100 before the end. */
  double wall = bs_wtime() - t_start;
  double tsim = (double)step * s->dt;
  double done = (double)(step - step0), left = (double)(s->n_steps - step);
  double rtf = done > 0 ? wall / (done * s->dt / 1000.0) : 0.0;
  double eta = done > 0 ? wall * left / done : 0.0;
  double pct =
      s->n_steps ? floor(100.0 * (double)step / (double)s->n_steps) : 100.0;
  char line[256];
  snprintf(line, sizeof line,
           "[brainsim] t = %.1f / %.1f ms (%3.0f%%)  wall %.1f s  "
           "real-time factor %.2f  ETA %.1f s",
           tsim, s->duration, pct, wall, rtf, eta);
  if (o->tty)
    fprintf(stdout, "\r%s\033[K%s", line, final ? "\n" : "");
  else
    fprintf(stdout, "%s\n", line);
  fflush(stdout);
}
