/* Private to src/config/: the reader state and the helpers the section
 * readers (populations.c, projections.c, inputs.c, monitors.c) share with
 * reader.c, which holds locations, units, getters, the kind lookup, the
 * overrides and the YAML document. */
#ifndef BRAINSIM_CONFIG_IMPL_H
#define BRAINSIM_CONFIG_IMPL_H

#include <libfyaml.h>
#include <stddef.h>
#include <stdint.h>

#include "brainsim/config.h"

typedef struct reader {
  bs_ctx *ctx;
  const char *file;
  struct fy_document *fyd;
  int n_set;
  char *const *set;
  struct fy_node **set_nodes; /* value node of each override */
  struct fy_node **set_keys;  /* key node an override added, if any */
  bs_spec *spec;
  int hetero_ok; /* reading a population's parameters (read_hetero) */
  /* YAML aliases and merge keys resolved into copies (reader.c): copy k
   * (and everything under it) is blamed on use_line/col[k], the alias or
   * merge key that brought it, with the anchor's line. */
  struct fy_node **use_node;
  int *use_line, *use_col, *anchor_line;
  int n_use, cap_use;
  uint64_t copied; /* nodes copied so far (bounded) */
} reader;

typedef struct fy_node fnode;

/* ---- locations and errors (reader.c) ---------------------------------- */

/* BS_ERR_CONFIG with "file:line:col: error: ..." of n (or the --set
 * argument n came from). */
__attribute__((format(printf, 3, 4))) bs_status
cfg_err_at(reader *rd, fnode *n, const char *fmt, ...);
const char *cfg_kind_name(fnode *n); /* "a mapping", "a list", ... */
const char *cfg_scalar(fnode *n);    /* the text of a scalar, else NULL */
int cfg_is_null(fnode *n);

/* ---- typed getters ----------------------------------------------------- */

bs_status cfg_get_quantity(reader *rd, fnode *n, bs_dim dim, const char *what,
                           double *out);
bs_status cfg_get_uint(reader *rd, fnode *n, const char *what, uint64_t max,
                       uint64_t *out);
bs_status cfg_get_name(reader *rd, fnode *n, const char *what,
                       const char **out);
bs_status cfg_get_param(reader *rd, fnode *n, const bs_param *d,
                        const char *owner, double *out);
/* 1 when v is outside d's range, with the range ("> 0 ms") in why. */
int cfg_param_out_of_range(const bs_param *d, double v, char *why, size_t len);
bs_status cfg_get_dist(reader *rd, fnode *n, bs_dim dim, const char *what,
                       bs_dist *out);
bs_status cfg_get_dist_kv(reader *rd, fnode *k, fnode *v, bs_dim dim,
                          const char *what, bs_dist *out);
bs_status cfg_get_list(reader *rd, fnode *n, uint64_t len, bs_dim dim,
                       const char *what, double **out);
bs_status cfg_get_path(reader *rd, fnode *n, const char *what, char **out);
/* {file: F, dataset: D} at v: F against the config's folder, D as given;
 * `shape` says what D must hold when it is missing ("a dataset of ..."). */
bs_status cfg_get_dataset_ref(reader *rd, fnode *v, const char *what,
                              const char *shape, char **file, char **dataset);
bs_status cfg_get_string(reader *rd, fnode *n, const char *what, char **out);
bs_status cfg_read_range(reader *rd, fnode *n, const char *what, uint64_t size,
                         uint64_t *lo, uint64_t *hi);
bs_status cfg_read_indices(reader *rd, fnode *n, uint64_t size, uint64_t **idx,
                           uint64_t *count);

/* ---- mapping helpers --------------------------------------------------- */

fnode *cfg_lookup(fnode *map, const char *key); /* NULL if absent */
bs_status cfg_expect_mapping(reader *rd, fnode *n, const char *what);
/* Reject keys not in the allowed list (NULL-terminated) nor accepted by
 * the extra callback. */
typedef int (*cfg_key_ok_fn)(const void *data, const char *key);
bs_status cfg_check_keys(reader *rd, fnode *map, const char *what,
                         const char *const *allowed, cfg_key_ok_fn extra,
                         const void *data, const char *expected);
void cfg_list_params(char *buf, size_t len, const char *const *fixed, int np,
                     const bs_param *params, const char *suffix);
bs_status cfg_read_param(reader *rd, fnode *map, const bs_param *d,
                         const char *owner, double *p);
bs_status cfg_read_params(reader *rd, fnode *map, int np,
                          const bs_param *params, const char *owner, double *p);
int cfg_find_pop(const bs_spec *s, const char *name);
int cfg_find_proj(const bs_spec *s, const char *name);
bs_status cfg_get_pop_ref(reader *rd, fnode *n, const char *what, int *out);

/* ---- the kind lookup ---------------------------------------------------- */

/* A registry as the reader sees it: how many kinds, the name of kind i,
 * optionally the registry's own spelling of a name it accepts (its
 * aliases, e.g. MatConn for matrix; NULL if none) and which kinds may be
 * chosen here (keep). */
typedef struct cfg_kinds {
  const char *what; /* "model", "synapse", ...: "unknown WHAT 'X'" */
  int (*count)(const void *data);
  const char *(*name)(const void *data, int i);
  const char *(*canon)(const char *name); /* NULL: names only */
  int (*keep)(const void *data, int i);   /* NULL: all */
  const void *data;
} cfg_kinds;

/* The cfg_kinds `var` of a model registry with COUNT(), AT(i)->name and
 * FIND(name) (which knows the registry's aliases). */
#define CFG_REGISTRY_KINDS(var, what, COUNT, AT, FIND)                         \
  static int var##_count(const void *data) {                                   \
    (void)data;                                                                \
    return COUNT();                                                            \
  }                                                                            \
  static const char *var##_name(const void *data, int i) {                     \
    (void)data;                                                                \
    return AT(i)->name;                                                        \
  }                                                                            \
  static const char *var##_canon(const char *name) {                           \
    return FIND(name) ? FIND(name)->name : NULL;                               \
  }                                                                            \
  static const cfg_kinds var = {what,        var##_count, var##_name,          \
                                var##_canon, NULL,        NULL}

/* "a, b, c": the names of the kinds that may be chosen. */
void cfg_kinds_list(const cfg_kinds *k, char *buf, size_t len);
/* Index of the kind called name (or an alias of it), or -1. */
int cfg_kinds_find(const cfg_kinds *k, const char *name);
/* The kind called name, else an error at n: "OWNER: unknown WHAT 'NAME'
 * (available: ...)". */
bs_status cfg_pick_kind(reader *rd, fnode *n, const char *owner,
                        const cfg_kinds *k, const char *name, int *idx);

/* ---- the document ------------------------------------------------------ */

size_t cfg_utf8_invalid_at(const char *text, size_t len);
void cfg_text_position(const char *text, size_t off, int *line, int *col);
bs_status cfg_apply_override(reader *rd, int k);
bs_status cfg_read_text(bs_ctx *ctx, const char *file, char **text,
                        size_t *len);
bs_status cfg_parse_document(reader *rd, const char *text, size_t len);

/* ---- sections ------------------------------------------------------------ */

bs_status cfg_read_pop(reader *rd, const char *name, fnode *n,
                       bs_pop_spec *pop);
bs_status cfg_read_proj(reader *rd, const char *name, fnode *n,
                        bs_proj_spec *pj);
bs_status cfg_read_input(reader *rd, fnode *n, int k, bs_input_spec *in);
bs_status cfg_read_monitor(reader *rd, fnode *n, int k);

/* A SONATA simulation config (JSON; sonata_sim.c) into a spec. */
bs_status cfg_sonata_load(bs_ctx *ctx, const char *file, int n_set,
                          bs_spec *spec);

#endif
