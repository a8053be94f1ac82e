/* A check of what HDF5 1.10.8 would loop on, before it parses it.
 *
 * A variable-length string attribute (as h5py writes node_population)
 * keeps its text in a global heap collection ("GCOL"). HDF5 1.10.8 walks
 * the objects of a collection in H5HG__cache_heap_deserialize by their
 * sizes: a free-space object of size 0 never advances the walk and the
 * library spins forever, and an object larger than its collection is
 * copied past the end of the buffer. Neither is reported as an error.
 *
 * So before such an attribute is read, this finds its heap reference in
 * the raw object header (file format spec, version 1 and 2 headers,
 * attribute message versions 1-3) and walks the collection exactly as
 * HDF5 will, refusing it where HDF5's walk would not end inside it. The
 * reads are bounded by the file size and a few fixed limits, so a corrupt
 * header makes this refuse, never loop. Only what it can locate is
 * accepted: an attribute in dense or shared storage is refused (SONATA
 * writers keep one or two attributes per dataset, compact). */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io_impl.h"

#define MAX_CHUNKS 64                 /* object header chunks followed */
#define MAX_CHUNK ((uint64_t)1 << 24) /* bytes per header chunk */
#define GCOL_MIN 4096                 /* H5HG_MINSIZE */
#define MAX_GCOL ((uint64_t)1 << 28)  /* a collection holding a short text */
#define MSG_ATTR 0x000C
#define MSG_CONT 0x0010

typedef struct guard {
  bs_ctx *ctx;
  const char *file, *objpath, *name;
  int fd;
  uint64_t base, eof;
  size_t sa, ss; /* sizeof addresses and lengths */
  /* Continuation chunks still to visit. */
  uint64_t cont_addr[MAX_CHUNKS], cont_len[MAX_CHUNKS];
  int ncont, visited;
  /* The attribute's raw data, once found. */
  uint8_t *data;
  size_t ndata;
  unsigned dt_class; /* 9: variable length */
  uint64_t dt_size;
  int found;
} guard;

static uint64_t le(const uint8_t *p, size_t n) {
  uint64_t v = 0;
  for (size_t i = n; i-- > 0;)
    v = v << 8 | p[i];
  return v;
}

static bs_status refuse(guard *g, const char *why) {
  return bs_error_set(
      g->ctx, BS_ERR_IO,
      "%s: attribute %s of %s: %s (the file is corrupt, or in a "
      "form brainsim does not check; HDF5 1.10 can hang or "
      "read out of bounds on such attributes, so it is not "
      "read)",
      g->file, g->name, g->objpath, why);
}

/* n bytes at relative address addr into a new buffer. */
static bs_status load(guard *g, uint64_t addr, uint64_t n, uint8_t **out) {
  *out = NULL;
  if (addr > g->eof || n > g->eof - addr || g->base > g->eof - addr - n)
    return refuse(g, "an address points past the end of the file");
  uint8_t *b = malloc(n ? n : 1);
  if (!b)
    return bs_error_set(g->ctx, BS_ERR_NOMEM, "out of memory");
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(g->fd, b + got, n - got, (off_t)(g->base + addr + got));
    if (r <= 0) {
      free(b);
      return refuse(g, "a header cannot be read");
    }
    got += (size_t)r;
  }
  *out = b;
  return BS_OK;
}

/* One attribute message: keep its data when the name is ours. */
static bs_status attr_msg(guard *g, const uint8_t *m, size_t n) {
  if (n < 8)
    return refuse(g, "an attribute message is truncated");
  unsigned ver = m[0];
  size_t nname = le(m + 2, 2), ndt = le(m + 4, 2), nds = le(m + 6, 2);
  size_t pos = ver == 3 ? 9 : 8;
  if (ver < 1 || ver > 3)
    return refuse(g, "an attribute message has an unknown version");
  /* Version 1 pads name, datatype and dataspace to 8 bytes. */
  size_t pad_name = ver == 1 ? (nname + 7) / 8 * 8 : nname;
  size_t pad_dt = ver == 1 ? (ndt + 7) / 8 * 8 : ndt;
  size_t pad_ds = ver == 1 ? (nds + 7) / 8 * 8 : nds;
  if (pos + pad_name + pad_dt + pad_ds > n)
    return refuse(g, "an attribute message is truncated");
  size_t len = strlen(g->name);
  if (nname != len + 1 || memcmp(m + pos, g->name, len) != 0 ||
      m[pos + len] != '\0')
    return BS_OK;
  if (g->found)
    return refuse(g, "the attribute is stored twice");
  /* Its datatype message (class and version, 3 bytes of bits, size),
   * unless shared: a variable-length string must be one heap reference
   * wide, or HDF5 copies references past the value. */
  const uint8_t *dt = m + pos + pad_name;
  if ((ver > 1 && (m[1] & 0x01)) || ndt < 8)
    return refuse(g, "its datatype is shared or truncated");
  g->dt_class = dt[0] & 0x0f;
  g->dt_size = le(dt + 4, 4);
  pos += pad_name + pad_dt + pad_ds;
  g->ndata = n - pos;
  g->data = malloc(g->ndata ? g->ndata : 1);
  if (!g->data)
    return bs_error_set(g->ctx, BS_ERR_NOMEM, "out of memory");
  memcpy(g->data, m + pos, g->ndata);
  g->found = 1;
  return BS_OK;
}

static bs_status add_cont(guard *g, const uint8_t *m, size_t n) {
  if (n < g->sa + g->ss)
    return refuse(g, "a continuation message is truncated");
  if (g->ncont == MAX_CHUNKS)
    return refuse(g, "the object header has too many chunks");
  g->cont_addr[g->ncont] = le(m, g->sa);
  g->cont_len[g->ncont] = le(m + g->sa, g->ss);
  g->ncont++;
  return BS_OK;
}

/* The messages of one chunk: version 1 (8-byte headers, 8-aligned) or
 * version 2 (4- or 6-byte headers). */
static bs_status messages(guard *g, const uint8_t *c, size_t n, int v2,
                          int crt_order) {
  size_t hdr = v2 ? 4 + (crt_order ? 2 : 0) : 8, p = 0;
  while (p + hdr <= n) {
    unsigned type = v2 ? c[p] : (unsigned)le(c + p, 2);
    size_t sz = v2 ? le(c + p + 1, 2) : le(c + p + 2, 2);
    unsigned flags = v2 ? c[p + 3] : c[p + 4];
    p += hdr;
    if (sz > n - p)
      return refuse(g, "a header message runs past its chunk");
    if (type == MSG_ATTR) {
      if (flags & 0x02)
        return refuse(g, "the attribute is a shared message");
      BS_CALL(g->ctx, attr_msg(g, c + p, sz));
    } else if (type == MSG_CONT) {
      BS_CALL(g->ctx, add_cont(g, c + p, sz));
    }
    p += v2 ? sz : (sz + 7) / 8 * 8;
  }
  return BS_OK;
}

static bs_status chunk(guard *g, uint64_t addr, uint64_t len, int v2,
                       int crt_order) {
  if (len > MAX_CHUNK)
    return refuse(g, "an object header chunk is too large");
  uint8_t *c;
  BS_CALL(g->ctx, load(g, addr, len, &c));
  bs_status st = BS_OK;
  if (v2 && (len < 8 || memcmp(c, "OCHK", 4) != 0))
    st = refuse(g, "an object header continuation has no signature");
  else
    st = v2 ? messages(g, c + 4, (size_t)len - 8, 1, crt_order)
            : messages(g, c, (size_t)len, 0, 0);
  free(c);
  return st;
}

static bs_status header(guard *g, uint64_t addr) {
  uint8_t *h;
  BS_CALL(g->ctx, load(g, addr, 16, &h));
  int v2 = memcmp(h, "OHDR", 4) == 0, crt = 0;
  unsigned ver = v2 ? h[4] : h[0], flags = h[5];
  uint64_t first, len;
  free(h);
  if (ver != (v2 ? 2u : 1u))
    return refuse(g, "the object header has an unknown version");
  if (v2) {
    crt = (flags & 0x04) != 0;
    size_t pre = 6 + ((flags & 0x20) ? 16 : 0) + ((flags & 0x10) ? 4 : 0);
    size_t w = (size_t)1 << (flags & 0x03);
    BS_CALL(g->ctx, load(g, addr, pre + w, &h));
    len = le(h + pre, w);
    first = addr + pre + w;
  } else {
    BS_CALL(g->ctx, load(g, addr, 12, &h));
    len = le(h + 8, 4);
    first = addr + 16;
  }
  free(h);
  if (len > MAX_CHUNK)
    return refuse(g, "the object header is too large");
  uint8_t *c;
  BS_CALL(g->ctx, load(g, first, len, &c));
  bs_status st = messages(g, c, (size_t)len, v2, crt);
  free(c);
  /* Continuation chunks, each visited once at most. */
  for (; st == BS_OK && g->visited < g->ncont; g->visited++)
    st = chunk(g, g->cont_addr[g->visited], g->cont_len[g->visited], v2, crt);
  return st;
}

/* The collection at addr, walked as H5HG__cache_heap_deserialize does;
 * object idx must be in it with exactly seqlen bytes. */
static bs_status collection(guard *g, uint64_t addr, uint64_t idx,
                            uint64_t seqlen) {
  uint8_t *h;
  size_t hs = 8 + g->ss; /* "GCOL", version, 3 reserved, size */
  BS_CALL(g->ctx, load(g, addr, hs, &h));
  int ok = memcmp(h, "GCOL", 4) == 0 && h[4] == 1;
  uint64_t size = le(h + 8, g->ss);
  free(h);
  if (!ok)
    return refuse(g, "its global heap collection has no valid signature");
  if (size < GCOL_MIN || size > g->eof || size > MAX_GCOL)
    return refuse(g, "its global heap collection has an impossible size");
  uint8_t *c;
  BS_CALL(g->ctx, load(g, addr, size, &c));
  size_t oh = 8 + g->ss; /* index, references, reserved, size */
  uint64_t p = hs;
  int seen = 0;
  bs_status st = BS_OK;
  while (st == BS_OK && p < size) {
    if (p + oh > size)
      break; /* too small for an object: free space, as HDF5 takes it */
    uint64_t id = le(c + p, 2), osz = le(c + p + 8, g->ss);
    if (osz > size)
      st = refuse(g, "a global heap object is larger than its collection");
    uint64_t need = id > 0 ? oh + (osz + 7) / 8 * 8 : osz;
    if (st == BS_OK && (need == 0 || need > size - p))
      st = refuse(g, need == 0 ? "a global heap object has size 0"
                               : "a global heap object runs past its "
                                 "collection");
    if (st == BS_OK && id == idx) {
      if (seen || osz != seqlen)
        st = refuse(g, "its global heap object does not match its length");
      seen = 1;
    }
    p += need;
  }
  free(c);
  if (st == BS_OK && !seen)
    st = refuse(g, "its global heap object is missing");
  return st;
}

bs_status bs_io_vlen_attr_check(bs_ctx *ctx, hid_t obj, const char *file,
                                const char *objpath, const char *name) {
  guard g = {
      .ctx = ctx, .file = file, .objpath = objpath, .name = name, .fd = -1};
  H5O_info_t oi;
  hid_t fid = H5Iget_file_id(obj);
  hid_t fcpl = fid < 0 ? -1 : H5Fget_create_plist(fid);
  hsize_t ub = 0, fsize = 0;
  char path[4096];
  ssize_t np = fid < 0 ? -1 : H5Fget_name(fid, path, sizeof path);
  int ok = fcpl >= 0 && H5Pget_sizes(fcpl, &g.sa, &g.ss) >= 0 &&
           H5Pget_userblock(fcpl, &ub) >= 0 &&
           H5Fget_filesize(fid, &fsize) >= 0 &&
           H5Oget_info2(obj, &oi, H5O_INFO_BASIC) >= 0 && np > 0 &&
           (size_t)np < sizeof path;
  if (fcpl >= 0)
    H5Pclose(fcpl);
  if (fid >= 0)
    H5Fclose(fid);
  H5Eclear2(H5E_DEFAULT);
  if (!ok || g.sa < 2 || g.sa > 8 || g.ss < 2 || g.ss > 8)
    return refuse(&g, "its object header cannot be located");
  g.fd = open(path, O_RDONLY);
  if (g.fd < 0)
    return refuse(&g, "the file cannot be opened to check it");
  /* The file may be shorter than HDF5's end of address: bound by both. */
  off_t end = lseek(g.fd, 0, SEEK_END);
  g.base = ub;
  g.eof = end < 0 ? 0 : (uint64_t)end < fsize ? (uint64_t)end : fsize;
  bs_status st = header(&g, oi.addr);
  if (st == BS_OK && !g.found)
    st = refuse(&g, "it is not in the object header (dense storage)");
  /* The value: a reference (length, collection, index); the caller reads
   * one element only. HDF5 reads nothing for address 0 (a null string). */
  size_t ref = 4 + g.sa + 4;
  if (st == BS_OK && (g.dt_class != 9 || g.dt_size != ref))
    st = refuse(&g, "its datatype is not one heap reference wide");
  if (st == BS_OK && g.ndata < ref)
    st = refuse(&g, "its value is truncated");
  if (st == BS_OK) {
    uint64_t seqlen = le(g.data, 4), at = le(g.data + 4, g.sa),
             idx = le(g.data + 4 + g.sa, 4);
    if (at != 0)
      st = collection(&g, at, idx, seqlen);
  }
  free(g.data);
  close(g.fd);
  return st;
}
