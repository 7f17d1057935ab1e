/* tasks.h: the task store: every imageInference task received (sync ones too, so a client
 * whose connection dropped can poll), the images they produce, and imageUpload images.
 *
 * A task's schedule is fixed when it is created (image i is done at images[i].done_at), so
 * "processing" vs "done" is a comparison with the clock; nothing has to tick. Records are
 * immutable once stored and live until shutdown, so pointers to them stay valid without
 * holding the lock. */
#ifndef EMU_TASKS_H
#define EMU_TASKS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "validate.h"

struct emu_server;
struct emu_task;

typedef struct emu_image {
  char uuid[37];
  uint32_t seed;
  int index;                 /* 0-based within its task */
  uint64_t done_at;          /* monotonic ms */
  uint64_t expires_at;       /* monotonic ms, 0 = never (no ttl) */
  struct emu_task *task;
} emu_image;

typedef struct emu_task {
  char uuid[37];
  emu_spec spec;
  int n_images;
  emu_image *images;
  uint64_t finish_at;        /* last image done, or when the failure becomes visible */
  int failed;                /* injected task error: no images */
  char err_code[48];
  char err_message[160];
} emu_task;

typedef struct emu_upload {
  char uuid[37];
  int w, h;                  /* stored size (capped like Runware's, 2048 a side) */
  emu_pixmap thumb;
} emu_upload;

typedef struct emu_store {
  pthread_mutex_t lock;
  emu_map tasks, images, uploads;
} emu_store;

int emu_store_init(emu_store *s);
void emu_store_free(emu_store *s);   /* frees every record */

/* Images a task produces: numberResults x maxSequentialImages. Kept in one place because
 * how the two combine on the real API is an open question. */
int emu_images_per_task(const emu_spec *spec);

/* Creates a task from spec (taken over: spec is zeroed) with n images, scheduled by the
 * server's latency model from now; fail_code non-NULL makes it an injected failure. */
emu_task *emu_task_create(struct emu_server *srv, const char *uuid, emu_spec *spec, int n,
                          const char *fail_code);
void emu_task_free(emu_task *t);

/* Stores t and indexes its images. 0 ok, 1 taskUUID already present (t not stored),
 * -1 nomem. */
int emu_store_add_task(emu_store *s, emu_task *t);
int emu_store_has_task(emu_store *s, const char *uuid);
const emu_task *emu_store_find_task(emu_store *s, const char *uuid);
const emu_image *emu_store_find_image(emu_store *s, const char *uuid);
int emu_store_add_upload(emu_store *s, emu_upload *u);   /* 0 ok, -1 nomem */
const emu_upload *emu_store_find_upload(emu_store *s, const char *uuid);
/* Tasks whose last image (or failure) is still in the future. */
long emu_store_in_flight(emu_store *s, uint64_t now);

/* Deterministic seed of result `index` of a prompt: same prompt, same seeds. */
uint32_t emu_seed(const char *prompt, int index);

#endif
