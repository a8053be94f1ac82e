/* SONATA simulation and circuit configs (shared/reference/sonata.md §6.5)
 * to a validated bs_spec: JSON through jansson (its line:column on syntax
 * errors), manifest variables, run, the node and edge files with their
 * types CSV (SONATA quoting: fields separated by spaces, double quotes),
 * dynamics_params JSON from the components folders, node_sets, output,
 * reports and inputs. Models: `brainsim:<Model>` with BrainPy's parameter
 * names, and the NEST point templates that have a brainsim equivalent
 * (descriptors below; the README states each equivalence). Node rows are
 * read per rank when the network is built (bs_sonata_types); here only
 * metadata and the small text files are read. Every error names the file
 * and the key, row or dataset. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brainsim/io.h"
#include "config_impl.h"

#define MAX_VARS 64     /* manifest variables per file */
#define MAX_NPOPS 256   /* node populations */
#define MAX_EPOPS 256   /* edge populations */
#define MAX_REPORTS 256 /* reports (monitors) */

/* ---- errors -------------------------------------------------------------- */

typedef struct sreader sreader;

__attribute__((format(printf, 3, 4))) static bs_status
serr(sreader *sr, const char *file, const char *fmt, ...);

/* ---- a document: one JSON file and its manifest -----------------------------
 */

typedef struct sdoc {
  char *file, *dir; /* the file and its folder (${configdir}) */
  json_t *root;
  int nvar;
  char *var[MAX_VARS], *val[MAX_VARS]; /* "$NAME" -> raw value */
} sdoc;

/* ---- CSV (node and edge types) ---------------------------------------------
 */

typedef struct csv {
  char *file;
  int ncol, nrow;
  char **head; /* ncol names */
  char **cell; /* nrow x ncol */
  int *line;   /* line of each row */
} csv;

/* ---- NEST point templates
 * ---------------------------------------------------- Each maps a NEST model
 * to brainsim's LIF and, for static_synapse edges into it, the synapse and
 * output; `convert` turns NEST's parameters (pF, ms, mV, pA, nS) into LIF's and
 * the initial V, and gives the post-side synapse parameters tau_syn_ex,
 * tau_syn_in, E_ex, E_in. */

enum { Q_TAU_EX, Q_TAU_IN, Q_E_EX, Q_E_IN, NQ };

typedef struct lif_p {
  double V_rest, V_reset, V_th, R, tau, tau_ref, V0;
} lif_p;

typedef struct tmpl {
  const char *name;
  int np;
  const bs_param *params; /* NEST's names, units and defaults */
  void (*convert)(const double *v, lif_p *o, double *q);
  const char *synapse; /* static_synapse into this template */
  const char *output;  /* its output (NULL: none, Delta) */
  int by_sign;         /* tau (and E) chosen by the weight's sign */
  int abs_w;           /* conductance: |w| */
} tmpl;

#define NP_(name, def, lo, flags, doc)                                         \
  { name, BS_DIM_ONE, def, lo, HUGE_VAL, flags, doc }

/* iaf_psc_delta's parameters, which iaf_psc_exp shares. */
#define PSC_PARAMS                                                             \
  NP_("C_m", 250.0, 0.0, BS_P_LO_OPEN, "membrane capacitance (pF)"),           \
      NP_("tau_m", 10.0, 0.0, BS_P_LO_OPEN, "membrane time constant (ms)"),    \
      NP_("t_ref", 2.0, 0.0, 0, "refractory period (ms)"),                     \
      NP_("E_L", -70.0, -HUGE_VAL, 0, "resting potential (mV)"),               \
      NP_("V_th", -55.0, -HUGE_VAL, 0, "threshold (mV)"),                      \
      NP_("V_reset", -70.0, -HUGE_VAL, 0, "reset potential (mV)"),             \
      NP_("I_e", 0.0, -HUGE_VAL, 0, "constant current (pA)"),                  \
      NP_("V_m", -70.0, -HUGE_VAL, 0, "initial membrane potential (mV)")

static const bs_param psc_delta_p[] = {
    PSC_PARAMS,
};
enum { D_C, D_TAU, D_TREF, D_EL, D_VTH, D_VRESET, D_IE, D_VM };

/* tau dV/dt = -(V - E_L) + (tau/C) I: R = tau_m / C_m (ms / pF = GOhm, so
 * R I in mV for I in pA); I_e folds into the rest potential. */
static void psc_convert(const double *v, lif_p *o, double *q) {
  o->tau = v[D_TAU];
  o->R = v[D_TAU] / v[D_C];
  o->V_rest = v[D_EL] + o->R * v[D_IE];
  o->V_reset = v[D_VRESET];
  o->V_th = v[D_VTH];
  o->tau_ref = v[D_TREF];
  o->V0 = v[D_VM];
  q[Q_TAU_EX] = q[Q_TAU_IN] = NAN;
  q[Q_E_EX] = q[Q_E_IN] = NAN;
}

static const bs_param psc_exp_p[] = {
    PSC_PARAMS,
    NP_("tau_syn_ex", 2.0, 0.0, BS_P_LO_OPEN,
        "excitatory synaptic time constant (ms)"),
    NP_("tau_syn_in", 2.0, 0.0, BS_P_LO_OPEN,
        "inhibitory synaptic time constant (ms)"),
};

static void psc_exp_convert(const double *v, lif_p *o, double *q) {
  psc_convert(v, o, q);
  q[Q_TAU_EX] = v[8];
  q[Q_TAU_IN] = v[9];
}

static const bs_param cond_exp_p[] = {
    NP_("C_m", 250.0, 0.0, BS_P_LO_OPEN, "membrane capacitance (pF)"),
    NP_("g_L", 16.6667, 0.0, BS_P_LO_OPEN, "leak conductance (nS)"),
    NP_("t_ref", 2.0, 0.0, 0, "refractory period (ms)"),
    NP_("E_L", -70.0, -HUGE_VAL, 0, "leak reversal potential (mV)"),
    NP_("V_th", -55.0, -HUGE_VAL, 0, "threshold (mV)"),
    NP_("V_reset", -60.0, -HUGE_VAL, 0, "reset potential (mV)"),
    NP_("I_e", 0.0, -HUGE_VAL, 0, "constant current (pA)"),
    NP_("V_m", -70.0, -HUGE_VAL, 0, "initial membrane potential (mV)"),
    NP_("tau_syn_ex", 0.2, 0.0, BS_P_LO_OPEN,
        "excitatory synaptic time constant (ms)"),
    NP_("tau_syn_in", 2.0, 0.0, BS_P_LO_OPEN,
        "inhibitory synaptic time constant (ms)"),
    NP_("E_ex", 0.0, -HUGE_VAL, 0, "excitatory reversal potential (mV)"),
    NP_("E_in", -85.0, -HUGE_VAL, 0, "inhibitory reversal potential (mV)"),
};

/* C dV/dt = -g_L (V - E_L) + g (E - V) + I_e: tau = C_m / g_L (pF / nS =
 * ms), R = 1 / g_L (GOhm), so R g (E - V) is in mV for g in nS. */
static void cond_exp_convert(const double *v, lif_p *o, double *q) {
  o->tau = v[0] / v[1];
  o->R = 1.0 / v[1];
  o->V_rest = v[3] + v[6] / v[1];
  o->V_reset = v[5];
  o->V_th = v[4];
  o->tau_ref = v[2];
  o->V0 = v[7];
  q[Q_TAU_EX] = v[8];
  q[Q_TAU_IN] = v[9];
  q[Q_E_EX] = v[10];
  q[Q_E_IN] = v[11];
}

static const tmpl templates[] = {
    {"nest:iaf_psc_delta", 8, psc_delta_p, psc_convert, "Delta", NULL, 0, 0},
    {"nest:iaf_psc_exp", 10, psc_exp_p, psc_exp_convert, "Exponential", "CUBA",
     1, 0},
    {"nest:iaf_cond_exp", 12, cond_exp_p, cond_exp_convert, "Exponential",
     "COBA", 1, 1},
};
#define N_TEMPLATES ((int)(sizeof templates / sizeof templates[0]))

static const tmpl *find_template(const char *name) {
  for (int i = 0; i < N_TEMPLATES; i++)
    if (strcmp(templates[i].name, name) == 0)
      return &templates[i];
  return NULL;
}

/* ---- the reader ---------------------------------------------------------- */

typedef struct ntype {
  int64_t id;
  int row;           /* row in the CSV */
  const char *pop;   /* `population` column, or NULL */
  const char *mtype; /* model_type */
  const char *mtmpl; /* model_template */
  const char *dyn;   /* dynamics_params file, or NULL */
} ntype;

typedef struct npop {
  char *name, *file;
  uint64_t size;
  csv *types; /* the node types CSV (shared by the populations of a file) */
  int nt;
  ntype *t; /* this population's types */
  int virt;
  const tmpl *tp; /* a NEST template, or NULL: brainsim: */
  const bs_neuron_model *model;
  double *q;          /* nt x NQ post-side synapse parameters */
  int spec;           /* index in spec->pops, or -1 (virtual) */
  int64_t *all_types; /* node_type_id of every node (node sets) */
} npop;

struct sreader {
  bs_ctx *ctx;
  bs_spec *spec;
  sdoc sim, circ;   /* circ.root may be NULL: networks in the sim config */
  const sdoc *cdoc; /* the document holding networks and components */
  char *neuron_dir, *syn_dir;
  int np;
  npop pop[MAX_NPOPS];
  int ncsv;
  csv *csvs[2 * MAX_NPOPS];
  json_t *node_sets; /* owned */
  const char *node_sets_file;
};

static bs_status serr(sreader *sr, const char *file, const char *fmt, ...) {
  char msg[1800];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return bs_error_set(sr->ctx, BS_ERR_CONFIG, "%s: error: %s", file, msg);
}

static const char *jtype(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT:
    return "an object";
  case JSON_ARRAY:
    return "a list";
  case JSON_STRING:
    return "a string";
  case JSON_INTEGER:
  case JSON_REAL:
    return "a number";
  case JSON_TRUE:
  case JSON_FALSE:
    return "a boolean";
  default:
    return "null";
  }
}

static bs_status load_json(sreader *sr, const char *file, json_t **out) {
  json_error_t e;
  *out = json_load_file(file, JSON_REJECT_DUPLICATES, &e);
  if (*out && !json_is_object(*out)) {
    json_decref(*out);
    *out = NULL;
    return serr(sr, file, "expected a JSON object ({...}) at the top");
  }
  if (*out)
    return BS_OK;
  if (e.line < 1) /* not opened or not read */
    return bs_error_set(sr->ctx, BS_ERR_CONFIG, "%s: error: %s", file, e.text);
  return bs_error_set(sr->ctx, BS_ERR_CONFIG, "%s:%d:%d: error: %s", file,
                      e.line, e.column, e.text);
}

/* Keys of obj must be in allowed (NULL-terminated). */
static bs_status check_keys(sreader *sr, const char *file, const char *what,
                            json_t *obj, const char *const *allowed) {
  const char *k;
  json_t *v;
  json_object_foreach(obj, k, v) {
    int ok = 0;
    for (int i = 0; allowed[i]; i++)
      ok |= strcmp(allowed[i], k) == 0;
    if (!ok) {
      char list[1024];
      size_t u = 0;
      list[0] = '\0';
      for (int i = 0; allowed[i]; i++)
        u += (size_t)snprintf(list + u, u < sizeof list ? sizeof list - u : 0,
                              "%s%s", i ? ", " : "", allowed[i]);
      return serr(sr, file,
                  "key '%s%s%s': unknown or not read by brainsim "
                  "(known: %s)",
                  what, *what ? "." : "", k, list);
    }
  }
  return BS_OK;
}

static bs_status get_object(sreader *sr, const char *file, json_t *parent,
                            const char *key, const char *what, json_t **out) {
  *out = json_object_get(parent, key);
  if (*out && !json_is_object(*out))
    return serr(sr, file, "key '%s': expected an object, got %s", what,
                jtype(*out));
  return BS_OK;
}

static bs_status get_number(sreader *sr, const char *file, json_t *v,
                            const char *what, double *out) {
  if (!json_is_number(v))
    return serr(sr, file, "key '%s': expected a number, got %s", what,
                jtype(v));
  *out = json_number_value(v);
  if (!isfinite(*out))
    return serr(sr, file, "key '%s': %g is not finite", what, *out);
  return BS_OK;
}

static bs_status get_string(sreader *sr, const char *file, json_t *v,
                            const char *what, const char **out) {
  if (!json_is_string(v))
    return serr(sr, file, "key '%s': expected a string, got %s", what,
                jtype(v));
  *out = json_string_value(v);
  return BS_OK;
}

/* ---- manifest and paths ------------------------------------------------- */

static char *dir_of(const char *file) {
  const char *slash = strrchr(file, '/');
  if (!slash)
    return bs_strdup(".");
  size_t n = (size_t)(slash - file);
  char *d = malloc(n + 2);
  if (d) {
    memcpy(d, file, n ? n : 1);
    d[n ? n : 1] = '\0';
  }
  return d;
}

static bs_status doc_open(sreader *sr, sdoc *d, const char *file) {
  d->file = bs_strdup(file);
  d->dir = dir_of(file);
  if (!d->file || !d->dir)
    return bs_error_set(sr->ctx, BS_ERR_NOMEM, "out of memory");
  BS_CALL(sr->ctx, load_json(sr, file, &d->root));
  json_t *m = NULL;
  BS_CALL(sr->ctx, get_object(sr, file, d->root, "manifest", "manifest", &m));
  const char *k;
  json_t *v;
  json_object_foreach(m, k, v) {
    char what[300];
    snprintf(what, sizeof what, "manifest.%s", k);
    if (k[0] != '$' || !k[1])
      return serr(sr, file,
                  "key '%s': manifest variables are named $NAME (e.g. "
                  "$BASE_DIR)",
                  what);
    const char *s = NULL;
    BS_CALL(sr->ctx, get_string(sr, file, v, what, &s));
    if (d->nvar == MAX_VARS)
      return serr(sr, file, "manifest: more than %d variables", MAX_VARS);
    d->var[d->nvar] = bs_strdup(k);
    d->val[d->nvar++] = bs_strdup(s);
  }
  return BS_OK;
}

static void doc_close(sdoc *d) {
  free(d->file);
  free(d->dir);
  for (int i = 0; i < d->nvar; i++) {
    free(d->var[i]);
    free(d->val[i]);
  }
  if (d->root)
    json_decref(d->root);
  memset(d, 0, sizeof *d);
}

typedef struct sbuf {
  char *s;
  size_t n, cap;
} sbuf;

static int sb_put(sbuf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t nc = b->cap ? b->cap : 128;
    while (nc < b->n + n + 1)
      nc *= 2;
    char *ns = realloc(b->s, nc);
    if (!ns)
      return -1;
    b->s = ns;
    b->cap = nc;
  }
  for (size_t i = 0; i < n; i++) /* (memcpy upsets gcc's bound checks) */
    b->s[b->n + i] = s[i];
  b->n += n;
  b->s[b->n] = '\0';
  return 0;
}

/* Expand $NAME and ${NAME} in s with the document's manifest (recursively:
 * $BASE_DIR/network), ${configdir} and ${workingdir}. */
static bs_status expand(sreader *sr, const sdoc *d, const char *s,
                        const char *what, int depth, sbuf *out) {
  if (depth > 16)
    return serr(sr, d->file,
                "key '%s': manifest variables refer to each other in a "
                "loop",
                what);
  for (const char *p = s; *p;) {
    if (*p != '$') {
      const char *q = strchr(p, '$');
      size_t n = q ? (size_t)(q - p) : strlen(p);
      if (sb_put(out, p, n))
        return bs_error_set(sr->ctx, BS_ERR_NOMEM, "out of memory");
      p += n;
      continue;
    }
    char name[256];
    const char *e;
    if (p[1] == '{') {
      e = strchr(p, '}');
      if (!e)
        return serr(sr, d->file, "key '%s': '${' without '}' in '%s'", what, s);
      snprintf(name, sizeof name, "%.*s", (int)(e - p - 2), p + 2);
      e++;
    } else {
      e = p + 1;
      while (*e == '_' || (*e >= 'A' && *e <= 'Z') ||
             (*e >= 'a' && *e <= 'z') || (*e >= '0' && *e <= '9'))
        e++;
      snprintf(name, sizeof name, "%.*s", (int)(e - p - 1), p + 1);
    }
    const char *val = NULL;
    char cwd[4096];
    if (strcmp(name, "configdir") == 0)
      val = d->dir;
    else if (strcmp(name, "workingdir") == 0)
      val = getcwd(cwd, sizeof cwd) ? cwd : ".";
    for (int i = 0; !val && i < d->nvar; i++)
      if (strcmp(d->var[i] + 1, name) == 0)
        val = d->val[i];
    if (!val)
      return serr(sr, d->file,
                  "key '%s': '$%s' in '%s' is not a manifest variable (nor "
                  "${configdir}, ${workingdir})",
                  what, name, s);
    if (strcmp(name, "configdir") && strcmp(name, "workingdir"))
      BS_CALL(sr->ctx, expand(sr, d, val, what, depth + 1, out));
    else if (sb_put(out, val, strlen(val)))
      return bs_error_set(sr->ctx, BS_ERR_NOMEM, "out of memory");
    p = e;
  }
  return BS_OK;
}

/* A path from a string value: variables expanded, relative to the
 * document's folder unless absolute; base (if given) for names without
 * a folder (spikes_file inside output_dir). Caller frees. */
static bs_status get_path(sreader *sr, const sdoc *d, json_t *v,
                          const char *what, const char *base, char **out) {
  const char *s = NULL;
  BS_CALL(sr->ctx, get_string(sr, d->file, v, what, &s));
  if (!*s)
    return serr(sr, d->file, "key '%s': empty path", what);
  sbuf b = {0};
  bs_status st = expand(sr, d, s, what, 0, &b);
  if (st != BS_OK) {
    free(b.s);
    return st;
  }
  const char *pre = b.s[0] == '/' ? "" : base ? base : d->dir;
  if (!strcmp(pre, ".")) /* ${configdir} of a config in the current folder */
    pre = "";
  size_t n = strlen(pre) + strlen(b.s) + 2;
  *out = malloc(n);
  if (!*out) {
    free(b.s);
    return bs_error_set(sr->ctx, BS_ERR_NOMEM, "out of memory");
  }
  if (*pre)
    snprintf(*out, n, "%s/%s", pre, b.s);
  else
    snprintf(*out, n, "%s", b.s);
  free(b.s);
  return BS_OK;
}

/* ---- CSV ----------------------------------------------------------------- */

static void csv_free(csv *c) {
  if (!c)
    return;
  for (int i = 0; i < c->ncol; i++)
    free(c->head[i]);
  for (int i = 0; i < c->nrow * c->ncol; i++)
    free(c->cell[i]);
  free(c->head);
  free(c->cell);
  free(c->line);
  free(c->file);
  free(c);
}

/* The fields of one line: separated by one or more spaces; a field in
 * double quotes may hold spaces ("" inside is one quote). */
static bs_status csv_split(sreader *sr, const char *file, int ln, char *line,
                           char ***f, int *nf) {
  int cap = 8;
  *nf = 0;
  *f = malloc((size_t)cap * sizeof **f);
  if (!*f)
    return bs_error_set(sr->ctx, BS_ERR_NOMEM, "out of memory");
  char *p = line;
  for (;;) {
    while (*p == ' ' || *p == '\t' || *p == '\r')
      p++;
    if (!*p)
      break;
    sbuf b = {0};
    if (*p == '"') {
      p++;
      for (;;) {
        if (!*p) {
          free(b.s);
          return bs_error_set(sr->ctx, BS_ERR_CONFIG,
                              "%s:%d: error: a quoted field has no closing "
                              "'\"'",
                              file, ln);
        }
        if (*p == '"' && p[1] == '"') {
          sb_put(&b, "\"", 1);
          p += 2;
        } else if (*p == '"') {
          p++;
          break;
        } else {
          sb_put(&b, p, 1);
          p++;
        }
      }
      if (*p && *p != ' ' && *p != '\t' && *p != '\r') {
        free(b.s);
        return bs_error_set(sr->ctx, BS_ERR_CONFIG,
                            "%s:%d: error: text right after a closing '\"' "
                            "(fields are separated by spaces)",
                            file, ln);
      }
      if (!b.s)
        sb_put(&b, "", 0);
    } else {
      char *q = p;
      while (*q && *q != ' ' && *q != '\t' && *q != '\r') {
        if (*q == '"') {
          return bs_error_set(sr->ctx, BS_ERR_CONFIG,
                              "%s:%d: error: a '\"' inside an unquoted "
                              "field",
                              file, ln);
        }
        q++;
      }
      sb_put(&b, p, (size_t)(q - p));
      p = q;
    }
    if (!b.s)
      return bs_error_set(sr->ctx, BS_ERR_NOMEM, "out of memory");
    if (*nf == cap) {
      cap *= 2;
      char **nfp = realloc(*f, (size_t)cap * sizeof **f);
      if (!nfp) {
        free(b.s);
        return bs_error_set(sr->ctx, BS_ERR_NOMEM, "out of memory");
      }
      *f = nfp;
    }
    (*f)[(*nf)++] = b.s;
  }
  return BS_OK;
}

static void fields_free(char **f, int n) {
  for (int i = 0; i < n; i++)
    free(f[i]);
  free(f);
}

static bs_status csv_read(sreader *sr, const char *file, csv **out) {
  for (int i = 0; i < sr->ncsv; i++)
    if (strcmp(sr->csvs[i]->file, file) == 0) {
      *out = sr->csvs[i];
      return BS_OK;
    }
  char *text = NULL;
  size_t len = 0;
  bs_status st = cfg_read_text(sr->ctx, file, &text, &len);
  if (st != BS_OK) {
    bs_error_clear(sr->ctx);
    return bs_error_set(sr->ctx, BS_ERR_CONFIG,
                        "%s: error: cannot read the types CSV: %s", file,
                        strerror(errno));
  }
  csv *c = calloc(1, sizeof *c);
  if (!c) {
    free(text);
    return bs_error_set(sr->ctx, BS_ERR_NOMEM, "out of memory");
  }
  c->file = bs_strdup(file);
  sr->csvs[sr->ncsv++] = c; /* freed with the reader */
  if (cfg_utf8_invalid_at(text, len) < len) {
    free(text);
    return serr(sr, file, "not UTF-8 text");
  }
  int ln = 0, cap = 0;
  char *save = NULL;
  for (char *line = text; line && st == BS_OK;) {
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = '\0';
    ln++;
    char **f = NULL;
    int nf = 0;
    st = csv_split(sr, file, ln, line, &f, &nf);
    if (st == BS_OK && nf > 0) {
      if (!c->head) {
        c->head = f;
        c->ncol = nf;
        f = NULL;
      } else if (nf != c->ncol) {
        st = bs_error_set(sr->ctx, BS_ERR_CONFIG,
                          "%s:%d: error: %d fields, but the header has %d "
                          "(fields are separated by spaces; quote values "
                          "that hold spaces)",
                          file, ln, nf, c->ncol);
      } else {
        if (c->nrow == cap) {
          cap = cap ? 2 * cap : 16;
          char **nc =
              realloc(c->cell, (size_t)cap * (size_t)c->ncol * sizeof *nc);
          int *nl2 = realloc(c->line, (size_t)cap * sizeof *nl2);
          if (nc)
            c->cell = nc;
          if (nl2)
            c->line = nl2;
          if (!nc || !nl2)
            st = bs_error_set(sr->ctx, BS_ERR_NOMEM, "out of memory");
        }
        if (st == BS_OK) {
          memcpy(c->cell + (size_t)c->nrow * (size_t)c->ncol, f,
                 (size_t)nf * sizeof *f);
          c->line[c->nrow++] = ln;
          free(f);
          f = NULL;
        }
      }
    }
    if (f)
      fields_free(f, nf);
    line = nl ? nl + 1 : NULL;
  }
  (void)save;
  free(text);
  if (st != BS_OK)
    return st;
  if (!c->head)
    return serr(sr, file, "empty types CSV (no header)");
  *out = c;
  return BS_OK;
}

static int csv_col(const csv *c, const char *name) {
  for (int i = 0; i < c->ncol; i++)
    if (strcmp(c->head[i], name) == 0)
      return i;
  return -1;
}

static const char *csv_at(const csv *c, int row, int col) {
  if (col < 0)
    return NULL;
  const char *v = c->cell[(size_t)row * (size_t)c->ncol + (size_t)col];
  /* bmtk writes NULL or an empty field for "no value" */
  return *v && strcmp(v, "NULL") && strcmp(v, "None") ? v : NULL;
}

static bs_status csv_int(sreader *sr, const csv *c, int row, int col,
                         const char *what, int64_t *out) {
  const char *v = csv_at(c, row, col);
  char *end;
  errno = 0;
  long long x = v ? strtoll(v, &end, 10) : 0;
  if (!v || *end || errno)
    return bs_error_set(sr->ctx, BS_ERR_CONFIG,
                        "%s:%d: error: column %s: expected a whole number, "
                        "got '%s'",
                        c->file, c->line[row], what, v ? v : "");
  *out = x;
  return BS_OK;
}

static bs_status csv_num(sreader *sr, const csv *c, int row, int col,
                         const char *what, double *out) {
  const char *v = csv_at(c, row, col);
  char *end;
  errno = 0;
  double x = v ? strtod(v, &end) : 0;
  if (!v || *end || errno || !isfinite(x))
    return bs_error_set(sr->ctx, BS_ERR_CONFIG,
                        "%s:%d: error: column %s: expected a number, got "
                        "'%s'",
                        c->file, c->line[row], what, v ? v : "");
  *out = x;
  return BS_OK;
}

/* ---- dynamics_params --------------------------------------------------- */

static bs_status load_dyn(sreader *sr, const char *dir, const char *dirkey,
                          const csv *c, int row, const char *name,
                          json_t **out) {
  *out = NULL;
  if (!name)
    return BS_OK;
  if (!dir)
    return bs_error_set(sr->ctx, BS_ERR_CONFIG,
                        "%s:%d: error: dynamics_params '%s' needs "
                        "components.%s in %s",
                        c->file, c->line[row], name, dirkey, sr->cdoc->file);
  char path[4096];
  snprintf(path, sizeof path, "%s%s%s", name[0] == '/' ? "" : dir,
           name[0] == '/' ? "" : "/", name);
  return load_json(sr, path, out);
}

/* A value of a dynamics_params JSON: a number, or a string with a unit
 * ("5 ms") of the parameter's dimension. */
static bs_status dyn_value(sreader *sr, const char *file, const char *key,
                           json_t *v, bs_dim dim, double *out) {
  if (json_is_string(v)) {
    char why[512];
    if (bs_config_parse_quantity(json_string_value(v), dim, out, why,
                                 sizeof why))
      return serr(sr, file, "key '%s': expected a number%s%s, got %s", key,
                  dim == BS_DIM_ONE ? "" : " in ",
                  dim == BS_DIM_ONE ? "" : bs_dim_unit(dim), why);
    return BS_OK;
  }
  return get_number(sr, file, v, key, out);
}

/* Parameters of table params from a dynamics_params object (defaults
 * for the absent ones); unknown keys are refused by name. init (may be
 * NULL): the model's state variables, as <var>_initializer or <var>. */
static bs_status dyn_params(sreader *sr, const char *file, json_t *dp, int np,
                            const bs_param *params, const char *owner,
                            double *p, const bs_neuron_model *m, double *x0) {
  for (int i = 0; i < np; i++)
    p[i] = params[i].def;
  const char *k;
  json_t *v;
  json_object_foreach(dp, k, v) {
    int i = bs_param_index(np, params, k);
    if (i >= 0) {
      if (json_is_null(v) && (params[i].flags & BS_P_NULLABLE)) {
        p[i] = NAN;
        continue;
      }
      BS_CALL(sr->ctx, dyn_value(sr, file, k, v, params[i].dim, &p[i]));
      char why[256];
      if (cfg_param_out_of_range(&params[i], p[i], why, sizeof why))
        return serr(sr, file, "key '%s' (%s): %g is out of range: must be %s",
                    k, owner, p[i], why);
      continue;
    }
    int x = -1;
    if (m) {
      char var[128];
      size_t n = strlen(k);
      const char *suf = "_initializer";
      snprintf(var, sizeof var, "%s", k);
      if (n > strlen(suf) && strcmp(k + n - strlen(suf), suf) == 0)
        var[n - strlen(suf)] = '\0';
      x = bs_var_index(m->nx, m->vars, var);
    }
    if (x >= 0) {
      BS_CALL(sr->ctx, dyn_value(sr, file, k, v, m->vars[x].dim, &x0[x]));
      continue;
    }
    char list[2048];
    cfg_list_params(list, sizeof list, NULL, np, params,
                    m ? "<variable>_initializer" : NULL);
    return serr(sr, file, "key '%s': not a parameter of %s (known: %s)", k,
                owner, list);
  }
  for (int i = 0; i < np; i++)
    if (isnan(p[i]) && (params[i].flags & BS_P_REQUIRED))
      return serr(sr, file, "%s: missing required parameter '%s' (%s)", owner,
                  params[i].name, params[i].doc);
  return BS_OK;
}

/* ---- node populations -----------------------------------------------------
 */

/* A node type's parameters and initial state in the population's model,
 * and its post-side synapse parameters q. */
static bs_status type_params(sreader *sr, npop *np_, const csv *c,
                             const ntype *t, double *p, double *x0, double *q) {
  const bs_neuron_model *m = np_->model;
  for (int v = 0; v < m->nx; v++)
    x0[v] = m->vars[v].init_kind == BS_DIST_CONST ? m->vars[v].init : NAN;
  for (int k = 0; k < NQ; k++)
    q[k] = NAN;
  json_t *dp = NULL;
  BS_CALL(sr->ctx, load_dyn(sr, sr->neuron_dir, "point_neuron_models_dir", c,
                            t->row, t->dyn, &dp));
  json_t *empty = json_object();
  char file[4200], owner[600];
  if (t->dyn)
    snprintf(file, sizeof file, "%s/%s", sr->neuron_dir, t->dyn);
  else
    snprintf(file, sizeof file, "%s:%d", c->file, c->line[t->row]);
  snprintf(owner, sizeof owner, "%s, node type %lld of population '%s'",
           t->mtmpl, (long long)t->id, np_->name);
  bs_status st = BS_OK;
  if (!np_->tp) {
    st = dyn_params(sr, file, dp ? dp : empty, m->np, m->params, owner, p, m,
                    x0);
  } else {
    double v[16];
    st = dyn_params(sr, file, dp ? dp : empty, np_->tp->np, np_->tp->params,
                    owner, v, NULL, NULL);
    lif_p o;
    if (st == BS_OK) {
      np_->tp->convert(v, &o, q);
      const char *names[] = {"V_rest", "V_reset", "V_th",
                             "R",      "tau",     "tau_ref"};
      const double vals[] = {o.V_rest, o.V_reset, o.V_th,
                             o.R,      o.tau,     o.tau_ref};
      for (int i = 0; i < m->np; i++)
        p[i] = m->params[i].def;
      for (int i = 0; i < 6; i++)
        p[bs_param_index(m->np, m->params, names[i])] = vals[i];
      x0[bs_var_index(m->nx, m->vars, "V")] = o.V0;
    }
  }
  if (st == BS_OK && m->check) {
    int blame = -1;
    const char *why = m->check(p, sr->spec->dt, &blame);
    if (why)
      st = serr(sr, file, "%s: %s (as brainsim's %s: %s = %g)", owner, why,
                m->name, blame >= 0 ? m->params[blame].name : "-",
                blame >= 0 ? p[blame] : NAN);
  }
  json_decref(empty);
  if (dp)
    json_decref(dp);
  return st;
}

static bs_status pick_model(sreader *sr, npop *p, const csv *c) {
  const ntype *t0 = &p->t[0];
  for (int k = 0; k < p->nt; k++) {
    const ntype *t = &p->t[k];
    if (!t->mtype)
      return bs_error_set(sr->ctx, BS_ERR_CONFIG,
                          "%s:%d: error: node type %lld has no model_type",
                          c->file, c->line[t->row], (long long)t->id);
    const int virt = strcmp(t->mtype, "virtual") == 0;
    if (!virt && strcmp(t->mtype, "point_process") &&
        strcmp(t->mtype, "point_neuron"))
      return bs_error_set(sr->ctx, BS_ERR_CONFIG,
                          "%s:%d: error: node type %lld: model_type '%s' is "
                          "not simulated by brainsim (point_process, "
                          "point_neuron or virtual)",
                          c->file, c->line[t->row], (long long)t->id, t->mtype);
    if (k == 0)
      p->virt = virt;
    else if (virt != p->virt)
      return bs_error_set(sr->ctx, BS_ERR_CONFIG,
                          "%s:%d: error: population '%s' mixes virtual and "
                          "simulated node types (%lld and %lld)",
                          c->file, c->line[t->row], p->name, (long long)t0->id,
                          (long long)t->id);
    if (virt)
      continue;
    if (!t->mtmpl)
      return bs_error_set(sr->ctx, BS_ERR_CONFIG,
                          "%s:%d: error: node type %lld has no "
                          "model_template",
                          c->file, c->line[t->row], (long long)t->id);
    if (k > 0 && strcmp(t->mtmpl, t0->mtmpl))
      return bs_error_set(sr->ctx, BS_ERR_CONFIG,
                          "%s:%d: error: population '%s': node type %lld has "
                          "model_template '%s' but type %lld has '%s'; "
                          "brainsim runs one model per population",
                          c->file, c->line[t->row], p->name, (long long)t->id,
                          t->mtmpl, (long long)t0->id, t0->mtmpl);
  }
  if (p->virt)
    return BS_OK;
  const char *mt = t0->mtmpl;
  if (strncmp(mt, "brainsim:", 9) == 0) {
    p->model = bs_neuron_find(mt + 9);
    if (!p->model || bs_neuron_is_cng(p->model)) {
      char list[2048];
      size_t u = 0;
      list[0] = '\0';
      for (int i = 0; i < bs_neuron_count(); i++)
        if (!bs_neuron_is_cng(bs_neuron_at(i)))
          u += (size_t)snprintf(list + u, u < sizeof list ? sizeof list - u : 0,
                                "%s%s", u ? ", " : "", bs_neuron_at(i)->name);
      return bs_error_set(sr->ctx, BS_ERR_CONFIG,
                          "%s:%d: error: model_template '%s': no brainsim "
                          "point model '%s' (available: %s)",
                          c->file, c->line[t0->row], mt, mt + 9, list);
    }
    return BS_OK;
  }
  p->tp = find_template(mt);
  if (!p->tp) {
    char list[512];
    size_t u = 0;
    for (int i = 0; i < N_TEMPLATES; i++)
      u += (size_t)snprintf(list + u, sizeof list - u, "%s, ",
                            templates[i].name);
    return bs_error_set(sr->ctx, BS_ERR_CONFIG,
                        "%s:%d: error: model_template '%s' has no brainsim "
                        "equivalent (accepted: %sbrainsim:<Model>)",
                        c->file, c->line[t0->row], mt, list);
  }
  p->model = bs_neuron_find("LIF");
  return BS_OK;
}

/* Virtual nodes (input sources) are a SpikeTimeGroup population; its
 * spikes come from the SONATA spike file an input names (read per rank
 * when the network is built), or none. */
static bs_status virtual_pop(sreader *sr, npop *p) {
  bs_spec *s = sr->spec;
  bs_pop_spec *ps = &s->pops[s->n_pops];
  p->spec = s->n_pops++;
  p->model = bs_neuron_find("SpikeTimeGroup");
  ps->name = bs_strdup(p->name);
  ps->model = p->model;
  ps->size = p->size;
  ps->method = BS_METHOD_EXP_AUTO;
  return bs_calloc(sr->ctx, 1, sizeof *ps->init, &ps->init);
}

static bs_status entry_files(sreader *sr, const sdoc *d, json_t *e,
                             const char *kind, int k, char **h5, csv **c) {
  char what[128], fk[64], tk[64], w1[200], w2[200];
  snprintf(what, sizeof what, "networks.%ss[%d]", kind, k);
  snprintf(fk, sizeof fk, "%ss_file", kind);
  snprintf(tk, sizeof tk, "%s_types_file", kind);
  const char *const keys[] = {fk, tk, "populations", NULL};
  if (!json_is_object(e))
    return serr(sr, d->file, "key '%s': expected an object, got %s", what,
                jtype(e));
  BS_CALL(sr->ctx, check_keys(sr, d->file, what, e, keys));
  json_t *pp = json_object_get(e, "populations");
  if (pp && !(json_is_object(pp) && json_object_size(pp) == 0))
    return serr(sr, d->file,
                "key '%s.populations': per-population properties are not "
                "read by brainsim (leave it out)",
                what);
  if (!json_object_get(e, fk) || !json_object_get(e, tk))
    return serr(sr, d->file, "key '%s': needs %s and %s", what, fk, tk);
  snprintf(w1, sizeof w1, "%s.%s", what, fk);
  snprintf(w2, sizeof w2, "%s.%s", what, tk);
  char *tf = NULL;
  BS_CALL(sr->ctx, get_path(sr, d, json_object_get(e, fk), w1, NULL, h5));
  bs_status st = get_path(sr, d, json_object_get(e, tk), w2, NULL, &tf);
  if (st == BS_OK)
    st = csv_read(sr, tf, c);
  free(tf);
  return st;
}

static bs_status read_nodes_entry(sreader *sr, const sdoc *d, json_t *e,
                                  int k) {
  char *nf = NULL;
  csv *c = NULL;
  bs_status st = entry_files(sr, d, e, "node", k, &nf, &c);
  bs_sonata_nodes_info info = {0};
  if (st == BS_OK)
    st = bs_io_sonata_nodes_info(sr->ctx, nf, &info);
  int cid = -1, cpop = -1, ctype = -1, ctmpl = -1, cdyn = -1;
  if (st == BS_OK) {
    cid = csv_col(c, "node_type_id");
    cpop = csv_col(c, "population");
    ctype = csv_col(c, "model_type");
    ctmpl = csv_col(c, "model_template");
    cdyn = csv_col(c, "dynamics_params");
    if (cid < 0)
      st = serr(sr, c->file, "the node types CSV has no column node_type_id");
  }
  for (int q = 0; q < info.n && st == BS_OK; q++) {
    for (int o = 0; o < sr->np && st == BS_OK; o++)
      if (strcmp(sr->pop[o].name, info.name[q]) == 0)
        st = serr(sr, nf, "node population '%s' is also in %s", info.name[q],
                  sr->pop[o].file);
    if (st != BS_OK)
      break;
    if (sr->np == MAX_NPOPS) {
      st = serr(sr, nf, "more than %d node populations", MAX_NPOPS);
      break;
    }
    npop *p = &sr->pop[sr->np++];
    p->name = bs_strdup(info.name[q]);
    p->file = bs_strdup(nf);
    p->size = info.size[q];
    p->types = c;
    p->spec = -1;
    p->t = calloc((size_t)(c->nrow ? c->nrow : 1), sizeof *p->t);
    if (!p->t) {
      st = bs_error_set(sr->ctx, BS_ERR_NOMEM, "out of memory");
      break;
    }
    for (int r = 0; r < c->nrow && st == BS_OK; r++) {
      const char *pop = csv_at(c, r, cpop);
      if (pop && strcmp(pop, p->name))
        continue;
      ntype *t = &p->t[p->nt++];
      t->row = r;
      t->pop = pop;
      t->mtype = csv_at(c, r, ctype);
      t->mtmpl = csv_at(c, r, ctmpl);
      t->dyn = csv_at(c, r, cdyn);
      st = csv_int(sr, c, r, cid, "node_type_id", &t->id);
      for (int o = 0; o < p->nt - 1 && st == BS_OK; o++)
        if (p->t[o].id == t->id)
          st = bs_error_set(sr->ctx, BS_ERR_CONFIG,
                            "%s:%d: error: node_type_id %lld is listed "
                            "twice",
                            c->file, c->line[r], (long long)t->id);
    }
    if (st == BS_OK && p->nt == 0)
      st = serr(sr, c->file, "no node type for population '%s' of %s", p->name,
                nf);
    if (st == BS_OK && p->size == 0)
      st = serr(sr, nf, "node population '%s' has no nodes", p->name);
    if (st == BS_OK)
      st = pick_model(sr, p, c);
  }
  bs_io_sonata_nodes_info_free(&info);
  free(nf);
  return st;
}

/* A population's spec: per type parameters and initial state; scalars
 * where every type agrees, per node type (read per rank) where not. */
static bs_status build_pop(sreader *sr, npop *p) {
  bs_spec *s = sr->spec;
  const bs_neuron_model *m = p->model;
  const int np = m->np, nx = m->nx;
  bs_pop_spec *ps = &s->pops[s->n_pops];
  p->spec = s->n_pops++;
  ps->name = bs_strdup(p->name);
  ps->model = m;
  ps->size = p->size;
  ps->method = BS_METHOD_EXP_AUTO;
  bs_sonata_types *sn = calloc(1, sizeof *sn);
  ps->sn = sn;
  if (!sn)
    return bs_error_set(sr->ctx, BS_ERR_NOMEM, "out of memory");
  sn->file = bs_strdup(p->file);
  sn->population = bs_strdup(p->name);
  sn->n = p->nt;
  sn->id = calloc((size_t)p->nt, sizeof *sn->id);
  sn->p = calloc((size_t)p->nt * (size_t)(np ? np : 1), sizeof *sn->p);
  sn->x0 = calloc((size_t)p->nt * (size_t)(nx ? nx : 1), sizeof *sn->x0);
  sn->p_var = calloc((size_t)(np ? np : 1), 1);
  sn->x_var = calloc((size_t)(nx ? nx : 1), 1);
  p->q = calloc((size_t)p->nt * NQ, sizeof *p->q);
  BS_CALL(sr->ctx, bs_calloc(sr->ctx, (size_t)(nx ? nx : 1), sizeof *ps->init,
                             &ps->init));
  if (!sn->id || !sn->p || !sn->x0 || !sn->p_var || !sn->x_var || !p->q)
    return bs_error_set(sr->ctx, BS_ERR_NOMEM, "out of memory");
  for (int k = 0; k < p->nt; k++) {
    sn->id[k] = p->t[k].id;
    BS_CALL(sr->ctx,
            type_params(sr, p, p->types, &p->t[k], sn->p + (size_t)k * np,
                        sn->x0 + (size_t)k * nx, p->q + k * NQ));
  }
  for (int i = 0; i < np; i++) {
    ps->p[i] = sn->p[i];
    for (int k = 1; k < p->nt; k++) {
      const double a = sn->p[i], b = sn->p[(size_t)k * np + i];
      if (!(a == b || (isnan(a) && isnan(b))))
        sn->p_var[i] = 1;
    }
    if (sn->p_var[i] && (m->params[i].flags & BS_P_INTEGER))
      return serr(sr, p->types->file,
                  "population '%s': parameter %s differs between node types "
                  "but is one value per population in %s",
                  p->name, m->params[i].name, m->name);
    if (sn->p_var[i] && isnan(sn->p[i]) != isnan(sn->p[(size_t)np + i]))
      return serr(sr, p->types->file,
                  "population '%s': parameter %s is null for some node types "
                  "only",
                  p->name, m->params[i].name);
    if (sn->p_var[i]) {
      ps->p[i] = NAN;
      ps->nhetero++;
    }
  }
  if (ps->nhetero) { /* engine/pop.c's per-neuron path */
    BS_CALL(sr->ctx,
            bs_calloc(sr->ctx, (size_t)np, sizeof *ps->pdist, &ps->pdist));
    BS_CALL(sr->ctx,
            bs_calloc(sr->ctx, (size_t)np, sizeof *ps->plist, &ps->plist));
    BS_CALL(sr->ctx,
            bs_calloc(sr->ctx, (size_t)np, sizeof *ps->pfile, &ps->pfile));
    BS_CALL(sr->ctx,
            bs_calloc(sr->ctx, (size_t)np, sizeof *ps->pdset, &ps->pdset));
  }
  for (int v = 0; v < nx; v++) {
    ps->init[v].kind = m->vars[v].init_kind;
    ps->init[v].a = m->vars[v].init;
    ps->init[v].b = m->vars[v].init_b;
    const double a = sn->x0[v];
    for (int k = 1; k < p->nt; k++) {
      const double b = sn->x0[(size_t)k * nx + v];
      if (!(a == b || (isnan(a) && isnan(b))))
        sn->x_var[v] = 1;
    }
    if (sn->x_var[v]) {
      for (int k = 0; k < p->nt; k++)
        if (isnan(sn->x0[(size_t)k * nx + v]))
          return serr(sr, p->types->file,
                      "population '%s': the initial %s is given for some "
                      "node types only (its default is not a constant)",
                      p->name, m->vars[v].name);
      ps->init[v] = (bs_dist){.kind = BS_DIST_CONST, .a = NAN};
    } else if (!isnan(a)) {
      ps->init[v] = (bs_dist){.kind = BS_DIST_CONST, .a = a};
    }
  }
  return BS_OK;
}

/* node_type_id of every node of p (node sets by node attribute). */
static bs_status all_types(sreader *sr, npop *p) {
  if (p->all_types)
    return BS_OK;
  BS_CALL(sr->ctx,
          bs_malloc(sr->ctx, (size_t)p->size, sizeof(int64_t), &p->all_types));
  return bs_io_sonata_node_types(sr->ctx, p->file, p->name, 0, p->size,
                                 p->all_types);
}

static npop *find_pop(sreader *sr, const char *name) {
  for (int i = 0; i < sr->np; i++)
    if (strcmp(sr->pop[i].name, name) == 0)
      return &sr->pop[i];
  return NULL;
}

/* ---- node sets ------------------------------------------------------------
 */

/* Node membership per population: sel[p][i] for node i of population p. */
typedef struct nsel {
  unsigned char *m[MAX_NPOPS];
} nsel;

static void nsel_free(sreader *sr, nsel *s) {
  for (int i = 0; i < sr->np; i++)
    free(s->m[i]);
}

static bs_status nsel_pop(sreader *sr, nsel *s, int p) {
  if (!s->m[p]) {
    s->m[p] = calloc((size_t)sr->pop[p].size, 1);
    if (!s->m[p])
      return bs_error_set(sr->ctx, BS_ERR_NOMEM, "out of memory");
  }
  return BS_OK;
}

static int json_matches(json_t *want, const char *have) {
  if (!have)
    return 0;
  if (json_is_string(want))
    return strcmp(json_string_value(want), have) == 0;
  if (json_is_number(want)) {
    char *end;
    double h = strtod(have, &end);
    return !*end && h == json_number_value(want);
  }
  return 0;
}

/* want is a value or a list of values (OR within a list). */
static int json_any(json_t *want, const char *have) {
  if (!json_is_array(want))
    return json_matches(want, have);
  size_t i;
  json_t *v;
  json_array_foreach(want, i, v) if (json_matches(v, have)) return 1;
  return 0;
}

static bs_status resolve_set(sreader *sr, const char *file, const char *what,
                             json_t *set, int depth, nsel *out);

/* A basic set {attr: value | [values], ...}: AND across keys, population
 * and node_id special, other keys node type columns. */
static bs_status basic_set(sreader *sr, const char *file, const char *what,
                           json_t *set, nsel *out) {
  json_t *pv = json_object_get(set, "population");
  json_t *idv = json_object_get(set, "node_id");
  for (int p = 0; p < sr->np; p++) {
    npop *P = &sr->pop[p];
    if (pv && !json_any(pv, P->name))
      continue;
    const char *k;
    json_t *v;
    int ok = 1, need_rows = 0;
    /* per node type: does it satisfy every attribute? */
    unsigned char *tok = calloc((size_t)P->nt, 1);
    if (!tok)
      return bs_error_set(sr->ctx, BS_ERR_NOMEM, "out of memory");
    for (int t = 0; t < P->nt; t++)
      tok[t] = 1;
    json_object_foreach(set, k, v) {
      if (!strcmp(k, "population") || !strcmp(k, "node_id"))
        continue;
      int col = csv_col(P->types, k);
      if (col < 0 && !strcmp(k, "node_type_id"))
        col = csv_col(P->types, "node_type_id");
      if (col < 0) {
        /* the attribute is no column of this population's types */
        ok = 0;
        break;
      }
      need_rows = 1;
      for (int t = 0; t < P->nt; t++)
        tok[t] &= json_any(v, csv_at(P->types, P->t[t].row, col));
    }
    bs_status st = BS_OK;
    if (ok)
      st = nsel_pop(sr, out, p);
    if (ok && st == BS_OK && need_rows)
      st = all_types(sr, P);
    for (uint64_t i = 0; ok && st == BS_OK && i < P->size; i++) {
      int in = 1;
      if (need_rows) {
        in = 0;
        for (int t = 0; t < P->nt; t++)
          if (P->t[t].id == P->all_types[i])
            in = tok[t];
      }
      if (in && idv) {
        json_t *one = json_integer((json_int_t)i);
        in = 0;
        if (json_is_array(idv)) {
          size_t a;
          json_t *e;
          json_array_foreach(idv, a, e) in |= json_equal(e, one);
        } else {
          in = json_equal(idv, one);
        }
        json_decref(one);
      }
      if (in)
        out->m[p][i] = 1;
    }
    free(tok);
    BS_CALL(sr->ctx, st);
  }
  (void)file;
  (void)what;
  return BS_OK;
}

static bs_status named_set(sreader *sr, const char *file, const char *what,
                           const char *name, int depth, nsel *out) {
  json_t *def = sr->node_sets ? json_object_get(sr->node_sets, name) : NULL;
  if (def)
    return resolve_set(sr, sr->node_sets_file ? sr->node_sets_file : file, name,
                       def, depth + 1, out);
  npop *P = find_pop(sr, name);
  if (P || strcmp(name, "all") == 0) {
    for (int p = 0; p < sr->np; p++) {
      if (P ? &sr->pop[p] != P : sr->pop[p].virt)
        continue;
      BS_CALL(sr->ctx, nsel_pop(sr, out, p));
      memset(out->m[p], 1, (size_t)sr->pop[p].size);
    }
    return BS_OK;
  }
  return serr(sr, file,
              "key '%s': no node set '%s' (not in node_sets, not a node "
              "population, not 'all')",
              what, name);
}

static bs_status resolve_set(sreader *sr, const char *file, const char *what,
                             json_t *set, int depth, nsel *out) {
  if (depth > 32)
    return serr(sr, file, "node set '%s': sets refer to each other in a loop",
                what);
  if (json_is_string(set))
    return named_set(sr, file, what, json_string_value(set), depth, out);
  if (json_is_array(set)) { /* compound: the union of named sets */
    size_t i;
    json_t *v;
    json_array_foreach(set, i, v) {
      if (!json_is_string(v))
        return serr(sr, file,
                    "key '%s': a compound node set lists set names, got %s",
                    what, jtype(v));
      BS_CALL(sr->ctx,
              named_set(sr, file, what, json_string_value(v), depth, out));
    }
    return BS_OK;
  }
  if (json_is_object(set))
    return basic_set(sr, file, what, set, out);
  return serr(sr, file,
              "key '%s': expected a node set (a name, a list of names or "
              "{attribute: value}), got %s",
              what, jtype(set));
}

/* ---- edges -----------------------------------------------------------------
 */

typedef struct etype {
  int64_t id;
  int row;
  const char *tmpl;
  const char *dyn;
  int has_w, has_d;
  double w, d;
} etype;

/* A projection of one edge population: its types (one, or all of a
 * brainsim: synapse), the sign of the weights it takes. */
static bs_status add_proj(sreader *sr, const char *name, const npop *pre,
                          const npop *post, const char *file, const char *epop,
                          const bs_sonata_edge_pop *ei, const etype *t,
                          int sign, const char *csvfile, int csvline) {
  bs_spec *s = sr->spec;
  bs_proj_spec *pj = &s->projs[s->n_projs++];
  const bs_pop_spec *po = &s->pops[post->spec];
  char where[4200];
  snprintf(where, sizeof where, "%s:%d", csvfile, csvline);
  pj->name = bs_strdup(name);
  pj->pre = pre->spec;
  pj->post = post->spec;
  pj->conn = bs_connector_find("SONATA");
  pj->conn_file = bs_strdup(file);
  pj->conn_group = bs_strdup(epop);
  pj->conn_source = bs_strdup(pre->name);
  pj->conn_target = bs_strdup(post->name);
  pj->E_idx = -1;
  BS_CALL(sr->ctx, bs_calloc(sr->ctx, 1, sizeof(int64_t), &pj->conn_types));
  pj->conn_types[0] = t->id;
  pj->n_conn_types = 1;
  pj->g_max.kind = BS_DIST_CONST;
  pj->delay.kind = BS_DIST_CONST;
  pj->delay_is_ms = 1;
  if (!t->has_w && !ei->has_w)
    return serr(sr, where,
                "edge type %lld: no syn_weight in the edge types CSV nor in "
                "the edge groups of %s",
                (long long)t->id, file);
  if (!t->has_d && !ei->has_d)
    return serr(sr, where,
                "edge type %lld: no delay in the edge types CSV nor in the "
                "edge groups of %s",
                (long long)t->id, file);
  const int nest = strcmp(t->tmpl, "static_synapse") == 0 ||
                   strcmp(t->tmpl, "nest:static_synapse") == 0;
  json_t *dp = NULL;
  const csv *c = NULL;
  for (int i = 0; i < sr->ncsv; i++)
    if (!strcmp(sr->csvs[i]->file, csvfile))
      c = sr->csvs[i];
  BS_CALL(sr->ctx, load_dyn(sr, sr->syn_dir, "synaptic_models_dir", c, t->row,
                            t->dyn, &dp));
  char dfile[4200];
  if (t->dyn)
    snprintf(dfile, sizeof dfile, "%s/%s", sr->syn_dir, t->dyn);
  else
    snprintf(dfile, sizeof dfile, "%s", where);
  bs_status st = BS_OK;
  double w = t->has_w ? t->w : 1.0, shift = 0.0;
  if (nest) {
    if (!post->tp) {
      st = serr(sr, where,
                "edge type %lld: static_synapse (NEST) into population '%s' "
                "(%s): NEST synapses go into the nest: templates; use "
                "brainsim:<Synapse>",
                (long long)t->id, post->name, post->t[0].mtmpl);
      goto out;
    }
    if (dp && json_object_size(dp) > 0) {
      const char *k0 = json_object_iter_key(json_object_iter(dp));
      st = serr(sr, dfile,
                "key '%s': static_synapse takes syn_weight and delay from "
                "the edges, no dynamics_params",
                k0);
      goto out;
    }
    const tmpl *tp = post->tp;
    pj->syn = bs_syn_find(tp->synapse);
    pj->out = bs_output_find(tp->output ? tp->output : "CUBA");
    for (int i = 0; i < pj->syn->np; i++)
      pj->sp[i] = pj->syn->params[i].def;
    for (int i = 0; i < pj->out->np; i++)
      pj->op[i] = pj->out->params[i].def;
    if (tp->by_sign) {
      /* tau_syn (and E) of the post's types: one value per population */
      const int ex = sign >= 0;
      double tau = post->q[ex ? Q_TAU_EX : Q_TAU_IN];
      double E = post->q[ex ? Q_E_EX : Q_E_IN];
      for (int k = 1; k < post->nt; k++) {
        double t2 = post->q[k * NQ + (ex ? Q_TAU_EX : Q_TAU_IN)];
        double E2 = post->q[k * NQ + (ex ? Q_E_EX : Q_E_IN)];
        if (t2 != tau || !(E2 == E || (isnan(E) && isnan(E2)))) {
          st = serr(sr, post->types->file,
                    "population '%s': %s differs between node types %lld "
                    "and %lld; brainsim's synapse takes one value per "
                    "projection",
                    post->name,
                    t2 != tau ? (ex ? "tau_syn_ex" : "tau_syn_in")
                              : (ex ? "E_ex" : "E_in"),
                    (long long)post->t[0].id, (long long)post->t[k].id);
          goto out;
        }
      }
      pj->sp[bs_param_index(pj->syn->np, pj->syn->params, "tau")] = tau;
      if (tp->abs_w) {
        pj->E_idx = bs_param_index(pj->out->np, pj->out->params, "E");
        pj->op[pj->E_idx] = E;
      }
      pj->conn_sign = ei->has_w ? (ex ? 1 : -1) : 0;
      pj->conn_abs = tp->abs_w;
    } else if (pj->syn->to_V) {
      /* NEST's iaf_psc_delta drops input while refractory: Delta's gating,
       * when the post's t_ref is one value */
      const int pi =
          bs_param_index(po->model->np, po->model->params, "tau_ref");
      pj->post_ref = pi >= 0 && !isnan(po->p[pi]) && po->p[pi] > 0;
    }
    pj->g_max.a = pj->conn_abs ? fabs(w) : w;
    /* NEST: the spike of step n (stamped n + 1) with delay d steps is
     * added in step n + d; brainsim adds it in step n + 1 + d'. */
    shift = -1.0;
  } else if (strncmp(t->tmpl, "brainsim:", 9) == 0) {
    pj->syn = bs_syn_find(t->tmpl + 9);
    if (!pj->syn || pj->syn->gap) {
      char list[1024];
      size_t u = 0;
      list[0] = '\0';
      for (int i = 0; i < bs_syn_count(); i++)
        if (!bs_syn_at(i)->gap)
          u += (size_t)snprintf(list + u, u < sizeof list ? sizeof list - u : 0,
                                "%s%s", u ? ", " : "", bs_syn_at(i)->name);
      st = serr(sr, where,
                "edge type %lld: no brainsim synapse '%s' "
                "(available: %s)",
                (long long)t->id, t->tmpl + 9, list);
      goto out;
    }
    const bs_syn_model *sm = pj->syn;
    pj->out = bs_output_find(sm->def_output ? sm->def_output : "CUBA");
    json_t *sub = json_object();
    const char *k;
    json_t *v;
    const char *oname = NULL;
    json_object_foreach(dp, k, v) {
      if (!strcmp(k, "output")) {
        if (!json_is_string(v)) {
          st = serr(sr, dfile,
                    "key 'output': expected a name (CUBA, COBA, "
                    "MgBlock), got %s",
                    jtype(v));
          break;
        }
        oname = json_string_value(v);
      } else if (bs_param_index(sm->np, sm->params, k) < 0) {
        json_object_set(sub, k, v); /* an output parameter, checked below */
      }
    }
    if (st == BS_OK && oname) {
      pj->out = bs_output_find(oname);
      if (!pj->out || sm->to_V)
        st = serr(sr, dfile, "key 'output': %s '%s'",
                  sm->to_V ? "Delta takes no output, got" : "unknown output",
                  oname);
    }
    double opar[BS_MAX_PARAMS];
    if (st == BS_OK) {
      json_t *sp = json_object();
      json_object_foreach(dp, k, v) if (bs_param_index(sm->np, sm->params, k) >=
                                        0) json_object_set(sp, k, v);
      char owner[300];
      snprintf(owner, sizeof owner, "synapse %s", sm->name);
      st = dyn_params(sr, dfile, sp, sm->np, sm->params, owner, pj->sp, NULL,
                      NULL);
      json_decref(sp);
      snprintf(owner, sizeof owner, "output %s", pj->out->name);
      if (st == BS_OK)
        st = dyn_params(sr, dfile, sub, pj->out->np, pj->out->params, owner,
                        opar, NULL, NULL);
    }
    json_decref(sub);
    if (st != BS_OK)
      goto out;
    int ie = bs_param_index(pj->out->np, pj->out->params, "E");
    for (int i = 0; i < pj->out->np; i++)
      pj->op[i] = opar[i];
    if (!oname && !(dp && json_object_get(dp, "E")) && sm->def_output &&
        !isnan(sm->def_E) && ie >= 0)
      pj->op[ie] = sm->def_E;
    pj->E_idx = ie;
    pj->g_max.a = w;
  } else {
    st = serr(sr, where,
              "edge type %lld: model_template '%s' has no brainsim "
              "equivalent (accepted: static_synapse into nest: templates, "
              "brainsim:<Synapse>)",
              (long long)t->id, t->tmpl);
    goto out;
  }
  if (!po->model->has_V) {
    st = serr(sr, where,
              "edge type %lld: target population '%s' has no "
              "membrane",
              (long long)t->id, post->name);
    goto out;
  }
  pj->delay_shift = shift;
  if (t->has_d) {
    const double steps = floor(t->d * (1.0 / s->dt) + 0.5) + shift;
    if (!(steps >= 0) || steps > 1e6) {
      st =
          serr(sr, where, "edge type %lld: delay %g ms is %s (dt %g ms%s)",
               (long long)t->id, t->d, steps < 0 ? "too short" : "out of range",
               s->dt, nest ? "; NEST delays are at least one step" : "");
      goto out;
    }
    pj->delay.a = steps;
  }
out:
  if (dp)
    json_decref(dp);
  return st;
}

static bs_status read_edges_entry(sreader *sr, const sdoc *d, json_t *e,
                                  int k) {
  char *ef = NULL;
  csv *c = NULL;
  bs_status st = entry_files(sr, d, e, "edge", k, &ef, &c);
  bs_sonata_edges_info info = {0};
  if (st == BS_OK)
    st = bs_io_sonata_edges_info(sr->ctx, ef, &info);
  etype *ty = NULL;
  int nty = 0;
  if (st == BS_OK) {
    ty = calloc((size_t)(c->nrow ? c->nrow : 1), sizeof *ty);
    if (!ty)
      st = bs_error_set(sr->ctx, BS_ERR_NOMEM, "out of memory");
  }
  if (st == BS_OK && csv_col(c, "edge_type_id") < 0)
    st = serr(sr, c->file, "the edge types CSV has no column edge_type_id");
  if (st == BS_OK && csv_col(c, "population") >= 0)
    st = serr(sr, c->file,
              "column 'population': edge types shared between edge "
              "populations of one file are all brainsim reads; leave it "
              "out");
  for (int r = 0; st == BS_OK && c && r < c->nrow; r++) {
    etype *t = &ty[nty++];
    t->row = r;
    st = csv_int(sr, c, r, csv_col(c, "edge_type_id"), "edge_type_id", &t->id);
    t->tmpl = csv_at(c, r, csv_col(c, "model_template"));
    t->dyn = csv_at(c, r, csv_col(c, "dynamics_params"));
    if (st == BS_OK && !t->tmpl)
      st = bs_error_set(sr->ctx, BS_ERR_CONFIG,
                        "%s:%d: error: edge type %lld has no model_template",
                        c->file, c->line[r], (long long)t->id);
    if (st == BS_OK && csv_at(c, r, csv_col(c, "syn_weight"))) {
      t->has_w = 1;
      st = csv_num(sr, c, r, csv_col(c, "syn_weight"), "syn_weight", &t->w);
    }
    if (st == BS_OK && csv_at(c, r, csv_col(c, "delay"))) {
      t->has_d = 1;
      st = csv_num(sr, c, r, csv_col(c, "delay"), "delay", &t->d);
    }
    for (int o = 0; o < nty - 1 && st == BS_OK; o++)
      if (ty[o].id == t->id)
        st = bs_error_set(sr->ctx, BS_ERR_CONFIG,
                          "%s:%d: error: edge_type_id %lld is listed twice",
                          c->file, c->line[r], (long long)t->id);
  }
  for (int q = 0; q < info.n && st == BS_OK; q++) {
    const bs_sonata_edge_pop *ei = &info.pop[q];
    npop *pre = find_pop(sr, ei->source), *post = find_pop(sr, ei->target);
    if (!pre || !post) {
      st = serr(sr, ef,
                "edge population '%s': node population '%s' (%s) is not in "
                "networks.nodes",
                ei->name, pre ? ei->target : ei->source,
                pre ? "target_node_id@node_population"
                    : "source_node_id@node_population");
      break;
    }
    if (post->virt) {
      st = serr(sr, ef,
                "edge population '%s': target population '%s' is "
                "virtual",
                ei->name, post->name);
      break;
    }
    for (int k2 = 0; k2 < nty && st == BS_OK; k2++) {
      const etype *t = &ty[k2];
      const int split = post->tp && post->tp->by_sign &&
                        (!strcmp(t->tmpl, "static_synapse") ||
                         !strcmp(t->tmpl, "nest:static_synapse"));
      const int signs = split && ei->has_w ? 2 : 1;
      for (int sg = 0; sg < signs && st == BS_OK; sg++) {
        if (sr->spec->n_projs == MAX_EPOPS * 16) {
          st = serr(sr, ef, "too many edge types");
          break;
        }
        int sign = signs == 2 ? (sg ? -1 : 1) : (t->has_w && t->w < 0 ? -1 : 1);
        char name[600];
        if (nty == 1 && signs == 1)
          snprintf(name, sizeof name, "%s", ei->name);
        else
          snprintf(name, sizeof name, "%s.%lld%s", ei->name, (long long)t->id,
                   signs == 2 ? (sg ? ".in" : ".ex") : "");
        if (cfg_find_proj(sr->spec, name) >= 0) {
          st = serr(sr, ef, "edge population '%s' is defined twice", ei->name);
          break;
        }
        st = add_proj(sr, name, pre, post, ef, ei->name, ei, t, sign, c->file,
                      c->line[t->row]);
      }
    }
  }
  free(ty);
  bs_io_sonata_edges_info_free(&info);
  free(ef);
  return st;
}

/* ---- the simulation config sections ---------------------------------------
 */

static bs_status read_run(sreader *sr) {
  static const char *const keys[] = {"tstart",      "tstop",        "dt",
                                     "random_seed", "nsteps_block", NULL};
  const char *f = sr->sim.file;
  json_t *run = NULL;
  BS_CALL(sr->ctx, get_object(sr, f, sr->sim.root, "run", "run", &run));
  if (!run)
    return serr(sr, f, "missing required key 'run' (tstop, dt)");
  BS_CALL(sr->ctx, check_keys(sr, f, "run", run, keys));
  bs_spec *s = sr->spec;
  json_t *v;
  if (!(v = json_object_get(run, "dt")))
    return serr(sr, f, "key 'run': missing required key 'dt' (ms)");
  BS_CALL(sr->ctx, get_number(sr, f, v, "run.dt", &s->dt));
  if (!(s->dt > 0) || s->dt > 1000)
    return serr(sr, f, "key 'run.dt': %g ms is out of range (0, 1000]", s->dt);
  if (!(v = json_object_get(run, "tstop")))
    return serr(sr, f, "key 'run': missing required key 'tstop' (ms)");
  BS_CALL(sr->ctx, get_number(sr, f, v, "run.tstop", &s->duration));
  double t0 = 0;
  if ((v = json_object_get(run, "tstart")))
    BS_CALL(sr->ctx, get_number(sr, f, v, "run.tstart", &t0));
  if (t0 != 0)
    return serr(sr, f, "key 'run.tstart': %g ms; brainsim runs start at 0", t0);
  if (!(s->duration > 0))
    return serr(sr, f, "key 'run.tstop': must be > 0 ms, got %g", s->duration);
  double steps = s->duration / s->dt;
  s->n_steps = (int64_t)llround(steps);
  if (fabs(steps - (double)s->n_steps) > 1e-6 * (steps > 1 ? steps : 1))
    return serr(sr, f,
                "key 'run.tstop': %g ms is not a whole number of steps of dt "
                "= %g ms",
                s->duration, s->dt);
  if (s->n_steps > INT32_MAX)
    return serr(sr, f, "key 'run.tstop': %lld steps is too many",
                (long long)s->n_steps);
  s->trials = 1;
  s->trial_steps = s->n_steps;
  s->trial_duration = s->duration;
  if ((v = json_object_get(run, "random_seed"))) {
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > (json_int_t)UINT32_MAX)
      return serr(sr, f,
                  "key 'run.random_seed': expected a whole number in [0, "
                  "2^32 - 1], got %s",
                  jtype(v));
    s->seed = (uint64_t)json_integer_value(v);
  }
  /* nsteps_block is BMTK's write-block hint; brainsim buffers by size. */
  return BS_OK;
}

static bs_status read_output(sreader *sr) {
  static const char *const keys[] = {"output_dir",
                                     "spikes_file",
                                     "spikes_sort_order",
                                     "overwrite_output_dir",
                                     "log_file",
                                     "quiet_simulator",
                                     NULL};
  const char *f = sr->sim.file;
  json_t *o = NULL, *v;
  BS_CALL(sr->ctx, get_object(sr, f, sr->sim.root, "output", "output", &o));
  if (o)
    BS_CALL(sr->ctx, check_keys(sr, f, "output", o, keys));
  bs_spec *s = sr->spec;
  if (o && (v = json_object_get(o, "output_dir")))
    BS_CALL(sr->ctx,
            get_path(sr, &sr->sim, v, "output.output_dir", NULL, &s->out_dir));
  else {
    json_t *dir = json_string("output");
    bs_status ds =
        get_path(sr, &sr->sim, dir, "output.output_dir", NULL, &s->out_dir);
    json_decref(dir);
    BS_CALL(sr->ctx, ds);
  }
  json_t *sf = o ? json_object_get(o, "spikes_file") : NULL;
  json_t *def = json_string("spikes.h5");
  bs_status st = get_path(sr, &sr->sim, sf ? sf : def, "output.spikes_file",
                          s->out_dir, &s->out_file);
  json_decref(def);
  BS_CALL(sr->ctx, st);
  if (o && (v = json_object_get(o, "spikes_sort_order"))) {
    const char *so = NULL;
    BS_CALL(sr->ctx, get_string(sr, f, v, "output.spikes_sort_order", &so));
    if (strcmp(so, "time") && strcmp(so, "by_time") && strcmp(so, "none"))
      return serr(sr, f,
                  "key 'output.spikes_sort_order': '%s'; brainsim writes "
                  "spikes sorted by time (time, by_time, none)",
                  so);
  }
  if (o && (v = json_object_get(o, "overwrite_output_dir"))) {
    if (!json_is_boolean(v))
      return serr(sr, f,
                  "key 'output.overwrite_output_dir': expected true or "
                  "false, got %s",
                  jtype(v));
    s->out_overwrite = json_is_true(v);
  }
  return BS_OK;
}

/* The monitor of report `what` over the chosen nodes of population P. */
static bs_status report_pop(sreader *sr, const char *what, const char *var,
                            const npop *P, const unsigned char *sel,
                            const int64_t *tv, const char *base, int split) {
  bs_spec *s = sr->spec;
  const char *f = sr->sim.file;
  const bs_neuron_model *mo = P->model;
  /* V_m (NEST's and BMTK's name) is brainsim's V */
  const char *bv = !strcmp(var, "V_m") && mo->has_V ? "V" : var;
  bs_monitor_spec m = {.kind = BS_MON_STATE,
                       .pop = P->spec,
                       .proj = -1,
                       .every = tv[0],
                       .start = tv[1],
                       .stop = tv[2]};
  m.var = bs_var_index(mo->nx, mo->vars, bv);
  if (m.var < 0) {
    char list[512];
    size_t u = 0;
    list[0] = '\0';
    for (int x = 0; x < mo->nx; x++)
      u += (size_t)snprintf(list + u, sizeof list - u, "%s%s", x ? ", " : "",
                            mo->vars[x].name);
    return serr(sr, f,
                "key '%s.variable_name': population '%s' (%s) has no "
                "variable '%s' (%s%s)",
                what, P->name, P->t[0].mtmpl, var, mo->has_V ? "V_m, " : "",
                list);
  }
  for (int q = 0; q < s->n_monitors; q++)
    if (s->monitors[q].kind == BS_MON_STATE && s->monitors[q].pop == m.pop &&
        !strcmp(s->monitors[q].name, mo->vars[m.var].name))
      return serr(sr, f,
                  "key '%s': population '%s' already has a report of %s; "
                  "brainsim writes one per variable and population",
                  what, P->name, var);
  if (s->n_monitors > MAX_REPORTS)
    return serr(sr, f, "more than %d reports", MAX_REPORTS);
  uint64_t cnt = 0;
  for (uint64_t i = 0; i < P->size; i++)
    cnt += sel[i];
  size_t bl = strlen(base);
  m.idx = malloc(cnt * sizeof *m.idx);
  m.file = malloc(bl + strlen(P->name) + 8);
  m.name = bs_strdup(mo->vars[m.var].name);
  if (!m.idx || !m.file || !m.name) {
    free(m.idx);
    free(m.file);
    free(m.name);
    return bs_error_set(sr->ctx, BS_ERR_NOMEM, "out of memory");
  }
  for (uint64_t i = 0; i < P->size; i++)
    if (sel[i])
      m.idx[m.n_idx++] = i;
  if (split && bl > 3 && !strcmp(base + bl - 3, ".h5"))
    sprintf(m.file, "%.*s.%s.h5", (int)(bl - 3), base, P->name);
  else if (split)
    sprintf(m.file, "%s.%s.h5", base, P->name);
  else
    strcpy(m.file, base);
  s->monitors[s->n_monitors++] = m;
  return BS_OK;
}

/* The monitors: spikes of every simulated population, and each report. */
static bs_status read_reports(sreader *sr) {
  static const char *const keys[] = {
      "cells",      "variable_name", "module",    "sections", "dt",
      "start_time", "end_time",      "file_name", "enabled",  "type",
      "unit",       "transform",     NULL};
  bs_spec *s = sr->spec;
  const char *f = sr->sim.file;
  s->monitors = calloc(MAX_REPORTS + 1, sizeof *s->monitors);
  if (!s->monitors)
    return bs_error_set(sr->ctx, BS_ERR_NOMEM, "out of memory");
  bs_monitor_spec *sm = &s->monitors[s->n_monitors++];
  *sm = (bs_monitor_spec){
      .kind = BS_MON_SPIKES, .pop = -1, .proj = -1, .every = 1, .stop = -1};
  BS_CALL(sr->ctx, bs_calloc(sr->ctx, (size_t)(s->n_pops ? s->n_pops : 1),
                             sizeof(int), &sm->pops));
  for (int p = 0; p < sr->np; p++) /* BMTK records the simulated nodes */
    sm->pops[sr->pop[p].spec] = !sr->pop[p].virt;
  json_t *reps = NULL;
  BS_CALL(sr->ctx,
          get_object(sr, f, sr->sim.root, "reports", "reports", &reps));
  const char *name;
  json_t *r;
  json_object_foreach(reps, name, r) {
    char what[300], w2[400];
    snprintf(what, sizeof what, "reports.%s", name);
    if (!json_is_object(r))
      return serr(sr, f, "key '%s': expected an object, got %s", what,
                  jtype(r));
    BS_CALL(sr->ctx, check_keys(sr, f, what, r, keys));
    json_t *v;
    if ((v = json_object_get(r, "enabled")) && json_is_false(v))
      continue;
    const char *var = NULL;
    /* keys brainsim reads with one meaning: refuse the other values */
    static const struct {
      const char *key, *ok1, *ok2, *why;
    } fixed[] = {
        {"module", "membrane_report", "multimeter_report",
         "brainsim writes membrane_report, multimeter_report"},
        {"type", "compartment", NULL,
         "brainsim writes compartment reports of point neurons"},
        {"sections", "soma", NULL, "point neurons have only the soma"},
    };
    for (size_t q = 0; q < sizeof fixed / sizeof fixed[0]; q++) {
      const char *val = NULL;
      if (!(v = json_object_get(r, fixed[q].key)))
        continue;
      snprintf(w2, sizeof w2, "%s.%s", what, fixed[q].key);
      BS_CALL(sr->ctx, get_string(sr, f, v, w2, &val));
      if (strcmp(val, fixed[q].ok1) &&
          !(fixed[q].ok2 && !strcmp(val, fixed[q].ok2)))
        return serr(sr, f, "key '%s': '%s' (%s)", w2, val, fixed[q].why);
    }
    if ((v = json_object_get(r, "transform"))) {
      snprintf(w2, sizeof w2, "%s.transform", what);
      if (!(json_is_object(v) && json_object_size(v) == 0))
        return serr(sr, f,
                    "key '%s': transforms are not applied by "
                    "brainsim",
                    w2);
    }
    snprintf(w2, sizeof w2, "%s.variable_name", what);
    if (!(v = json_object_get(r, "variable_name")))
      return serr(sr, f, "key '%s': missing required key 'variable_name'",
                  what);
    BS_CALL(sr->ctx, get_string(sr, f, v, w2, &var));
    snprintf(w2, sizeof w2, "%s.cells", what);
    json_t *cells = json_object_get(r, "cells");
    json_t *all = json_string("all");
    nsel sel = {{0}};
    bs_status st = resolve_set(sr, f, w2, cells ? cells : all, 0, &sel);
    json_decref(all);
    /* window and sampling: the same for every population */
    const char *tk[3] = {"dt", "start_time", "end_time"};
    int64_t tv[3] = {1, 0, -1};
    for (int q = 0; q < 3 && st == BS_OK; q++) {
      if (!(v = json_object_get(r, tk[q])))
        continue;
      double x;
      snprintf(w2, sizeof w2, "%s.%s", what, tk[q]);
      st = get_number(sr, f, v, w2, &x);
      const double steps = x / s->dt;
      if (st == BS_OK &&
          (fabs(steps - llround(steps)) > 1e-6 * (steps > 1 ? steps : 1) ||
           steps < (q == 0 ? 1 : 0) || steps > (double)s->n_steps))
        st = serr(sr, f,
                  "key '%s': %g ms is not a whole number of steps of dt = "
                  "%g ms in [%s, tstop]",
                  w2, x, s->dt, q == 0 ? "dt" : "0");
      if (st == BS_OK)
        tv[q] = llround(steps);
    }
    if (st == BS_OK && tv[2] >= 0 && tv[2] <= tv[1])
      st = serr(sr, f, "key '%s.end_time': not after start_time", what);
    /* one report file per population: <file_name>, or with cells in
     * several populations <file_name without .h5>.<population>.h5 */
    int npops = 0;
    for (int p = 0; p < sr->np && st == BS_OK; p++) {
      uint64_t cnt = 0;
      for (uint64_t i = 0; sel.m[p] && i < sr->pop[p].size; i++)
        cnt += sel.m[p][i];
      if (cnt && sr->pop[p].virt)
        st = serr(sr, f,
                  "key '%s.cells': population '%s' is virtual (no state "
                  "to report)",
                  what, sr->pop[p].name);
      npops += cnt > 0;
    }
    if (st == BS_OK && npops == 0)
      st = serr(sr, f, "key '%s.cells': the node set is empty", what);
    char *base = NULL;
    if (st == BS_OK) {
      snprintf(w2, sizeof w2, "%s.file_name", what);
      char fn[1024];
      snprintf(fn, sizeof fn, "%s.h5", name);
      json_t *fj = json_object_get(r, "file_name");
      json_t *dj = json_string(fn);
      st = get_path(sr, &sr->sim, fj ? fj : dj, w2, s->out_dir, &base);
      json_decref(dj);
    }
    for (int p = 0; p < sr->np && st == BS_OK; p++) {
      if (!sel.m[p] || !memchr(sel.m[p], 1, (size_t)sr->pop[p].size))
        continue;
      st =
          report_pop(sr, what, var, &sr->pop[p], sel.m[p], tv, base, npops > 1);
    }
    free(base);
    nsel_free(sr, &sel);
    BS_CALL(sr->ctx, st);
  }
  return BS_OK;
}

/* inputs of type spikes: a SONATA spike file into the virtual nodes of
 * one population (its SpikeTimeGroup reads the file, each rank its own
 * nodes' spikes). */
static bs_status read_inputs(sreader *sr) {
  static const char *const keys[] = {"input_type", "module", "input_file",
                                     "node_set", NULL};
  json_t *in = NULL;
  const char *f = sr->sim.file;
  BS_CALL(sr->ctx, get_object(sr, f, sr->sim.root, "inputs", "inputs", &in));
  const char *name;
  json_t *e;
  json_object_foreach(in, name, e) {
    char what[300], w2[400];
    snprintf(what, sizeof what, "inputs.%s", name);
    if (!json_is_object(e))
      return serr(sr, f, "key '%s': expected an object, got %s", what,
                  jtype(e));
    BS_CALL(sr->ctx, check_keys(sr, f, what, e, keys));
    const char *ty = NULL, *mod = NULL;
    json_t *v;
    snprintf(w2, sizeof w2, "%s.input_type", what);
    if (!(v = json_object_get(e, "input_type")))
      return serr(sr, f, "key '%s': missing required key 'input_type'", what);
    BS_CALL(sr->ctx, get_string(sr, f, v, w2, &ty));
    if (strcmp(ty, "spikes"))
      return serr(sr, f,
                  "key '%s': '%s'; brainsim reads inputs of type spikes "
                  "(SONATA spike files into virtual nodes)",
                  w2, ty);
    snprintf(w2, sizeof w2, "%s.module", what);
    if ((v = json_object_get(e, "module"))) {
      BS_CALL(sr->ctx, get_string(sr, f, v, w2, &mod));
      if (strcmp(mod, "sonata") && strcmp(mod, "h5"))
        return serr(sr, f,
                    "key '%s': '%s'; brainsim reads SONATA spike files "
                    "(module sonata or h5)",
                    w2, mod);
    }
    snprintf(w2, sizeof w2, "%s.input_file", what);
    if (!(v = json_object_get(e, "input_file")))
      return serr(sr, f, "key '%s': missing required key 'input_file'", what);
    char *file = NULL;
    BS_CALL(sr->ctx, get_path(sr, &sr->sim, v, w2, NULL, &file));
    snprintf(w2, sizeof w2, "%s.node_set", what);
    nsel sel = {{0}};
    bs_status st = BS_OK;
    if (!(v = json_object_get(e, "node_set")))
      st = serr(sr, f, "key '%s': missing required key 'node_set'", what);
    else
      st = resolve_set(sr, f, w2, v, 0, &sel);
    int pop = -1;
    for (int p = 0; p < sr->np && st == BS_OK; p++) {
      if (!sel.m[p] || !memchr(sel.m[p], 1, (size_t)sr->pop[p].size))
        continue;
      if (!sr->pop[p].virt)
        st = serr(sr, f,
                  "key '%s': population '%s' is not virtual: spike inputs "
                  "go into virtual nodes",
                  w2, sr->pop[p].name);
      else if (pop >= 0)
        st = serr(sr, f,
                  "key '%s': the node set spans populations '%s' and '%s'; "
                  "give each its own input",
                  w2, sr->pop[pop].name, sr->pop[p].name);
      else if (memchr(sel.m[p], 0, (size_t)sr->pop[p].size))
        st = serr(sr, f,
                  "key '%s': the node set holds part of population '%s'; "
                  "brainsim feeds a spike file into a whole population",
                  w2, sr->pop[p].name);
      pop = p;
    }
    nsel_free(sr, &sel);
    if (st == BS_OK && pop < 0)
      st = serr(sr, f, "key '%s': the node set is empty", w2);
    bs_pop_spec *ps = st == BS_OK ? &sr->spec->pops[sr->pop[pop].spec] : NULL;
    if (ps && ps->ev_file)
      st = serr(sr, f,
                "key '%s': population '%s' already takes the spikes of %s; "
                "brainsim reads one spike file per virtual population",
                w2, ps->name, ps->ev_file);
    if (st != BS_OK) {
      free(file);
      return st;
    }
    ps->ev_file = file;
    ps->ev_pop = bs_strdup(ps->name);
  }
  return BS_OK;
}

static bs_status read_node_sets(sreader *sr) {
  const sdoc *d = &sr->sim;
  json_t *v = json_object_get(d->root, "node_sets_file");
  json_t *inl = json_object_get(d->root, "node_sets");
  if (v && inl)
    return serr(sr, d->file, "give node_sets_file or node_sets, not both");
  if (inl) {
    if (!json_is_object(inl))
      return serr(sr, d->file, "key 'node_sets': expected an object, got %s",
                  jtype(inl));
    sr->node_sets = json_incref(inl);
    return BS_OK;
  }
  if (!v)
    return BS_OK;
  char *path = NULL;
  BS_CALL(sr->ctx, get_path(sr, d, v, "node_sets_file", NULL, &path));
  bs_status st = load_json(sr, path, &sr->node_sets);
  if (st == BS_OK) {
    static char keep[4096];
    snprintf(keep, sizeof keep, "%s", path);
    sr->node_sets_file = keep;
  }
  free(path);
  return st;
}

static bs_status read_components(sreader *sr) {
  const sdoc *d = sr->cdoc;
  json_t *c = NULL;
  BS_CALL(sr->ctx,
          get_object(sr, d->file, d->root, "components", "components", &c));
  const char *k;
  json_t *v;
  json_object_foreach(c, k, v) {
    char what[300];
    snprintf(what, sizeof what, "components.%s", k);
    size_t n = strlen(k);
    if (n < 4 || strcmp(k + n - 4, "_dir"))
      return serr(sr, d->file, "key '%s': components are folders (*_dir)",
                  what);
    if (!strcmp(k, "point_neuron_models_dir"))
      BS_CALL(sr->ctx, get_path(sr, d, v, what, NULL, &sr->neuron_dir));
    else if (!strcmp(k, "synaptic_models_dir"))
      BS_CALL(sr->ctx, get_path(sr, d, v, what, NULL, &sr->syn_dir));
    else if (!json_is_string(v))
      return serr(sr, d->file, "key '%s': expected a folder, got %s", what,
                  jtype(v));
  }
  return BS_OK;
}

static bs_status read_networks(sreader *sr) {
  const sdoc *d = sr->cdoc;
  json_t *nw = NULL;
  BS_CALL(sr->ctx,
          get_object(sr, d->file, d->root, "networks", "networks", &nw));
  if (!nw)
    return serr(sr, d->file,
                "missing 'networks' (nodes, edges): give them here or name "
                "the circuit config with 'network'");
  static const char *const keys[] = {"nodes", "edges", "gap_juncs", NULL};
  BS_CALL(sr->ctx, check_keys(sr, d->file, "networks", nw, keys));
  json_t *gj = json_object_get(nw, "gap_juncs");
  if (gj && !(json_is_array(gj) && json_array_size(gj) == 0))
    return serr(sr, d->file,
                "key 'networks.gap_juncs': gap junction files are not read "
                "by brainsim");
  json_t *nodes = json_object_get(nw, "nodes");
  if (!json_is_array(nodes) || json_array_size(nodes) == 0)
    return serr(sr, d->file,
                "key 'networks.nodes': expected a list of {nodes_file, "
                "node_types_file}");
  size_t i;
  json_t *e;
  json_array_foreach(nodes, i, e)
      BS_CALL(sr->ctx, read_nodes_entry(sr, d, e, (int)i));
  bs_spec *s = sr->spec;
  BS_CALL(sr->ctx,
          bs_calloc(sr->ctx, (size_t)sr->np, sizeof *s->pops, &s->pops));
  uint64_t gid = 0;
  for (int p = 0; p < sr->np; p++) {
    if (sr->pop[p].virt)
      BS_CALL(sr->ctx, virtual_pop(sr, &sr->pop[p]));
    else
      BS_CALL(sr->ctx, build_pop(sr, &sr->pop[p]));
    s->pops[sr->pop[p].spec].gid0 = gid;
    gid += sr->pop[p].size;
    if (gid >= UINT32_MAX)
      return serr(sr, sr->pop[p].file,
                  "%llu neurons in total exceed the limit of 2^32 - 1",
                  (unsigned long long)gid);
  }
  s->n_neurons = gid;
  if (s->n_pops == 0)
    return serr(sr, d->file, "networks.nodes: no simulated population");
  json_t *edges = json_object_get(nw, "edges");
  if (edges && !json_is_array(edges))
    return serr(sr, d->file,
                "key 'networks.edges': expected a list of {edges_file, "
                "edge_types_file}");
  BS_CALL(sr->ctx,
          bs_calloc(sr->ctx, MAX_EPOPS * 16, sizeof *s->projs, &s->projs));
  json_array_foreach(edges, i, e)
      BS_CALL(sr->ctx, read_edges_entry(sr, d, e, (int)i));
  return BS_OK;
}

static bs_status read_sim(sreader *sr, const char *file) {
  static const char *const keys[] = {
      "manifest",   "target_simulator", "run",       "inputs",
      "output",     "reports",          "network",   "networks",
      "components", "node_sets_file",   "node_sets", "simulation",
      NULL};
  BS_CALL(sr->ctx, doc_open(sr, &sr->sim, file));
  json_t *simref = json_object_get(sr->sim.root, "simulation");
  if (simref) {
    /* BMTK's config.json: {"network": circuit, "simulation": sim} */
    char *sp = NULL, *np = NULL;
    static const char *const wk[] = {"manifest", "network", "simulation", NULL};
    BS_CALL(sr->ctx, check_keys(sr, file, "", sr->sim.root, wk));
    json_t *nref = json_object_get(sr->sim.root, "network");
    BS_CALL(sr->ctx, get_path(sr, &sr->sim, simref, "simulation", NULL, &sp));
    bs_status st = BS_OK;
    if (nref)
      st = get_path(sr, &sr->sim, nref, "network", NULL, &np);
    doc_close(&sr->sim);
    if (st == BS_OK)
      st = doc_open(sr, &sr->sim, sp);
    if (st == BS_OK && np && !json_object_get(sr->sim.root, "network"))
      json_object_set_new(sr->sim.root, "network", json_string(np));
    free(sp);
    free(np);
    BS_CALL(sr->ctx, st);
    if (json_object_get(sr->sim.root, "simulation"))
      return serr(sr, sr->sim.file,
                  "key 'simulation': a simulation config "
                  "names no other simulation config");
  }
  BS_CALL(sr->ctx, check_keys(sr, sr->sim.file, "", sr->sim.root, keys));
  json_t *ts = json_object_get(sr->sim.root, "target_simulator");
  if (ts && !json_is_string(ts))
    return serr(sr, sr->sim.file,
                "key 'target_simulator': expected a string, got %s", jtype(ts));
  json_t *nref = json_object_get(sr->sim.root, "network");
  sr->cdoc = &sr->sim;
  if (nref) {
    if (json_object_get(sr->sim.root, "networks"))
      return serr(sr, sr->sim.file,
                  "give 'network' (a circuit config) or 'networks', not "
                  "both");
    char *cp = NULL;
    BS_CALL(sr->ctx, get_path(sr, &sr->sim, nref, "network", NULL, &cp));
    bs_status st = doc_open(sr, &sr->circ, cp);
    free(cp);
    BS_CALL(sr->ctx, st);
    static const char *const ck[] = {"manifest", "components", "networks",
                                     "target_simulator", NULL};
    BS_CALL(sr->ctx, check_keys(sr, sr->circ.file, "", sr->circ.root, ck));
    sr->cdoc = &sr->circ;
  }
  return BS_OK;
}

static void reader_free(sreader *sr) {
  doc_close(&sr->sim);
  doc_close(&sr->circ);
  for (int i = 0; i < sr->np; i++) {
    free(sr->pop[i].name);
    free(sr->pop[i].file);
    free(sr->pop[i].t);
    free(sr->pop[i].q);
    free(sr->pop[i].all_types);
  }
  for (int i = 0; i < sr->ncsv; i++)
    csv_free(sr->csvs[i]);
  free(sr->neuron_dir);
  free(sr->syn_dir);
  if (sr->node_sets)
    json_decref(sr->node_sets);
}

bs_status cfg_sonata_load(bs_ctx *ctx, const char *file, int n_set,
                          bs_spec *spec) {
  if (n_set > 0)
    return bs_error_set(ctx, BS_ERR_CONFIG,
                        "%s: error: --set overrides apply to YAML configs; "
                        "change the SONATA config itself",
                        file);
  sreader *sr = calloc(1, sizeof *sr);
  if (!sr)
    return bs_error_set(ctx, BS_ERR_NOMEM, "out of memory");
  sr->ctx = ctx;
  sr->spec = spec;
  bs_status st = read_sim(sr, file);
  if (st == BS_OK) {
    size_t len = 0;
    st = cfg_read_text(ctx, sr->sim.file, &spec->text, &len);
  }
  if (st == BS_OK)
    st = read_run(sr);
  if (st == BS_OK)
    st = read_output(sr);
  if (st == BS_OK)
    st = read_components(sr);
  if (st == BS_OK)
    st = read_networks(sr);
  if (st == BS_OK)
    st = read_node_sets(sr);
  if (st == BS_OK)
    st = read_inputs(sr);
  if (st == BS_OK)
    st = read_reports(sr);
  reader_free(sr);
  free(sr);
  return st;
}
