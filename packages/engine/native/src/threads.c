/*
 * The thread pool every kernel splits its work over. Workers are started once and sleep on a
 * condition variable between kernels (a kernel used to start and join its own threads: tens of
 * microseconds per call, hundreds of calls per training step); a call's parts are handed out one
 * at a time to whichever thread is free. Calls from several JavaScript threads are serialised.
 * Default size: the online cores; openblas runs single-threaded inside.
 */
#include <cblas.h>
#include <pthread.h>
#include <unistd.h>
#include "kdnative.h"

enum { MAX_WORKERS = 63 };

static int threads = 0;
static pthread_mutex_t dispatch = PTHREAD_MUTEX_INITIALIZER; /* one parallel call at a time */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_ready = PTHREAD_COND_INITIALIZER;
static pthread_cond_t work_done = PTHREAD_COND_INITIALIZER;
static int started = 0;           /* workers running */
static unsigned long generation;  /* bumped for each parallel call */
static kd_task current_task;
static void *current_ctx;
static int current_count;         /* tasks in the current call */
static int next_index;            /* next task index to hand out */
static int pending;               /* tasks not finished yet */

int kd_threads(void) {
  if (threads < 1) {
    const long cores = sysconf(_SC_NPROCESSORS_ONLN);
    threads = cores > 0 ? (int)cores : 1;
    if (threads > MAX_WORKERS + 1) threads = MAX_WORKERS + 1;
    openblas_set_num_threads(1); /* our threads each run single-threaded SGEMMs */
  }
  return threads;
}

void kd_set_threads(int n) {
  openblas_set_num_threads(1);
  threads = n < 1 ? 1 : n > MAX_WORKERS + 1 ? MAX_WORKERS + 1 : n;
}

/* Takes task indices of the current call until none are left; call with `lock` held. */
static void drain(void) {
  while (next_index < current_count) {
    const int index = next_index++;
    kd_task task = current_task;
    void *ctx = current_ctx;
    pthread_mutex_unlock(&lock);
    task(ctx, index);
    pthread_mutex_lock(&lock);
    if (--pending == 0) pthread_cond_broadcast(&work_done);
  }
}

static void *worker(void *arg) {
  (void)arg;
  unsigned long seen = 0;
  pthread_mutex_lock(&lock);
  for (;;) {
    while (generation == seen) pthread_cond_wait(&work_ready, &lock);
    seen = generation;
    drain();
  }
  return NULL;
}

/* Starts workers up to `wanted` (the caller is one more thread); returns how many run. */
static int ensure_workers(int wanted) {
  while (started < wanted && started < MAX_WORKERS) {
    pthread_t id;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    const int ok = pthread_create(&id, &attr, worker, NULL) == 0;
    pthread_attr_destroy(&attr);
    if (!ok) break;
    started++;
  }
  return started;
}

void kd_parallel(int count, kd_task task, void *ctx) {
  if (count <= 0) return;
  if (count == 1 || kd_threads() == 1) {
    for (int i = 0; i < count; i++) task(ctx, i);
    return;
  }
  pthread_mutex_lock(&dispatch);
  pthread_mutex_lock(&lock);
  const int workers = ensure_workers(kd_threads() - 1);
  current_task = task;
  current_ctx = ctx;
  current_count = count;
  next_index = 0;
  pending = count;
  generation++;
  if (workers > 0) pthread_cond_broadcast(&work_ready);
  drain();
  while (pending > 0) pthread_cond_wait(&work_done, &lock);
  pthread_mutex_unlock(&lock);
  pthread_mutex_unlock(&dispatch);
}

int kd_split_count(size_t work, size_t min_work, size_t units) {
  /* SHARES_PER_THREAD parts per thread: the pool hands them out as threads free up, so a thread
     that the OS deschedules (a loaded machine) holds back a small part, not half the work */
  enum { SHARES_PER_THREAD = 4 };
  int t = kd_threads() == 1 || work < min_work ? 1 : kd_threads() * SHARES_PER_THREAD;
  if ((size_t)t > units) t = (int)units;
  return t < 1 ? 1 : t;
}
