/* brainsim command line: parses arguments, maps a config to a run, prints
 * the summary. It holds no simulation logic. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "brainsim/comm.h"
#include "brainsim/config.h"
#include "brainsim/connect.h"
#include "brainsim/engine.h"
#include "brainsim/io.h"
#include "brainsim/util.h"

typedef struct cli {
  const char *cmd;
  const char *config;
  const char *out;
  char **set;
  int n_set;
  int overwrite, quiet, verbose;
  const char *ckpt_every, *ckpt_dir, *restore, *progress;
  double progress_every;
  const char *help_topic;
} cli;

static const char usage[] =
    "usage: brainsim run CONFIG.yaml [-o OUT.h5] [--set KEY=VALUE]... "
    "[--overwrite] [-q] [-v]\n"
    "       brainsim run simulation_config.json [-o OUT.h5] [--overwrite]\n"
    "       brainsim check CONFIG.yaml|simulation_config.json [--set ...]\n"
    "       brainsim --help [models]\n"
    "       brainsim --version\n"
    "\n"
    "run     simulate CONFIG and write one HDF5 file (SONATA spikes and\n"
    "        reports, /meta); launch under mpirun or srun for several ranks\n"
    "check   validate CONFIG, build the network and print neurons, synapses\n"
    "        and memory per rank, without simulating\n"
    "\n"
    "options:\n"
    "  -o, --output FILE    output file (default: CONFIG's name with .h5, in "
    "the\n"
    "                       current directory)\n"
    "  --set KEY=VALUE      override a config value; KEY is a dotted path,\n"
    "                       e.g. --set projections.EE.g_max=0.7 or\n"
    "                       --set run.duration=\"200 ms\" (repeatable)\n"
    "  --overwrite          replace an existing output file\n"
    "  --checkpoint-every T write a checkpoint every T of simulated time\n"
    "                       (e.g. 500ms); also written on SIGTERM/SIGUSR1\n"
    "  --checkpoint-dir DIR where checkpoints go (default: OUT's name with\n"
    "                       .ckpt); DIR/ckpt.h5 is replaced atomically\n"
    "  --restore FILE       continue the run of checkpoint FILE (any rank\n"
    "                       count), appending to the same output file\n"
    "  --progress-every S   seconds between progress lines (default 0.5 on "
    "a\n"
    "                       terminal, 5 in batch jobs)\n"
    "  --progress MODE      tty (rewrite one line), lines (a line every few\n"
    "                       seconds, for batch logs), none, or auto: tty on\n"
    "                       a terminal (not under mpirun or in a SLURM batch\n"
    "                       job), else lines\n"
    "  -q, --quiet          no progress lines (--progress none)\n"
    "  -v, --verbose        print the error trace on failure\n"
    "  -h, --help [models]  this text, or the model and parameter tables\n"
    "  --version            print the version\n"
    "\n"
    "exit status: 0 done; 1 error; 2 usage; 75 stopped by SIGTERM or SIGUSR1\n"
    "after writing a checkpoint (requeue and --restore); 130 interrupted by\n"
    "SIGINT (output flushed and marked incomplete)\n";

static void print_params(int np, const bs_param *p) {
  for (int i = 0; i < np; i++) {
    char def[64];
    if (p[i].flags & BS_P_REQUIRED)
      snprintf(def, sizeof def, "required");
    else if (p[i].def != p[i].def)
      snprintf(def, sizeof def, "null");
    else
      snprintf(def, sizeof def, "%g", p[i].def);
    printf("    %-14s %-9s default %-10s %s\n", p[i].name,
           p[i].dim == BS_DIM_ONE ? "" : bs_dim_unit(p[i].dim), def, p[i].doc);
  }
}

static void help_models(void) {
  printf("Neuron models (populations: model: NAME):\n");
  for (int i = 0; i < bs_neuron_count(); i++) {
    const bs_neuron_model *m = bs_neuron_at(i);
    printf("  %s: %s\n", m->name, m->doc);
    print_params(m->np, m->params);
    for (int v = 0; v < m->nx; v++) {
      const bs_var *x = &m->vars[v];
      char init[64];
      if (x->init_kind == BS_DIST_UNIFORM)
        snprintf(init, sizeof init, "Uniform(%g, %g)", x->init, x->init_b);
      else if (x->init != x->init)
        snprintf(init, sizeof init, "steady state");
      else
        snprintf(init, sizeof init, "%g", x->init);
      printf("    state %-8s %-9s initial %-14s (%s_initializer)\n", x->name,
             bs_dim_unit(x->dim), init, x->name);
    }
  }
  printf("\nChannels and ions of a ConNeuGroup (channels: {NAME: {kind: KIND, "
         "...}}):\n");
  for (int i = 0; i < bs_channel_count(); i++) {
    const bs_channel_kind *ch = bs_channel_at(i);
    printf("  %s: %s", ch->name, ch->doc);
    if (ch->ngate) {
      printf(" [state:");
      for (int g = 0; g < ch->ngate; g++)
        printf(" %s", ch->gates[g]);
      printf("]");
    }
    printf("\n");
    print_params(ch->np, ch->params);
  }
  printf("\nSynapse models (projections: synapse: NAME):\n");
  for (int i = 0; i < bs_syn_count(); i++) {
    const bs_syn_model *m = bs_syn_at(i);
    printf("  %s: %s\n", m->name, m->doc);
    print_params(m->np, m->params);
    for (int v = 0; v < m->nx; v++)
      printf("    state %-8s %s\n", m->vars[v].name, m->vars[v].doc);
    if (m->def_output && isnan(m->def_E))
      printf("    default output %s, g_max %g\n", m->def_output, m->def_g_max);
    else if (m->def_output)
      printf("    default output %s (E = %g mV), g_max %g\n", m->def_output,
             m->def_E, m->def_g_max);
  }
  for (int i = 0; i < bs_syn_alias_count(); i++)
    printf("  %s = %s with output %s\n", bs_syn_alias_at(i)->name,
           bs_syn_alias_at(i)->synapse, bs_syn_alias_at(i)->output);
  printf("\nOutputs (projections: output: NAME or {NAME: {...}}):\n");
  for (int i = 0; i < bs_output_count(); i++) {
    const bs_output_model *m = bs_output_at(i);
    printf("  %s: %s\n", m->name, m->doc);
    print_params(m->np, m->params);
  }
  printf("\nLong-term plasticity (projections: plasticity: NAME or {NAME: "
         "{...}}):\n");
  for (int i = 0; i < bs_plast_count(); i++) {
    const bs_plast_rule *r = bs_plast_at(i);
    printf("  %s: %s\n", r->name, r->doc);
    print_params(r->np, r->params);
  }
  printf("\nInput kinds (inputs: - {target: POP, range or indices, "
         "target_var, NAME: {...}}):\n");
  for (int i = 0; i < bs_input_count(); i++) {
    const bs_input_kind *k = bs_input_at(i);
    printf("  %s: %s\n", k->name, k->doc);
    print_params(k->np, k->params);
    for (int l = 0; l < k->nl; l++)
      printf("    %-14s %-9s list       %s\n", k->lists[l].name,
             k->lists[l].dim == BS_DIM_ONE ? "" : bs_dim_unit(k->lists[l].dim),
             k->lists[l].doc);
  }
  printf("\nConnectors (projections: connect: {NAME: {...}}):\n");
  for (int i = 0; i < bs_connector_count(); i++) {
    const bs_connector *c = bs_connector_at(i);
    printf("  %s: %s; %s\n", c->name, c->doc, c->stats);
    print_params(c->np, c->params);
  }
}

/* Returns 0 to go on, 1 when done (help/version), 2 on a usage error. */
static int parse_args(int argc, char **argv, cli *c, char *err, size_t len) {
  memset(c, 0, sizeof *c);
  c->progress_every = -1;
  if (argc < 2) {
    snprintf(err, len, "no command given");
    return 2;
  }
  c->set = calloc((size_t)argc, sizeof(char *));
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      c->cmd = "help";
      c->help_topic = i + 1 < argc ? argv[i + 1] : NULL;
      return 1;
    }
    if (!strcmp(a, "--version")) {
      c->cmd = "version";
      return 1;
    }
    if (!strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--set") ||
        !strcmp(a, "--progress-every") || !strcmp(a, "--checkpoint-every") ||
        !strcmp(a, "--checkpoint-dir") || !strcmp(a, "--restore") ||
        !strcmp(a, "--progress")) {
      if (i + 1 >= argc) {
        snprintf(err, len, "%s needs a value", a);
        return 2;
      }
      const char *v = argv[++i];
      if (!strcmp(a, "--set"))
        c->set[c->n_set++] = argv[i];
      else if (!strcmp(a, "--progress-every"))
        c->progress_every = atof(v);
      else if (!strcmp(a, "--checkpoint-every"))
        c->ckpt_every = v;
      else if (!strcmp(a, "--checkpoint-dir"))
        c->ckpt_dir = v;
      else if (!strcmp(a, "--restore"))
        c->restore = v;
      else if (!strcmp(a, "--progress")) {
        if (strcmp(v, "auto") && strcmp(v, "tty") && strcmp(v, "lines") &&
            strcmp(v, "none")) {
          snprintf(err, len, "--progress %s: expected auto, tty, lines or none",
                   v);
          return 2;
        }
        c->progress = v;
      } else
        c->out = v;
    } else if (!strncmp(a, "--set=", 6)) {
      c->set[c->n_set++] = argv[i] + 6;
    } else if (!strncmp(a, "--output=", 9)) {
      c->out = a + 9;
    } else if (!strcmp(a, "--overwrite")) {
      c->overwrite = 1;
    } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
      c->quiet = 1;
    } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
      c->verbose = 1;
    } else if (a[0] == '-' && a[1]) {
      snprintf(err, len, "unknown option '%s'", a);
      return 2;
    } else if (!c->cmd) {
      if (strcmp(a, "run") && strcmp(a, "check")) {
        snprintf(err, len, "unknown command '%s' (expected run or check)", a);
        return 2;
      }
      c->cmd = a;
    } else if (!c->config) {
      c->config = a;
    } else {
      snprintf(err, len, "unexpected argument '%s'", a);
      return 2;
    }
  }
  if (!c->cmd) {
    snprintf(err, len, "no command given");
    return 2;
  }
  if (!c->config) {
    snprintf(err, len, "%s needs a CONFIG.yaml", c->cmd);
    return 2;
  }
  return 0;
}

static char *default_output(const char *config) {
  const char *base = strrchr(config, '/');
  base = base ? base + 1 : config;
  size_t n = strlen(base);
  const char *dot = strrchr(base, '.');
  if (dot && dot != base)
    n = (size_t)(dot - base);
  char *out = malloc(n + 4);
  if (out) {
    memcpy(out, base, n);
    memcpy(out + n, ".h5", 4);
  }
  return out;
}

/* Print the error once: by the lowest failing rank (first), or by every
 * rank whose error is its own when first < 0. */
static void report_error(bs_ctx *ctx, int first, int verbose) {
  if (first >= 0 && ctx->rank != first)
    return;
  if (ctx->errcode == BS_ERR_REMOTE || ctx->errcode == BS_OK)
    return;
  if (ctx->size > 1 && ctx->errcode != BS_ERR_CONFIG)
    fprintf(stderr, "brainsim: [rank %d] %s\n", ctx->rank, ctx->errmsg);
  else if (ctx->errcode == BS_ERR_CONFIG)
    fprintf(stderr, "%s\n", ctx->errmsg);
  else
    fprintf(stderr, "brainsim: error: %s\n",
            ctx->errmsg[0] ? ctx->errmsg : bs_strerror(ctx->errcode));
  if (verbose && ctx->trace[0])
    fprintf(stderr, "%s", ctx->trace);
  fflush(stderr);
}

/* Simulated time actually run (a stopped run ends early), in ms. */
static double simulated_ms(const bs_spec *s, const bs_run_result *res) {
  return (double)res->steps_done * s->dt;
}

/* Connectivity storage of the built network, summed over ranks. */
typedef struct storage {
  uint64_t *syn, *bytes; /* per projection */
  uint64_t syn_all, bytes_all;
  double wall_build; /* network construction, slowest rank (s) */
} storage;

static bs_status write_meta(bs_ctx *ctx, bs_io *io, const bs_spec *s,
                            const bs_net *net, const bs_run_result *res,
                            double wall_total, const storage *sto) {
  BS_CALL(ctx, bs_io_text(ctx, io, "/meta/config", s->text));
  if (s->overrides)
    BS_CALL(ctx, bs_io_text(ctx, io, "/meta/overrides", s->overrides));
  BS_CALL(ctx,
          bs_io_attr_str(ctx, io, "/meta", "brainsim_version", BS_VERSION));
  BS_CALL(ctx, bs_io_attr_str(ctx, io, "/meta", "config_file", s->file));
  uint64_t ranks = (uint64_t)ctx->size, seed = s->seed,
           steps = (uint64_t)s->n_steps,
           D = (uint64_t)bs_net_exchange_interval(net),
           ov = (uint64_t)bs_net_exchange_overlapped(net);
  BS_CALL(ctx, bs_io_attr_u64(ctx, io, "/meta", "ranks", &ranks, 1));
  BS_CALL(ctx, bs_io_attr_u64(ctx, io, "/meta", "seed", &seed, 1));
  BS_CALL(ctx, bs_io_attr_u64(ctx, io, "/meta", "n_steps", &steps, 1));
  BS_CALL(ctx,
          bs_io_attr_u64(ctx, io, "/meta", "exchange_interval_steps", &D, 1));
  BS_CALL(ctx, bs_io_attr_u64(ctx, io, "/meta", "exchange_overlapped", &ov, 1));
  BS_CALL(ctx, bs_io_attr_f64(ctx, io, "/meta", "dt", &s->dt, 1));
  BS_CALL(ctx, bs_io_attr_f64(ctx, io, "/meta", "duration", &s->duration, 1));
  BS_CALL(ctx, bs_io_attr_u64(ctx, io, "/meta", "trials", &s->trials, 1));
  BS_CALL(ctx, bs_io_attr_f64(ctx, io, "/meta", "trial_duration",
                              &s->trial_duration, 1));
  /* How far the run got: the end, or where a signal stopped it. */
  double t_done = simulated_ms(s, res);
  uint64_t steps_done = (uint64_t)res->steps_done;
  BS_CALL(ctx, bs_io_attr_f64(ctx, io, "/meta", "t_done", &t_done, 1));
  BS_CALL(ctx, bs_io_attr_u64(ctx, io, "/meta", "steps_done", &steps_done, 1));
  BS_CALL(ctx, bs_io_attr_f64(ctx, io, "/meta", "wall_total", &wall_total, 1));
  BS_CALL(ctx, bs_io_attr_f64(ctx, io, "/meta", "wall_run", &res->wall_run, 1));
  BS_CALL(ctx, bs_io_attr_u64(ctx, io, "/meta", "synaptic_events",
                              &res->syn_events, 1));
  BS_CALL(ctx, bs_io_attr_u64(ctx, io, "/meta", "peak_memory_bytes_max",
                              &res->mem_peak_max, 1));
  /* Per rank: what the target-aware exchange moved (issue 10). */
  BS_CALL(ctx, bs_io_rank_u64(ctx, io, "/meta/spikes_received_per_rank",
                              res->spikes_recv));
  BS_CALL(ctx, bs_io_rank_u64(ctx, io, "/meta/bytes_sent_per_rank",
                              res->bytes_sent));
  BS_CALL(ctx, bs_io_rank_u64(ctx, io, "/meta/bytes_received_per_rank",
                              res->bytes_recv));
  BS_CALL(ctx,
          bs_io_attr_f64(ctx, io, "/meta", "wall_build", &sto->wall_build, 1));
  double bps = sto->syn_all ? (double)sto->bytes_all / (double)sto->syn_all : 0;
  BS_CALL(ctx, bs_io_attr_u64(ctx, io, "/meta", "synapses", &sto->syn_all, 1));
  BS_CALL(ctx, bs_io_attr_u64(ctx, io, "/meta", "synapse_bytes",
                              &sto->bytes_all, 1));
  BS_CALL(ctx, bs_io_attr_f64(ctx, io, "/meta", "bytes_per_synapse", &bps, 1));
  for (int j = 0; j < s->n_projs; j++) {
    char path[512];
    snprintf(path, sizeof path, "/meta/projections/%s", s->projs[j].name);
    BS_CALL(ctx, bs_io_group(ctx, io, path));
    double b = sto->syn[j] ? (double)sto->bytes[j] / (double)sto->syn[j] : 0;
    BS_CALL(ctx, bs_io_attr_u64(ctx, io, path, "synapses", &sto->syn[j], 1));
    BS_CALL(ctx, bs_io_attr_u64(ctx, io, path, "bytes", &sto->bytes[j], 1));
    BS_CALL(ctx, bs_io_attr_f64(ctx, io, path, "bytes_per_synapse", &b, 1));
    BS_CALL(ctx, bs_io_attr_str(ctx, io, path, "comp_method",
                                s->projs[j].dense ? "dense" : "sparse"));
  }
  BS_CALL(ctx, bs_io_group(ctx, io, "/meta/timers"));
  for (int p = 0; p < BS_PHASE_COUNT; p++) {
    double v[3] = {res->phase_min[p], res->phase_mean[p], res->phase_max[p]};
    BS_CALL(ctx,
            bs_io_attr_f64(ctx, io, "/meta/timers", bs_phase_name(p), v, 3));
  }
  for (int p = 0; p < s->n_pops; p++) {
    char path[512];
    snprintf(path, sizeof path, "/meta/populations/%s", s->pops[p].name);
    BS_CALL(ctx, bs_io_group(ctx, io, path));
    double rate = t_done > 0 ? (double)res->spikes[p] /
                                   ((double)s->pops[p].size * t_done / 1000.0)
                             : 0.0;
    BS_CALL(ctx,
            bs_io_attr_str(ctx, io, path, "model", s->pops[p].model->name));
    BS_CALL(ctx, bs_io_attr_u64(ctx, io, path, "size", &s->pops[p].size, 1));
    BS_CALL(ctx, bs_io_attr_u64(ctx, io, path, "gid0", &s->pops[p].gid0, 1));
    BS_CALL(ctx, bs_io_attr_u64(ctx, io, path, "spikes", &res->spikes[p], 1));
    BS_CALL(ctx, bs_io_attr_f64(ctx, io, path, "rate_hz", &rate, 1));
  }
  return BS_OK;
}

static void print_summary(const bs_ctx *ctx, const bs_spec *s,
                          const bs_run_result *res, double wall_total,
                          const char *out, const storage *sto, int verbose) {
  if (ctx->rank != 0)
    return;
  const double t_done = simulated_ms(s, res);
  printf("\n%-16s %10s %12s %10s\n", "population", "neurons", "spikes",
         "rate (Hz)");
  for (int p = 0; p < s->n_pops; p++)
    printf("%-16s %10llu %12llu %10.2f\n", s->pops[p].name,
           (unsigned long long)s->pops[p].size,
           (unsigned long long)res->spikes[p],
           t_done > 0 ? (double)res->spikes[p] /
                            ((double)s->pops[p].size * t_done / 1000.0)
                      : 0.0);
  double total = 0;
  for (int p = 0; p < BS_PHASE_COUNT; p++)
    total += res->phase_mean[p];
  printf("\n%-10s %10s %10s %10s %7s\n", "phase", "min (s)", "mean (s)",
         "max (s)", "share");
  for (int p = 0; p < BS_PHASE_COUNT; p++)
    printf("%-10s %10.3f %10.3f %10.3f %6.1f%%\n", bs_phase_name(p),
           res->phase_min[p], res->phase_mean[p], res->phase_max[p],
           total > 0 ? 100.0 * res->phase_mean[p] / total : 0.0);
  char mem[32];
  const double t_loop = (double)(res->steps_done - res->step0) * s->dt;
  printf("\nwall time %.3f s; simulation loop %.3f s for %.1f ms simulated: "
         "real-time factor %.3f (loop wall / simulated)\n",
         wall_total, res->wall_run, t_loop,
         t_loop > 0 ? res->wall_run / (t_loop / 1000.0) : 0.0);
  printf("synaptic events %llu (%.3g per second of loop), peak memory per "
         "rank %s\n",
         (unsigned long long)res->syn_events,
         res->wall_run > 0 ? (double)res->syn_events / res->wall_run : 0.0,
         bs_fmt_bytes((double)res->mem_peak_max, mem, sizeof mem));
  /* Against the spikes of this segment: a restart's exchange counts start
   * at its checkpoint. */
  const uint64_t all = res->spikes_run;
  printf("spikes received per rank: min %.0f, mean %.0f, max %.0f (at most "
         "%.1f%% of all %llu spikes%s)\n",
         res->recv_min, res->recv_mean, res->recv_max,
         all ? 100.0 * res->recv_max / (double)all : 0.0,
         (unsigned long long)all, res->step0 ? " since the restart" : "");
  printf("network built in %.3f s (slowest rank); %llu synapses in %s, %.2f "
         "bytes per synapse\n",
         sto->wall_build, (unsigned long long)sto->syn_all,
         bs_fmt_bytes((double)sto->bytes_all, mem, sizeof mem),
         sto->syn_all ? (double)sto->bytes_all / (double)sto->syn_all : 0.0);
  for (int j = 0; verbose && j < s->n_projs; j++)
    printf("  projection %-12s %s: %llu synapses, %.2f bytes per synapse\n",
           s->projs[j].name, s->projs[j].dense ? "dense " : "sparse",
           (unsigned long long)sto->syn[j],
           sto->syn[j] ? (double)sto->bytes[j] / (double)sto->syn[j] : 0.0);
  if (out)
    printf("output: %s\n", out);
  fflush(stdout);
}

static bs_status do_check(bs_ctx *ctx, const bs_spec *s, const bs_net *net) {
  bs_net_sizes l;
  uint64_t *per_proj =
      calloc((size_t)(s->n_projs ? s->n_projs : 1), sizeof *per_proj);
  uint64_t *all = calloc((size_t)ctx->size * 3, sizeof *all);
  if (!per_proj || !all) {
    free(per_proj);
    free(all);
    return bs_error_set(ctx, BS_ERR_NOMEM, "out of memory");
  }
  uint64_t *sbytes =
      calloc((size_t)(s->n_projs ? s->n_projs : 1), sizeof *sbytes);
  uint64_t *ssyn = calloc((size_t)(s->n_projs ? s->n_projs : 1), sizeof *ssyn);
  bs_status st =
      sbytes && ssyn ? BS_OK : bs_error_set(ctx, BS_ERR_NOMEM, "out of memory");
  if (st == BS_OK)
    st = bs_net_sizes_get(ctx, net, &l, per_proj);
  if (st == BS_OK)
    st = bs_net_storage_get(ctx, net, ssyn, sbytes);
  uint64_t *trows = calloc((size_t)(s->n_projs ? s->n_projs : 1), 8),
           *tids = calloc((size_t)(s->n_projs ? s->n_projs : 1), 8),
           *tbytes = calloc((size_t)(s->n_projs ? s->n_projs : 1), 8);
  if (st == BS_OK && (!trows || !tids || !tbytes))
    st = bs_error_set(ctx, BS_ERR_NOMEM, "out of memory");
  if (st == BS_OK)
    st = bs_net_table_get(ctx, net, trows, tids, tbytes);
  if (st == BS_OK)
    st = bs_comm_gather_u64(ctx, l.neurons, all);
  if (st == BS_OK)
    st = bs_comm_gather_u64(ctx, l.synapses, all + ctx->size);
  if (st == BS_OK)
    st = bs_comm_gather_u64(ctx, l.bytes, all + 2 * ctx->size);
  if (st == BS_OK && ctx->rank == 0) {
    uint64_t tot = 0;
    printf("%s: OK\n", s->file);
    printf("run: dt %g ms, duration %g ms (%lld steps), seed %llu, exchange "
           "every %d step(s)%s\n",
           s->dt, s->duration, (long long)s->n_steps,
           (unsigned long long)s->seed, bs_net_exchange_interval(net),
           bs_net_exchange_overlapped(net) ? ", overlapped" : "");
    for (int p = 0; p < s->n_pops; p++)
      printf("population %-12s %-14s %10llu neurons\n", s->pops[p].name,
             s->pops[p].model->name, (unsigned long long)s->pops[p].size);
    for (int j = 0; j < s->n_projs; j++) {
      const bs_proj_spec *pj = &s->projs[j];
      tot += per_proj[j];
      /* The spec's count (exact when the connector guarantees it) and
       * storage at one rank; then what the build made. */
      double esyn, ebytes;
      bs_net_proj_storage(s, j, &esyn, &ebytes);
      const int exact = strncmp(pj->conn->stats, "exact", 5) == 0;
      printf("projection %-12s %s -> %s, %s + %s, %s, %s: %s %.0f synapses, "
             "%.2f bytes/synapse; built %llu, %.2f bytes/synapse; rows "
             "%llu, %llu listed by id, table %llu bytes\n",
             pj->name, s->pops[pj->pre].name, s->pops[pj->post].name,
             pj->syn->name, pj->syn->gap ? "no output" : pj->out->name,
             pj->conn->name, pj->dense ? "dense" : "sparse",
             exact ? "exactly" : "expected", esyn,
             esyn > 0 ? ebytes / esyn : 0.0, (unsigned long long)per_proj[j],
             ssyn[j] ? (double)sbytes[j] / (double)ssyn[j] : 0.0,
             (unsigned long long)trows[j], (unsigned long long)tids[j],
             (unsigned long long)tbytes[j]);
    }
    printf("total: %llu neurons, %llu synapses, %d monitor(s)\n",
           (unsigned long long)s->n_neurons, (unsigned long long)tot,
           s->n_monitors);
    printf("\n%6s %12s %14s %14s\n", "rank", "neurons", "synapses", "memory");
    for (int r = 0; r < ctx->size; r++) {
      char mem[32];
      printf("%6d %12llu %14llu %14s\n", r, (unsigned long long)all[r],
             (unsigned long long)all[ctx->size + r],
             bs_fmt_bytes((double)all[2 * ctx->size + r], mem, sizeof mem));
    }
    printf("(memory: state, synapses, ring buffers and monitor buffers as "
           "allocated by the build; spike output buffers grow with the "
           "firing rate)\n");
    fflush(stdout);
  }
  free(per_proj);
  free(all);
  free(ssyn);
  free(sbytes);
  free(trows);
  free(tids);
  free(tbytes);
  return st;
}

int main(int argc, char **argv) {
  const double t_begin = bs_wtime();
  /* A file-size limit (ulimit -f, quotas) must fail a write with an error
   * we report, not kill the process with SIGXFSZ. */
  signal(SIGXFSZ, SIG_IGN);
  bs_comm *comm = NULL;
  if (bs_comm_init(&argc, &argv, &comm) != BS_OK) {
    fprintf(stderr, "brainsim: error: MPI could not start\n");
    return 1;
  }
  bs_ctx *ctx = NULL;
  if (bs_ctx_create(comm, &ctx) != BS_OK) {
    fprintf(stderr, "brainsim: error: out of memory\n");
    bs_comm_finalize(&comm);
    return 1;
  }
  ctx->rank = bs_comm_rank(comm);
  ctx->size = bs_comm_size(comm);

  cli c;
  char err[512];
  int pr = parse_args(argc, argv, &c, err, sizeof err);
  if (pr) {
    if (ctx->rank == 0) {
      if (pr == 2)
        fprintf(stderr, "brainsim: error: %s\n\n%s", err, usage);
      else if (!strcmp(c.cmd, "version"))
        printf("brainsim %s\n", BS_VERSION);
      else if (c.help_topic && !strcmp(c.help_topic, "models"))
        help_models();
      else
        printf("brainsim %s: spiking network simulator (BrainPy's models, "
               "MPI, SONATA HDF5 output)\n\n%s",
               BS_VERSION, usage);
    }
    free(c.set);
    bs_ctx_destroy(&ctx);
    bs_comm_finalize(&comm);
    return pr == 2 ? 2 : 0;
  }
  ctx->verbose = c.verbose;
  const int is_run = !strcmp(c.cmd, "run");
  /* From here on a signal is remembered: the loop honours one that came
   * while the network was being built (checkpoint at the first exchange),
   * instead of the default action killing a rank mid-build. */
  if (is_run)
    bs_signal_install();

  bs_spec *spec = NULL;
  bs_net *net = NULL;
  bs_io *io = NULL;
  char *out = NULL, *ckpt_dir = NULL;
  int first = -1, rc = 1;
  storage sto = {0};
  bs_status st = bs_config_load(ctx, c.config, c.n_set, c.set, &spec);
  st = bs_comm_agree(ctx, st, &first);
  if (st != BS_OK)
    goto fail;

  int64_t ckpt_every = 0;
  if (is_run && c.ckpt_every) {
    double v;
    char why[256];
    if (bs_config_parse_quantity(c.ckpt_every, BS_DIM_TIME, &v, why,
                                 sizeof why) ||
        llround(v / spec->dt) < 1)
      st = bs_error_set(ctx, BS_ERR_ARG,
                        "--checkpoint-every %s: expected a positive time "
                        "of at least one step (e.g. 500ms)%s%s",
                        c.ckpt_every, *why ? ", got " : "", why);
    else
      ckpt_every = llround(v / spec->dt);
    st = bs_comm_agree(ctx, st, &first);
    if (st != BS_OK)
      goto fail;
  }
  if (is_run) {
    bs_log0(ctx,
            "brainsim %s: %s on %d rank%s%s, seed %llu, dt %g ms, %g ms "
            "(%lld steps), %llu neurons\n",
            BS_VERSION, c.config, ctx->size, ctx->size > 1 ? "s" : "",
            bs_comm_uses_mpi(ctx->comm) ? "" : " (without MPI)",
            (unsigned long long)spec->seed, spec->dt, spec->duration,
            (long long)spec->n_steps, (unsigned long long)spec->n_neurons);
  }
  /* Limits before allocation: the memory this rank will need against what
   * it can have (MemAvailable shared by the ranks of its node, or
   * BRAINSIM_MAX_MEMORY per rank). */
  bs_estimate est;
  double avail = 0.0;
  int node_ranks = 1;
  /* Spike files' rows count in the estimate (their metadata only). */
  for (int p = 0; st == BS_OK && p < spec->n_pops; p++)
    if (spec->pops[p].ev_file)
      st = bs_io_sonata_spikes_rows(ctx, spec->pops[p].ev_file,
                                    spec->pops[p].ev_pop,
                                    &spec->pops[p].ev_file_rows);
  bs_net_estimate(spec, ctx->rank, ctx->size, &est);
  if (st == BS_OK)
    st = bs_comm_node_ranks(ctx, &node_ranks);
  if (st == BS_OK) {
    const char *lim = getenv("BRAINSIM_MAX_MEMORY");
    avail = lim ? bs_parse_bytes(lim) : bs_mem_available() / node_ranks;
    if (lim && avail < 0)
      st = bs_error_set(ctx, BS_ERR_ARG,
                        "BRAINSIM_MAX_MEMORY=%s: expected bytes, e.g. 2GiB",
                        lim);
    else if (avail > 0 && est.bytes > avail) {
      char need[32], have[32], item[32];
      st = bs_error_set(
          ctx, BS_ERR_LIMIT,
          "this run needs about %s on rank %d, more than the %s available "
          "per rank (%s); the largest part is %s: %s. Use more ranks or "
          "nodes, or make the network or its monitors smaller.",
          bs_fmt_bytes(est.bytes, need, sizeof need), ctx->rank,
          bs_fmt_bytes(avail, have, sizeof have),
          lim ? "BRAINSIM_MAX_MEMORY" : "MemAvailable / ranks on this node",
          est.item, bs_fmt_bytes(est.item_bytes, item, sizeof item));
    }
  }
  st = bs_comm_agree(ctx, st, &first);
  if (st != BS_OK)
    goto fail;
  if (!is_run && ctx->rank == 0) {
    char need[32], have[32];
    printf("memory estimate: %s on rank 0 (largest part: %s), %s available "
           "per rank\n",
           bs_fmt_bytes(est.bytes, need, sizeof need), est.item,
           avail > 0 ? bs_fmt_bytes(avail, have, sizeof have) : "unknown");
  }
  if (is_run && !c.restore) {
    /* A SONATA config names its output (output_dir/spikes_file), where
     * its reports go too. */
    out = c.out            ? bs_strdup(c.out)
          : spec->out_file ? bs_strdup(spec->out_file)
                           : default_output(c.config);
    if (spec->out_dir)
      st = bs_io_mkdir(ctx, spec->out_dir);
    st = bs_comm_agree(ctx, st, &first);
    if (st != BS_OK)
      goto fail;
    /* Open the output before any work, so a bad path fails at once. */
    bs_phase_begin(ctx, BS_PHASE_IO);
    st = bs_io_create(ctx, out, c.overwrite || spec->out_overwrite, &io);
    bs_phase_end(ctx, BS_PHASE_IO);
    st = bs_comm_agree(ctx, st, &first);
    if (st != BS_OK)
      goto fail;
  }
  const double t_build = bs_wtime();
  st = bs_net_build(ctx, spec, &net);
  sto.wall_build = bs_wtime() - t_build;
  st = bs_comm_agree(ctx, st, &first);
  if (st != BS_OK)
    goto fail;
  const size_t njs = (size_t)(spec->n_projs ? spec->n_projs : 1);
  sto.syn = calloc(njs, sizeof(uint64_t));
  sto.bytes = calloc(njs, sizeof(uint64_t));
  st = sto.syn && sto.bytes ? bs_comm_max_double(ctx, &sto.wall_build, 1)
                            : bs_error_set(ctx, BS_ERR_NOMEM, "out of memory");
  if (st == BS_OK)
    st = bs_net_storage_get(ctx, net, sto.syn, sto.bytes);
  for (int j = 0; st == BS_OK && j < spec->n_projs; j++) {
    sto.syn_all += sto.syn[j];
    sto.bytes_all += sto.bytes[j];
  }
  st = bs_comm_agree(ctx, st, &first);
  if (st != BS_OK)
    goto fail;
  if (!is_run) {
    st = do_check(ctx, spec, net);
    st = bs_comm_agree(ctx, st, &first);
    if (st != BS_OK)
      goto fail;
    rc = 0;
    goto done;
  }
  if (c.restore) {
    /* Continue a checkpointed run: same network (checked), any rank
     * count, appending to the run's output file. */
    char *ck_out = NULL;
    st = bs_net_restore(ctx, net, c.restore, &ck_out);
    st = bs_comm_agree(ctx, st, &first);
    if (st != BS_OK) {
      free(ck_out);
      goto fail;
    }
    out = c.out ? bs_strdup(c.out) : ck_out;
    if (c.out)
      free(ck_out);
    st = bs_io_open(ctx, out, 1, &io);
    if (st != BS_OK)
      bs_error_clear(ctx),
          st = bs_error_set(ctx, BS_ERR_IO,
                            "cannot continue the output '%s' of checkpoint "
                            "%s (give the file with -o)",
                            out, c.restore);
    st = bs_comm_agree(ctx, st, &first);
    if (st != BS_OK)
      goto fail;
    uint64_t zero = 0;
    st = bs_io_attr_u64(ctx, io, "/meta", "complete", &zero, 1);
    if (st == BS_OK)
      st = bs_io_flush(ctx, io);
    st = bs_comm_agree(ctx, st, &first);
    if (st != BS_OK)
      goto fail;
  }
  if (c.ckpt_dir)
    ckpt_dir = bs_strdup(c.ckpt_dir);
  else {
    ckpt_dir = malloc(strlen(out) + 8);
    if (ckpt_dir) {
      strcpy(ckpt_dir, out);
      char *dot = strrchr(ckpt_dir, '.');
      if (dot && !strchr(dot, '/'))
        *dot = '\0';
      strcat(ckpt_dir, ".ckpt");
    }
  }
  /* Asked-for checkpoints: find out now, not at the first one, that the
   * folder cannot be made. Otherwise it is made when a signal needs it. */
  st = BS_OK;
  if (ckpt_dir && (c.ckpt_dir || ckpt_every > 0))
    st = bs_io_mkdir(ctx, ckpt_dir);
  st = bs_comm_agree(ctx, st, &first);
  if (st != BS_OK)
    goto fail;
  bs_log0(ctx,
          "ready in %.2f s (start-up, config, network); exchange every %d "
          "step(s)%s; output "
          "%s%s\n",
          bs_wtime() - t_begin, bs_net_exchange_interval(net),
          bs_net_exchange_overlapped(net) ? ", overlapped" : "", out,
          c.restore ? " (continued)" : "");

  /* Open MPI's mpirun hands its ranks a pseudo-terminal even when its own
   * output goes to a file, so under mpirun, and in SLURM batch jobs (no
   * --pty), auto means plain lines; --progress tty asks for the bar. */
  const char *pm = c.quiet ? "none" : c.progress ? c.progress : "auto";
  int tty =
      !strcmp(pm, "tty") ||
      (!strcmp(pm, "auto") && isatty(1) && !getenv("OMPI_COMM_WORLD_SIZE") &&
       !(getenv("SLURM_JOB_ID") && !getenv("SLURM_PTY_PORT")));
  bs_run_opts opts = {.progress = strcmp(pm, "none") != 0,
                      .tty = tty,
                      .ckpt_every = ckpt_every,
                      .ckpt_dir = ckpt_dir,
                      .ckpt_end = c.ckpt_dir != NULL};
  opts.progress_every =
      c.progress_every > 0 ? c.progress_every : (opts.tty ? 0.5 : 5.0);
  bs_run_result res;
  st = bs_net_run(ctx, net, io, &opts, &res);
  if (st == BS_ERR_DISK_FULL) {
    /* Every rank stopped at the same check, before a write that would not
     * fit: the output holds what was flushed and closes cleanly. */
    bs_comm_agree(ctx, st, &first);
    report_error(ctx, first, c.verbose);
    char why[160];
    snprintf(why, sizeof why, "incomplete: disk full at t = %.1f ms",
             simulated_ms(spec, &res));
    free(res.spikes);
    st = bs_io_status(ctx, io, why);
    bs_status cs = bs_io_close(ctx, &io, 0);
    if (st != BS_OK || cs != BS_OK) {
      report_error(ctx, -1, c.verbose);
      bs_comm_abort(comm, 1);
    }
    if (ctx->rank == 0)
      fprintf(stderr,
              "brainsim: output %s holds the run up to its last flush before "
              "t = %.1f ms and is marked incomplete (/meta@status)\n",
              out, simulated_ms(spec, &res));
    goto done;
  }
  if (st != BS_OK) {
    /* The step loop ends every rank at the same exchange when a rank
     * fails, except when MPI or a collective write itself failed: then
     * only an abort ends the others reliably. */
    report_error(ctx, -1, c.verbose);
    if (st == BS_ERR_MPI || st == BS_ERR_IO)
      bs_comm_abort(comm, 1);
    free(res.spikes);
    bs_io_close(ctx, &io, 0);
    goto done;
  }
  double wall_total = bs_wtime() - t_begin;
  bs_phase_begin(ctx, BS_PHASE_IO);
  bs_io_release_reserve(io); /* room for /meta */
  st = write_meta(ctx, io, spec, net, &res, wall_total, &sto);
  if (st == BS_OK && res.stopped) {
    char why[160];
    snprintf(why, sizeof why,
             "incomplete: stopped by %s at t = %.1f ms (continue with "
             "--restore)",
             res.stopped == 2 ? "SIGTERM/SIGUSR1" : "SIGINT",
             simulated_ms(spec, &res));
    st = bs_io_status(ctx, io, why);
  }
  if (st == BS_OK)
    st = bs_io_close(ctx, &io, !res.stopped);
  bs_phase_end(ctx, BS_PHASE_IO);
  if (st != BS_OK) {
    report_error(ctx, -1, c.verbose);
    bs_comm_abort(comm, 1);
  }
  print_summary(ctx, spec, &res, wall_total, out, &sto, c.verbose);
  free(res.spikes);
  rc = 0;
  if (res.stopped) {
    /* 75 (EX_TEMPFAIL) tells a job script to requeue and --restore. */
    rc = res.stopped == 2 ? 75 : 130;
    if (ctx->rank == 0)
      fprintf(stderr,
              "brainsim: stopped by %s at t = %.1f ms; output %s is flushed "
              "and marked incomplete; continue with:\n  brainsim run %s "
              "--restore %s/ckpt.h5\n",
              res.stopped == 2 ? "SIGTERM/SIGUSR1" : "SIGINT",
              (double)res.steps_done * spec->dt, out, c.config, ckpt_dir);
  }
  goto done;

fail:
  report_error(ctx, first, c.verbose);
  if (io)
    bs_io_close(ctx, &io, 0);
done:
  bs_net_destroy(ctx, &net);
  bs_config_destroy(&spec);
  free(sto.syn);
  free(sto.bytes);
  free(out);
  free(ckpt_dir);
  free(c.set);
  bs_ctx_destroy(&ctx);
  bs_comm_finalize(&comm);
  return rc;
}
