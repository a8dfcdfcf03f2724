/* The number of threads the native kernels split their work over (default: the online cores). */
#include <cblas.h>
#include <unistd.h>
#include "kdnative.h"

static int threads = 0;

int kd_threads(void) {
  if (threads < 1) {
    const long cores = sysconf(_SC_NPROCESSORS_ONLN);
    threads = cores > 0 ? (int)cores : 1;
    openblas_set_num_threads(1); /* our threads each run single-threaded SGEMMs */
  }
  return threads;
}

void kd_set_threads(int n) {
  openblas_set_num_threads(1);
  threads = n > 0 ? n : 1;
}
