/* stats.h: counters served at GET /stats, and the log of recent POST /v1 bodies served at
 * GET /requests (tests use both to prove what was sent, charged and delivered). */
#ifndef EMU_STATS_H
#define EMU_STATS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

/* X(name): every counter, in the order /stats prints them. */
#define EMU_STATS_LIST(X)                                                         \
  X(requests)         /* POST /v1 requests */                                     \
  X(tasks)            /* task objects received */                                 \
  X(inference_tasks)  /* imageInference task objects received */                  \
  X(tasks_charged)    /* unique imageInference tasks that produced images */      \
  X(images)           /* images produced (charged) */                             \
  X(validation_errors)                                                            \
  X(polls)            /* getResponse tasks */                                     \
  X(poll_requests)    /* POST /v1 requests with at least one getResponse */       \
  X(duplicates)       /* imageInference tasks refused with conflictTaskUUID */    \
  X(auth_failures)                                                                \
  X(image_gets)                                                                   \
  X(image_gets_with_auth)                                                         \
  X(image_uploads)    /* imageUpload tasks stored */                              \
  X(webhook_posts)    /* webhook POST attempts */                                 \
  X(webhook_failures) /* attempts that got no 2xx in time */                      \
  X(uploads)          /* uploadEndpoint PUTs that got a 2xx */                    \
  X(upload_failures)  /* uploadEndpoint attempts that did not */                  \
  X(deliveries_skipped_nonlocal)                                                  \
  X(faults_injected)                                                              \
  X(gzip_answers)     /* answers sent gzip-encoded (the client accepted gzip) */

typedef struct emu_stats {
#define EMU_X_FIELD(name) atomic_long name;
  EMU_STATS_LIST(EMU_X_FIELD)
#undef EMU_X_FIELD
} emu_stats;

#define EMU_COUNT(srv, name, n) atomic_fetch_add(&(srv)->stats.name, (long)(n))

void emu_stats_init(emu_stats *s);   /* also what POST /reset does */
/* The counters as a JSON object (malloc'ed); in_flight is computed by the caller. */
char *emu_stats_json(const emu_stats *s, long in_flight, size_t *len);

#define EMU_REQLOG_SIZE 256
/* The log keeps the last 256 bodies, but no more than 64 MB of them (oldest dropped
 * first), and a body above 16 MB only as a note of its size: test suites send data URIs
 * of many MB, and unauthenticated senders are logged too. */
#define EMU_REQLOG_BYTES (64u << 20)
#define EMU_REQLOG_BODY_MAX (16u << 20)

typedef struct emu_reqlog {
  pthread_mutex_t lock;
  char *bodies[EMU_REQLOG_SIZE];  /* NULL: dropped to stay within EMU_REQLOG_BYTES */
  size_t lens[EMU_REQLOG_SIZE];
  int auth[EMU_REQLOG_SIZE];
  size_t next;                    /* total ever added; slot = next % size */
  size_t bytes;                   /* held by bodies[] */
} emu_reqlog;

int emu_reqlog_init(emu_reqlog *l);
void emu_reqlog_free(emu_reqlog *l);
void emu_reqlog_add(emu_reqlog *l, const char *body, size_t len, int auth);
/* The last n entries, oldest first, as a JSON array of {"body": <parsed or raw>, "auth": b}. */
char *emu_reqlog_json(emu_reqlog *l, int n, size_t *len);

#endif
