/* A main() for the fuzz targets in builds without libFuzzer (gcc, or clang
 * without -fsanitize=fuzzer): runs LLVMFuzzerTestOneInput once on every
 * file given, or on every file of every directory given, as the libFuzzer
 * binary does with `fuzz_x DIR...`. The CTests fuzz_replay_* use it to
 * replay the seed corpus and tests/fuzz/regressions/ in every build. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_file(const char *p) {
  FILE *f = fopen(p, "rb");
  if (!f) {
    perror(p);
    return 1;
  }
  size_t cap = 4096, n = 0;
  uint8_t *buf = malloc(cap);
  size_t r;
  while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
    n += r;
    if (n == cap) {
      uint8_t *nb = realloc(buf, cap *= 2);
      if (!nb)
        free(buf);
      buf = nb;
    }
  }
  fclose(f);
  if (!buf) {
    fprintf(stderr, "%s: out of memory\n", p);
    return 1;
  }
  printf("replay %s (%zu bytes)\n", p, n);
  fflush(stdout);
  LLVMFuzzerTestOneInput(buf, n);
  free(buf);
  return 0;
}

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files of a directory in name order, so a replay is reproducible. */
static int run_dir(const char *d) {
  DIR *dir = opendir(d);
  if (!dir) {
    perror(d);
    return 1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  int bad = 0;
  struct dirent *e;
  while ((e = readdir(dir))) {
    if (e->d_name[0] == '.' || !strcmp(e->d_name, "README.md"))
      continue;
    if (n == cap) {
      char **nn = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof *nn);
      if (!nn) {
        bad = 1;
        break;
      }
      names = nn;
    }
    size_t len = strlen(d) + strlen(e->d_name) + 2;
    if (!(names[n] = malloc(len))) {
      bad = 1;
      break;
    }
    snprintf(names[n++], len, "%s/%s", d, e->d_name);
  }
  closedir(dir);
  qsort(names, n, sizeof *names, cmp);
  for (size_t i = 0; i < n; i++) {
    bad |= run_file(names[i]);
    free(names[i]);
  }
  free(names);
  return bad;
}

int main(int argc, char **argv) {
  if (LLVMFuzzerInitialize)
    LLVMFuzzerInitialize(&argc, &argv);
  int bad = 0, files = 0;
  for (int i = 1; i < argc; i++) {
    struct stat sb;
    if (argv[i][0] == '-')
      continue; /* libFuzzer options, accepted and ignored */
    if (stat(argv[i], &sb) != 0) {
      perror(argv[i]);
      bad = 1;
    } else if (S_ISDIR(sb.st_mode)) {
      bad |= run_dir(argv[i]);
    } else {
      bad |= run_file(argv[i]);
    }
    files++;
  }
  if (!files) {
    fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
    return 2;
  }
  printf("replay: done\n");
  return bad;
}
