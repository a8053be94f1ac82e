/* The compressed table of a sparse projection (README "Memory per rank"):
 * the pre neurons a rank keeps rows for, with their row bounds, in about
 * one byte per row where a listed id and a row offset took eight.
 *
 * Per position one varint (LEB128) v = (gap << 1) | single, gap the ids
 * skipped since the previous position (id - previous id - 1, the first
 * from -1) and single set when the row holds exactly one synapse; other
 * rows add a varint of their length (0 for a pre neuron of the rank's own
 * block without a local synapse). Rows follow one another, so a row starts
 * where the previous ended. A skip entry every CTAB_STRIDE positions (id,
 * byte offset, row start) bounds a random access to one search of the
 * skips and CTAB_STRIDE decodes; a cursor, the last position decoded, makes
 * ascending accesses (the sorted spikes of a step, loops over positions)
 * continue where the previous one stopped. */
#include <math.h>
#include <string.h>

#include "engine_impl.h"

#define CTAB_STRIDE 64

typedef struct ctab_skip {
  uint32_t id, byte;
  uint64_t row;
} ctab_skip;

struct lctab {
  uint8_t *b;
  uint64_t nb, n; /* bytes, positions */
  ctab_skip *skip;
  uint64_t nskip;
  /* The cursor: position k (n: none yet) with its id, row start and
   * length, and the byte after its entry. */
  uint64_t k, id, row, len, at;
};

static unsigned vlen(uint64_t v) {
  unsigned n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

static uint8_t *vput(uint8_t *p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  *p++ = (uint8_t)v;
  return p;
}

static uint64_t vget(const uint8_t *b, uint64_t *at) {
  if (b[*at] < 0x80) /* most entries: one byte */
    return b[(*at)++];
  uint64_t v = 0;
  unsigned s = 0;
  uint8_t c;
  do {
    c = b[(*at)++];
    v |= (uint64_t)(c & 0x7f) << s;
    s += 7;
  } while (c & 0x80);
  return v;
}

static uint64_t entry(uint64_t gap, uint64_t len) {
  return gap << 1 | (len == 1);
}

uint64_t bs_ctab_bytes(const uint32_t *ids, const uint64_t *len, uint64_t n) {
  uint64_t nb = 0, prev = UINT64_MAX; /* -1: the first gap counts from 0 */
  for (uint64_t k = 0; k < n; k++) {
    nb += vlen(entry(ids[k] - prev - 1, len[k])) +
          (len[k] == 1 ? 0 : vlen(len[k]));
    prev = ids[k];
  }
  return nb + (n + CTAB_STRIDE - 1) / CTAB_STRIDE * sizeof(ctab_skip) +
         sizeof(struct lctab);
}

bs_status bs_ctab_build(bs_ctx *ctx, const uint32_t *ids, const uint64_t *len,
                        uint64_t n, lctab **out) {
  lctab *t;
  BS_CALL(ctx, bs_calloc(ctx, 1, sizeof *t, &t));
  *out = t;
  t->n = n;
  t->k = n;
  t->nskip = (n + CTAB_STRIDE - 1) / CTAB_STRIDE;
  t->nb = bs_ctab_bytes(ids, len, n) - t->nskip * sizeof(ctab_skip) -
          sizeof(struct lctab);
  BS_CALL(ctx, bs_malloc(ctx, t->nb ? t->nb : 1, 1, &t->b));
  BS_CALL(ctx,
          bs_malloc(ctx, t->nskip ? t->nskip : 1, sizeof(ctab_skip), &t->skip));
  uint8_t *p = t->b;
  uint64_t prev = UINT64_MAX, row = 0;
  for (uint64_t k = 0; k < n; k++) {
    if (k % CTAB_STRIDE == 0)
      t->skip[k / CTAB_STRIDE] = (ctab_skip){ids[k], (uint32_t)(p - t->b), row};
    p = vput(p, entry(ids[k] - prev - 1, len[k]));
    if (len[k] != 1)
      p = vput(p, len[k]);
    prev = ids[k];
    row += len[k];
  }
  BS_ASSERT((uint64_t)(p - t->b) == t->nb);
  if (t->nb > UINT32_MAX)
    return bs_error_set(ctx, BS_ERR_LIMIT,
                        "a compressed table of %llu bytes on rank %d: more "
                        "than 4 GiB",
                        (unsigned long long)t->nb, ctx->rank);
  return BS_OK;
}

void bs_ctab_free(bs_ctx *ctx, lctab **t) {
  if (!*t)
    return;
  bs_free(ctx, (*t)->nb ? (*t)->nb : 1, 1, &(*t)->b);
  bs_free(ctx, (*t)->nskip ? (*t)->nskip : 1, sizeof(ctab_skip), &(*t)->skip);
  bs_free(ctx, 1, sizeof **t, t);
}

double bs_ctab_expected(double n_pre, double nt, double syn) {
  if (nt <= 0)
    return (double)sizeof(lctab);
  /* Gaps between the ids of nt of n_pre neurons, about geometric: a
   * second byte from 64 (v = gap << 1 | single), a third from 8192. */
  const double g = n_pre > nt ? (n_pre - nt) / nt : 0.0, p = g / (1.0 + g);
  const double ids = nt * (1.0 + pow(p, 64.0) + pow(p, 8192.0));
  /* Rows of one synapse need no length: n_pre lam e^-lam of them when
   * each pre neuron has Poisson(lam) local synapses. */
  const double lam = n_pre > 0 ? syn / n_pre : 0.0;
  const double single = fmin(nt, n_pre * lam * exp(-lam));
  return ids + (nt - single) +
         ceil(nt / CTAB_STRIDE) * (double)sizeof(ctab_skip) +
         (double)sizeof(lctab);
}

uint64_t bs_ctab_size(const lctab *t) {
  return t->nb + t->nskip * sizeof(ctab_skip) + sizeof *t;
}

/* The cursor onto the first position of skip block s. */
static void cursor_block(lctab *t, uint64_t s) {
  const ctab_skip *e = &t->skip[s];
  uint64_t at = e->byte;
  const uint64_t v = vget(t->b, &at);
  t->k = s * CTAB_STRIDE;
  t->id = e->id;
  t->row = e->row;
  t->len = v & 1 ? 1 : vget(t->b, &at);
  t->at = at;
}

/* The cursor one position on (t->k + 1 < t->n). */
static void cursor_next(lctab *t) {
  uint64_t at = t->at;
  const uint64_t v = vget(t->b, &at);
  t->k++;
  t->id += (v >> 1) + 1;
  t->row += t->len;
  t->len = v & 1 ? 1 : vget(t->b, &at);
  t->at = at;
}

void bs_ctab_seek(lctab *t, uint64_t k) {
  BS_ASSERT(k < t->n);
  if (t->k >= t->n || k < t->k || k / CTAB_STRIDE != t->k / CTAB_STRIDE)
    cursor_block(t, k / CTAB_STRIDE);
  while (t->k < k)
    cursor_next(t);
}

/* The last skip block in [lo, hi) whose first id is at most i (the
 * caller knows block lo's is). */
static uint64_t block_of(const lctab *t, uint64_t lo, uint64_t hi, uint64_t i) {
  while (hi - lo > 1) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (t->skip[mid].id <= i)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

uint64_t bs_ctab_find(lctab *t, uint64_t i) {
  if (!t->n || i < t->skip[0].id)
    return LPROJ_NONE;
  if (t->k >= t->n || i < t->id) {
    cursor_block(t, block_of(t, 0, t->nskip, i));
  } else {
    /* Ahead of the cursor (the spikes of a step come in ascending order):
     * gallop over the skips from its block, then search the last span. */
    const uint64_t s0 = t->k / CTAB_STRIDE;
    uint64_t d = 1;
    while (s0 + d < t->nskip && t->skip[s0 + d].id <= i)
      d *= 2;
    if (d > 1) {
      const uint64_t hi = s0 + d < t->nskip ? s0 + d : t->nskip;
      cursor_block(t, block_of(t, s0 + d / 2, hi, i));
    }
  }
  /* Decode forward while the next id is at most i, in registers. */
  const uint8_t *b = t->b;
  uint64_t k = t->k, id = t->id, row = t->row, len = t->len, at = t->at;
  while (id < i && k + 1 < t->n) {
    uint64_t a = at;
    const uint64_t v = vget(b, &a), nid = id + (v >> 1) + 1;
    if (nid > i)
      break;
    k++;
    row += len;
    id = nid;
    len = v & 1 ? 1 : vget(b, &a);
    at = a;
  }
  t->k = k, t->id = id, t->row = row, t->len = len, t->at = at;
  return t->id == i ? t->k : LPROJ_NONE;
}

uint64_t bs_ctab_id(lctab *t, uint64_t k) {
  bs_ctab_seek(t, k);
  return t->id;
}

void bs_ctab_row(lctab *t, uint64_t k, uint64_t *start, uint64_t *n) {
  bs_ctab_seek(t, k);
  *start = t->row;
  *n = t->len;
}
