/* images.h: produces the encoded bytes of an image (render + encode, lazily, on first use)
 * and keeps recent ones in a bounded LRU cache. */
#ifndef EMU_IMAGES_H
#define EMU_IMAGES_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "render.h"
#include "util.h"

struct emu_server;
struct emu_image;

/* Encoded image bytes, shared between the cache and responses still being sent. */
typedef struct emu_blob {
  atomic_int refs;
  size_t len;
  unsigned char *data;
} emu_blob;

void emu_blob_unref(emu_blob *b);   /* NULL-safe */

#define EMU_CACHE_MAX_ENTRIES 256
#define EMU_CACHE_MAX_BYTES (256u << 20)

typedef struct emu_cache_entry {
  char uuid[37];
  emu_blob *blob;
  struct emu_cache_entry *prev, *next;
} emu_cache_entry;

typedef struct emu_cache {
  pthread_mutex_t lock;
  emu_map map;                      /* uuid -> entry */
  emu_cache_entry *head, *tail;     /* most recently used first */
  size_t count, bytes;
} emu_cache;

int emu_cache_init(emu_cache *c);
void emu_cache_free(emu_cache *c);
void emu_cache_drop(emu_cache *c, const char *uuid);   /* e.g. after ttl expiry */

/* The encoded bytes of img in its task's format and quality, with a reference the caller
 * releases with emu_blob_unref; NULL when out of memory. */
emu_blob *emu_image_bytes(struct emu_server *srv, const struct emu_image *img);

#endif
