/* images.c: see images.h. */
#include "images.h"

#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "sd_limits.h"

/* Referenced emulator images are re-rendered at thumbnail size; their own references are
 * drawn down to this depth (a thumbnail of a thumbnail is a few pixels anyway). */
#define MAX_REF_DEPTH 2

void emu_blob_unref(emu_blob *b)
{
  if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
    free(b->data);
    free(b);
  }
}

int emu_cache_init(emu_cache *c)
{
  memset(c, 0, sizeof *c);
  emu_map_init(&c->map);
  return pthread_mutex_init(&c->lock, NULL) == 0 ? 0 : -1;
}

static void unlink_entry(emu_cache *c, emu_cache_entry *e)
{
  if (e->prev) e->prev->next = e->next; else c->head = e->next;
  if (e->next) e->next->prev = e->prev; else c->tail = e->prev;
  e->prev = e->next = NULL;
}

static void push_front(emu_cache *c, emu_cache_entry *e)
{
  e->prev = NULL;
  e->next = c->head;
  if (c->head) c->head->prev = e; else c->tail = e;
  c->head = e;
}

static void evict(emu_cache *c, emu_cache_entry *e)
{
  unlink_entry(c, e);
  emu_map_remove(&c->map, e->uuid);
  c->count--;
  c->bytes -= e->blob->len;
  emu_blob_unref(e->blob);
  free(e);
}

void emu_cache_free(emu_cache *c)
{
  while (c->head) evict(c, c->head);
  emu_map_free(&c->map);
  pthread_mutex_destroy(&c->lock);
}

void emu_cache_drop(emu_cache *c, const char *uuid)
{
  pthread_mutex_lock(&c->lock);
  emu_cache_entry *e = emu_map_get(&c->map, uuid);
  if (e) evict(c, e);
  pthread_mutex_unlock(&c->lock);
}

static emu_blob *cache_get(emu_cache *c, const char *uuid)
{
  emu_blob *b = NULL;
  pthread_mutex_lock(&c->lock);
  emu_cache_entry *e = emu_map_get(&c->map, uuid);
  if (e) {
    unlink_entry(c, e);
    push_front(c, e);
    b = e->blob;
    atomic_fetch_add(&b->refs, 1);
  }
  pthread_mutex_unlock(&c->lock);
  return b;
}

/* Inserts b (the caller keeps its own reference); if another thread rendered the same image
 * meanwhile, theirs wins and is returned instead (with a reference), b is released. */
static emu_blob *cache_put(emu_cache *c, const char *uuid, emu_blob *b)
{
  pthread_mutex_lock(&c->lock);
  emu_cache_entry *e = emu_map_get(&c->map, uuid);
  if (e) {
    emu_blob *other = e->blob;
    atomic_fetch_add(&other->refs, 1);
    pthread_mutex_unlock(&c->lock);
    emu_blob_unref(b);
    return other;
  }
  e = calloc(1, sizeof *e);
  if (e) {
    memcpy(e->uuid, uuid, sizeof e->uuid);
    e->blob = b;
    atomic_fetch_add(&b->refs, 1);
    if (emu_map_put(&c->map, e->uuid, e) != 0) {
      atomic_fetch_sub(&b->refs, 1);
      free(e);
    } else {
      push_front(c, e);
      c->count++;
      c->bytes += b->len;
      while (c->tail != e && (c->count > EMU_CACHE_MAX_ENTRIES || c->bytes > EMU_CACHE_MAX_BYTES))
        evict(c, c->tail);
    }
  }
  pthread_mutex_unlock(&c->lock);
  return b;
}

static int render_image(emu_server *srv, const emu_image *img, int w, int h, int depth,
                        emu_pixmap *out);

/* Thumbnail pixels for reference r inside a box of bw x bh; *owned is set when the caller
 * must free *pix. */
static void ref_pixels(emu_server *srv, const emu_ref *r, int bw, int bh, int depth,
                       emu_render_ref *rr, emu_pixmap *owned)
{
  rr->pix = NULL;
  rr->tag = "URL";
  switch (r->kind) {
  case EMU_REF_PIXELS: rr->pix = &r->thumb; break;
  case EMU_REF_UPLOAD: rr->pix = &r->upload->thumb; break;
  case EMU_REF_REMOTE: break;
  case EMU_REF_IMAGE: {
    const emu_spec *s = &r->image->task->spec;
    int tw = bw, th = (int)((long)bw * s->height / s->width);
    if (th > bh) { th = bh; tw = (int)((long)bh * s->width / s->height); }
    rr->tag = "img";
    if (depth < MAX_REF_DEPTH && tw >= 8 && th >= 8 &&
        render_image(srv, r->image, tw, th, depth + 1, owned) == 0)
      rr->pix = owned;
    break;
  }
  }
}

static int render_image(emu_server *srv, const emu_image *img, int w, int h, int depth,
                        emu_pixmap *out)
{
  const emu_task *t = img->task;
  const emu_spec *s = &t->spec;
  emu_render_ref rr[SD_REFS_MAX];
  emu_pixmap owned[SD_REFS_MAX];
  int n = s->n_refs < SD_REFS_MAX ? s->n_refs : SD_REFS_MAX, bw, bh;
  memset(owned, 0, sizeof owned);
  emu_render_ref_box(w, h, n, &bw, &bh);
  for (int i = 0; i < n; i++) ref_pixels(srv, &s->refs[i], bw, bh, depth, &rr[i], &owned[i]);
  emu_render_job job = { s->prompt, img->seed, w, h, s->width, s->height, img->index,
                         t->n_images, rr, n };
  int rc = emu_render(&job, out);
  for (int i = 0; i < n; i++) emu_pixmap_free(&owned[i]);
  return rc;
}

emu_blob *emu_image_bytes(emu_server *srv, const emu_image *img)
{
  emu_blob *b = cache_get(&srv->cache, img->uuid);
  if (b) return b;
  const emu_spec *s = &img->task->spec;
  emu_pixmap px;
  if (render_image(srv, img, s->width, s->height, 0, &px) != 0) return NULL;
  b = calloc(1, sizeof *b);
  if (!b || emu_encode(&px, s->format, s->quality, &b->data, &b->len) != 0) {
    free(b);
    emu_pixmap_free(&px);
    return NULL;
  }
  emu_pixmap_free(&px);
  atomic_init(&b->refs, 1);
  return cache_put(&srv->cache, img->uuid, b);
}
