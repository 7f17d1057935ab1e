/* timer.c: see timer.h. */
#include "timer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

static void *run(void *arg)
{
  emu_timer *t = arg;
  pthread_mutex_lock(&t->lock);
  for (;;) {
    uint64_t now = emu_now_ms();
    emu_timer_entry *e = t->head;
    if (e && (e->due <= now || t->stopping)) {
      t->head = e->next;
      pthread_mutex_unlock(&t->lock);
      e->fn(e->arg);   /* outside the lock: fn may take other locks */
      free(e);
      pthread_mutex_lock(&t->lock);
      continue;
    }
    if (t->stopping) break;
    if (!e) {
      pthread_cond_wait(&t->cond, &t->lock);
    } else {
      struct timespec ts;   /* the condvar runs on CLOCK_MONOTONIC (see start) */
      uint64_t due = e->due;
      ts.tv_sec = (time_t)(due / 1000);
      ts.tv_nsec = (long)(due % 1000) * 1000000L;
      pthread_cond_timedwait(&t->cond, &t->lock, &ts);
    }
  }
  pthread_mutex_unlock(&t->lock);
  return NULL;
}

int emu_timer_start(emu_timer *t)
{
  pthread_condattr_t ca;
  memset(t, 0, sizeof *t);
  if (pthread_mutex_init(&t->lock, NULL) != 0) return -1;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  int rc = pthread_cond_init(&t->cond, &ca);
  pthread_condattr_destroy(&ca);
  if (rc != 0) { pthread_mutex_destroy(&t->lock); return -1; }
  if (pthread_create(&t->thread, NULL, run, t) != 0) {
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    return -1;
  }
  t->started = 1;
  return 0;
}

int emu_timer_add(emu_timer *t, uint64_t due, emu_timer_fn fn, void *arg)
{
  emu_timer_entry *e = malloc(sizeof *e);
  if (!e) return -1;
  e->due = due;
  e->fn = fn;
  e->arg = arg;
  pthread_mutex_lock(&t->lock);
  if (t->stopping) {
    pthread_mutex_unlock(&t->lock);
    free(e);
    return -1;
  }
  emu_timer_entry **p = &t->head;
  while (*p && (*p)->due <= due) p = &(*p)->next;
  e->next = *p;
  *p = e;
  if (t->head == e) pthread_cond_signal(&t->cond);   /* new earliest deadline */
  pthread_mutex_unlock(&t->lock);
  return 0;
}

void emu_timer_stop(emu_timer *t)
{
  if (!t->started) return;
  pthread_mutex_lock(&t->lock);
  t->stopping = 1;
  pthread_cond_signal(&t->cond);
  pthread_mutex_unlock(&t->lock);
  pthread_join(t->thread, NULL);
  pthread_cond_destroy(&t->cond);
  pthread_mutex_destroy(&t->lock);
  t->started = 0;
}
