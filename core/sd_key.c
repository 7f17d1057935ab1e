/* sd_key.c: canonical hashing of requests (see sd_key.h). Not cryptographic: it names
 * steps of a run, it does not protect anything. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sd_key.h"

typedef struct { uint64_t a, b; } sd_hash2;

static void mix(sd_hash2 *h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) {
    h->a = (h->a ^ p[i]) * 0x100000001b3ULL;
    h->b = (h->b ^ p[i]) * 0x100000001b3ULL;
    h->b ^= h->b >> 29;                       /* decorrelate the second lane */
  }
}

static void mix_str(sd_hash2 *h, const char *s) { mix(h, s, strlen(s) + 1); }

/* A local file's bytes (its content is the request's, not its name): 8 bytes a step, as a
 * reference file can be 10 MB. 0, or -1 if it cannot be read (the body then fails too). */
static int mix_file(sd_hash2 *h, const char *path) {
  enum { CHUNK = 65536 };
  unsigned char *buf = malloc(CHUNK);
  FILE *f = buf ? fopen(path, "rb") : NULL;
  size_t n;
  if (!f) {
    free(buf);
    return -1;
  }
  while ((n = fread(buf, 1, CHUNK, f)) > 0) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t w;
      memcpy(&w, buf + i, 8);
      h->a = (h->a ^ w) * 0x100000001b3ULL;
      h->b = ((h->b ^ w) * 0x9e3779b97f4a7c15ULL) ^ (h->b >> 31);
    }
    mix(h, buf + i, n - i);
  }
  int bad = ferror(f);
  fclose(f);
  free(buf);
  return bad ? -1 : 0;
}

static int cmp_keys(const void *x, const void *y) {
  const char *const *a = x, *const *b = y;
  return strcmp(*a, *b);
}

static int hash_value(sd_hash2 *h, const sd_value *v, int top);

static int hash_object(sd_hash2 *h, const sd_value *v, int top) {
  size_t n = v->u.obj.n, i;
  const char **keys = malloc((n ? n : 1) * sizeof *keys);
  if (!keys) return -1;
  for (i = 0; i < n; i++) keys[i] = v->u.obj.keys[i];
  qsort(keys, n, sizeof *keys, cmp_keys);
  mix(h, "{", 1);
  for (i = 0; i < n; i++) {
    const char *k = keys[i];
    if (top && strcmp(k, "taskUUID") == 0) continue;
    mix_str(h, k);
    if (hash_value(h, sd_object_get(v, k), 0) != 0) { free(keys); return -1; }
  }
  mix(h, "}", 1);
  free(keys);
  return 0;
}

static int hash_value(sd_hash2 *h, const sd_value *v, int top) {
  char tmp[64];
  switch (v->type) {
  case SD_NULL: mix(h, "n", 1); break;
  case SD_BOOL: mix(h, v->u.boolean ? "t" : "f", 1); break;
  case SD_NUMBER:
    snprintf(tmp, sizeof tmp, "#%.17g", v->u.num.n);
    mix_str(h, tmp);
    break;
  case SD_STRING:
    mix(h, "s", 1);
    mix(h, v->u.str.s, v->u.str.len);
    mix(h, "", 1);
    break;
  case SD_FILE: /* by content: the same path with other bytes is another request */
    snprintf(tmp, sizeof tmp, "f%lld:", v->u.file.size);
    mix_str(h, tmp);
    if (mix_file(h, v->u.file.path) != 0) mix_str(h, v->u.file.path);
    break;
  case SD_ARRAY:
    mix(h, "[", 1);
    for (size_t i = 0; i < v->u.arr.n; i++)
      if (hash_value(h, v->u.arr.items[i], 0) != 0) return -1;
    mix(h, "]", 1);
    break;
  case SD_OBJECT:
    return hash_object(h, v, top);
  }
  return 0;
}

int sd_request_key(const sd_value *req, char out[33]) {
  sd_hash2 h = {0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL};
  if (hash_value(&h, req, 1) != 0) return -1;
  snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.a, (unsigned long long)h.b);
  return 0;
}
