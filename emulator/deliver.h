/* deliver.h: webhookURL POSTs and uploadEndpoint PUTs, made by worker threads (libcurl easy)
 * when each image is done, so request threads never block on a receiver. Failed attempts
 * (no 2xx within 5 s) are retried after 0.2, 0.4, 0.8 s: at most EMU_DELIVER_ATTEMPTS.
 * Only loopback targets are contacted; others are skipped and counted. */
#ifndef EMU_DELIVER_H
#define EMU_DELIVER_H

#include <pthread.h>
#include <stdint.h>

struct emu_server;
struct emu_task;
struct emu_image;

#define EMU_DELIVER_THREADS 4
#define EMU_DELIVER_ATTEMPTS 4
#define EMU_DELIVER_TIMEOUT_MS 5000
#define EMU_DELIVER_BACKOFF_MS 200

typedef enum { EMU_JOB_WEBHOOK, EMU_JOB_UPLOAD } emu_job_kind;

typedef struct emu_job {
  uint64_t due;                       /* monotonic ms */
  emu_job_kind kind;
  int attempt;                        /* attempts made so far */
  const struct emu_image *img;        /* owned by the store */
  struct emu_job *next;
} emu_job;

typedef struct emu_deliver {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  emu_job *head;                      /* sorted by due */
  int stopping;
  int n_threads;
  pthread_t threads[EMU_DELIVER_THREADS];
  struct emu_server *srv;
} emu_deliver;

int emu_deliver_start(emu_deliver *d, struct emu_server *srv);
/* Schedules the deliveries a task asked for, each at its image's done time. */
void emu_deliver_task(emu_deliver *d, const struct emu_task *t);
/* Stops the workers; deliveries not yet made are dropped. */
void emu_deliver_stop(emu_deliver *d);

#endif
