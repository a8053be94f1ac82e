/* Private to io/: what io.c and edges.c share. */
#ifndef BRAINSIM_IO_IMPL_H
#define BRAINSIM_IO_IMPL_H

/* The outermost and innermost descriptions on HDF5's error stack, and how
 * many entries it had. */
typedef struct bs_h5_stack {
  char top[256], bottom[256];
  int n;
} bs_h5_stack;

/* Read HDF5's error stack of this thread into w and clear it. */
void bs_io_h5_stack(bs_h5_stack *w);

#endif
