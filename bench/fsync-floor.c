/* The floor under a durable commit on this disk: the time of one write followed by fdatasync (or fsync), measured
 * N times, in three shapes a log can take:
 *   append     the file grows at each write (fdatasync must also make the new size durable: a journal commit)
 *   overwrite  writes land in a region written and synced before (what a preallocated log or a reused WAL does)
 *   fsync      overwrite, but with fsync (metadata too: mtime)
 * Usage: bench/fsync-floor.sh [count=2000] [bytes=8192] [dir=bench folder's tmp]   (compiles this file with cc)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void report(const char *shape, double *t, int n, size_t bytes) {
  double sum = 0;
  for (int i = 0; i < n; i++) sum += t[i];
  qsort(t, n, sizeof *t, by_value);
  printf("FLOOR shape=%s bytes=%zu count=%d mean_us=%.0f p50_us=%.0f p90_us=%.0f p99_us=%.0f min_us=%.0f\n", shape, bytes, n,
         sum / n, t[n / 2], t[n * 9 / 10], t[n * 99 / 100], t[0]);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2000;
  size_t bytes = argc > 2 ? (size_t)atol(argv[2]) : 8192;
  const char *dir = argc > 3 ? argv[3] : ".";
  char path[4096];
  snprintf(path, sizeof path, "%s/fsync-floor.%d", dir, (int)getpid());
  char *buffer = malloc(bytes);
  memset(buffer, 'x', bytes);
  double *t = malloc(sizeof(double) * n);

  for (int shape = 0; shape < 3; shape++) {
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) { perror(path); return 1; }
    if (shape > 0) { /* the region written and made durable beforehand */
      for (int i = 0; i < n; i++) if (pwrite(fd, buffer, bytes, (off_t)i * bytes) != (ssize_t)bytes) { perror("pwrite"); return 1; }
      fsync(fd);
    }
    for (int i = 0; i < n; i++) {
      double start = now_us();
      if (pwrite(fd, buffer, bytes, (off_t)i * bytes) != (ssize_t)bytes) { perror("pwrite"); return 1; }
      if ((shape == 2 ? fsync(fd) : fdatasync(fd)) != 0) { perror("sync"); return 1; }
      t[i] = now_us() - start;
    }
    report(shape == 0 ? "append" : shape == 1 ? "overwrite" : "fsync", t, n, bytes);
    close(fd);
    unlink(path);
  }
  return 0;
}
