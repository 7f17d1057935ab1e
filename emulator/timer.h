/* timer.h: one thread that calls functions at given times; the server uses it to resume
 * suspended connections whose answer is due (sync latency, "slow" faults), so no request
 * thread ever sleeps. */
#ifndef EMU_TIMER_H
#define EMU_TIMER_H

#include <pthread.h>
#include <stdint.h>

typedef void (*emu_timer_fn)(void *arg);

typedef struct emu_timer_entry {
  uint64_t due;               /* monotonic ms */
  emu_timer_fn fn;
  void *arg;
  struct emu_timer_entry *next;
} emu_timer_entry;

typedef struct emu_timer {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  emu_timer_entry *head;      /* sorted by due */
  int stopping;
  int started;
  pthread_t thread;
} emu_timer;

int emu_timer_start(emu_timer *t);
/* Schedules fn(arg) at due. 0 ok; -1 when stopping or out of memory (then the caller must
 * do the work itself, at once). */
int emu_timer_add(emu_timer *t, uint64_t due, emu_timer_fn fn, void *arg);
/* Runs every pending entry now (so no connection stays suspended), then joins the thread. */
void emu_timer_stop(emu_timer *t);

#endif
