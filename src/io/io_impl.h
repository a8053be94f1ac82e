/* Private to io/: what io.c and edges.c share. */
#ifndef BRAINSIM_IO_IMPL_H
#define BRAINSIM_IO_IMPL_H

#include <hdf5.h>

#include "brainsim/util.h"

/* The outermost and innermost descriptions on HDF5's error stack, and how
 * many entries it had. */
typedef struct bs_h5_stack {
  char top[256], bottom[256];
  int n;
} bs_h5_stack;

/* Read HDF5's error stack of this thread into w and clear it. */
void bs_io_h5_stack(bs_h5_stack *w);

/* A string attribute of obj (fixed or variable length, one element) into
 * out; *found = 0 when it is absent (not an error). */
bs_status bs_io_str_attr(bs_ctx *ctx, hid_t obj, const char *file,
                         const char *objpath, const char *name, char *out,
                         size_t len, int *found);

/* BS_ERR_IO with the message and HDF5's outermost description. */
__attribute__((format(printf, 2, 3))) bs_status
bs_io_h5_fail(bs_ctx *ctx, const char *fmt, ...);
/* The class of dataset d's type, H5T_INTEGER or H5T_FLOAT, where its bit
 * fields lie within its size, else H5T_NO_CLASS: HDF5 1.10.8 converts a
 * corrupt number type (0-bit precision, fields past the size) by copying
 * bits past its buffers (SIGBUS in H5T__bit_copy; tests/fuzz/README.md). */
H5T_class_t bs_io_num_class(hid_t d);
/* Whether every level of path exists in f (no HDF5 error left). */
int bs_io_link_exists(hid_t f, const char *path);
/* Open path as a 1-D numeric dataset (want_int: integers only); its
 * length in *len. Errors name the file and the dataset. */
bs_status bs_io_open_1d(bs_ctx *ctx, hid_t f, const char *file,
                        const char *path, int want_int, hid_t *d,
                        uint64_t *len);
/* Rows [start, start + n) of a 1-D dataset as mtype. */
bs_status bs_io_read_chunk(bs_ctx *ctx, hid_t d, const char *file,
                           const char *path, uint64_t start, uint64_t n,
                           hid_t mtype, void *buf);
/* Refuse a variable-length string attribute `name` of obj whose global
 * heap HDF5 1.10 would loop on or read past (h5guard.c); call it before
 * H5Aread. */
bs_status bs_io_vlen_attr_check(bs_ctx *ctx, hid_t obj, const char *file,
                                const char *objpath, const char *name);

#endif
