/* tasks.c: see tasks.h. */
#include "tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "sd_text.h"

int emu_store_init(emu_store *s)
{
  emu_map_init(&s->tasks);
  emu_map_init(&s->images);
  emu_map_init(&s->uploads);
  return pthread_mutex_init(&s->lock, NULL) == 0 ? 0 : -1;
}

void emu_store_free(emu_store *s)
{
  for (size_t i = 0; i < s->tasks.cap; i++)
    if (s->tasks.keys[i]) emu_task_free(s->tasks.vals[i]);
  for (size_t i = 0; i < s->uploads.cap; i++)
    if (s->uploads.keys[i]) {
      emu_upload *u = s->uploads.vals[i];
      emu_pixmap_free(&u->thumb);
      free(u);
    }
  emu_map_free(&s->tasks);
  emu_map_free(&s->images);
  emu_map_free(&s->uploads);
  pthread_mutex_destroy(&s->lock);
}

int emu_images_per_task(const emu_spec *spec)
{
  return spec->number_results * spec->max_seq;
}

uint32_t emu_seed(const char *prompt, int index)
{
  uint64_t h = emu_fnv1a(prompt, strlen(prompt), EMU_FNV_INIT);
  uint32_t seed = (uint32_t)(emu_mix64((h << 16) + (uint64_t)index) & 0x7fffffff);
  return seed ? seed : 1;
}

/* Milliseconds one image takes: latency + rand(0..jitter). */
static uint64_t image_delay(emu_server *srv)
{
  uint64_t d = (uint64_t)srv->cfg.latency_ms;
  if (srv->cfg.jitter_ms > 0) {
    pthread_mutex_lock(&srv->rng_lock);
    d += emu_rng_next(&srv->rng) % (uint64_t)(srv->cfg.jitter_ms + 1);
    pthread_mutex_unlock(&srv->rng_lock);
  }
  return d;
}

emu_task *emu_task_create(emu_server *srv, const char *uuid, emu_spec *spec, int n,
                          const char *fail_code)
{
  emu_task *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  if (n > 0 && !fail_code && !(t->images = calloc((size_t)n, sizeof *t->images))) {
    free(t);
    return NULL;
  }
  snprintf(t->uuid, sizeof t->uuid, "%s", uuid);
  t->spec = *spec;
  memset(spec, 0, sizeof *spec);
  uint64_t at = emu_now_ms();
  if (fail_code) {
    t->failed = 1;
    snprintf(t->err_code, sizeof t->err_code, "%s", fail_code);
    snprintf(t->err_message, sizeof t->err_message,
             "The task failed with '%s' (injected by the emulator).", fail_code);
    t->finish_at = at + image_delay(srv);
    return t;
  }
  t->n_images = n;
  for (int i = 0; i < n; i++) {
    emu_image *im = &t->images[i];
    sd_uuid_v4(im->uuid);
    im->index = i;
    im->task = t;
    im->seed = emu_seed(t->spec.prompt, i);
    at += image_delay(srv);   /* images of a task finish one after another */
    im->done_at = at;
    im->expires_at = t->spec.ttl > 0 ? at + (uint64_t)t->spec.ttl * (uint64_t)srv->cfg.ttl_unit_ms : 0;
  }
  t->finish_at = at;
  return t;
}

void emu_task_free(emu_task *t)
{
  if (!t) return;
  emu_spec_free(&t->spec);
  free(t->images);
  free(t);
}

int emu_store_add_task(emu_store *s, emu_task *t)
{
  pthread_mutex_lock(&s->lock);
  int rc = emu_map_put(&s->tasks, t->uuid, t);
  for (int i = 0; rc == 0 && i < t->n_images; i++)
    if (emu_map_put(&s->images, t->images[i].uuid, &t->images[i]) < 0) {
      /* Undo so the caller can free t. */
      for (int j = 0; j < i; j++) emu_map_remove(&s->images, t->images[j].uuid);
      emu_map_remove(&s->tasks, t->uuid);
      rc = -1;
    }
  pthread_mutex_unlock(&s->lock);
  return rc;
}

int emu_store_has_task(emu_store *s, const char *uuid)
{
  return emu_store_find_task(s, uuid) != NULL;
}

const emu_task *emu_store_find_task(emu_store *s, const char *uuid)
{
  pthread_mutex_lock(&s->lock);
  const emu_task *t = emu_map_get(&s->tasks, uuid);
  pthread_mutex_unlock(&s->lock);
  return t;
}

const emu_image *emu_store_find_image(emu_store *s, const char *uuid)
{
  pthread_mutex_lock(&s->lock);
  const emu_image *im = emu_map_get(&s->images, uuid);
  pthread_mutex_unlock(&s->lock);
  return im;
}

int emu_store_add_upload(emu_store *s, emu_upload *u)
{
  pthread_mutex_lock(&s->lock);
  int rc = emu_map_put(&s->uploads, u->uuid, u);
  pthread_mutex_unlock(&s->lock);
  return rc == 0 ? 0 : -1;
}

const emu_upload *emu_store_find_upload(emu_store *s, const char *uuid)
{
  pthread_mutex_lock(&s->lock);
  const emu_upload *u = emu_map_get(&s->uploads, uuid);
  pthread_mutex_unlock(&s->lock);
  return u;
}

long emu_store_in_flight(emu_store *s, uint64_t now)
{
  long n = 0;
  pthread_mutex_lock(&s->lock);
  for (size_t i = 0; i < s->tasks.cap; i++)
    if (s->tasks.keys[i] && ((const emu_task *)s->tasks.vals[i])->finish_at > now) n++;
  pthread_mutex_unlock(&s->lock);
  return n;
}
