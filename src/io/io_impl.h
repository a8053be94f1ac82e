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

/* Refuse a variable-length string attribute `name` of obj whose global
 * heap HDF5 1.10 would loop on or read past (h5guard.c); call it before
 * H5Aread. */
bs_status bs_io_vlen_attr_check(bs_ctx *ctx, hid_t obj, const char *file,
                                const char *objpath, const char *name);

#endif
