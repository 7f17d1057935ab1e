/* util.c: see util.h. */
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

uint64_t emu_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void emu_buf_init(emu_buf *b) { memset(b, 0, sizeof *b); }

void emu_buf_free(emu_buf *b)
{
  free(b->data);
  emu_buf_init(b);
}

void emu_buf_append(emu_buf *b, const void *p, size_t n)
{
  if (b->failed) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) { b->failed = 1; return; }
    b->data = d;
    b->cap = cap;
  }
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void emu_buf_puts(emu_buf *b, const char *s) { emu_buf_append(b, s, strlen(s)); }

char *emu_buf_detach(emu_buf *b, size_t *len)
{
  if (b->failed) { emu_buf_free(b); return NULL; }
  if (!b->data) emu_buf_append(b, "", 0);   /* always hand out a string */
  char *d = b->data;
  if (len) *len = b->len;
  emu_buf_init(b);
  return d;
}

uint32_t emu_fnv1a(const void *p, size_t n, uint32_t h)
{
  const unsigned char *s = p;
  for (size_t i = 0; i < n; i++) { h ^= s[i]; h *= 16777619u; }
  return h;
}

uint64_t emu_mix64(uint64_t x)
{
  x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27; x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t emu_rng_next(uint64_t *state)
{
  *state += 0x9e3779b97f4a7c15ull;
  return emu_mix64(*state);
}

/* ---- map ---- */

void emu_map_init(emu_map *m) { memset(m, 0, sizeof *m); }

void emu_map_free(emu_map *m)
{
  free(m->keys);
  free(m->vals);
  emu_map_init(m);
}

/* Keys are UUIDs, which RFC 4122 reads in any letter case: the map folds case, so the
 * same taskUUID in capitals is the same task (conflictTaskUUID, never charged twice). */
static size_t slot_of(const emu_map *m, const char *key)
{
  size_t mask = m->cap - 1;
  uint64_t h = EMU_FNV_INIT;
  for (const char *p = key; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c >= 'A' && c <= 'Z') c = (unsigned char)(c - 'A' + 'a');
    h = emu_fnv1a(&c, 1, h);
  }
  size_t i = (size_t)h & mask;
  while (m->keys[i] && strcasecmp(m->keys[i], key) != 0) i = (i + 1) & mask;
  return i;
}

void *emu_map_get(const emu_map *m, const char *key)
{
  if (!m->cap) return NULL;
  size_t i = slot_of(m, key);
  return m->keys[i] ? m->vals[i] : NULL;
}

static int grow(emu_map *m)
{
  size_t cap = m->cap ? m->cap * 2 : 64;
  emu_map n = { calloc(cap, sizeof(char *)), calloc(cap, sizeof(void *)), 0, cap };
  if (!n.keys || !n.vals) { free(n.keys); free(n.vals); return -1; }
  for (size_t i = 0; i < m->cap; i++) {
    if (!m->keys[i]) continue;
    size_t j = slot_of(&n, m->keys[i]);
    n.keys[j] = m->keys[i];
    n.vals[j] = m->vals[i];
    n.n++;
  }
  emu_map_free(m);
  *m = n;
  return 0;
}

int emu_map_put(emu_map *m, const char *key, void *val)
{
  if ((m->n + 1) * 4 > m->cap * 3 && grow(m) != 0) return -1;   /* load <= 0.75 */
  size_t i = slot_of(m, key);
  if (m->keys[i]) return 1;
  m->keys[i] = key;
  m->vals[i] = val;
  m->n++;
  return 0;
}

void *emu_map_remove(emu_map *m, const char *key)
{
  if (!m->cap) return NULL;
  size_t mask = m->cap - 1, i = slot_of(m, key);
  if (!m->keys[i]) return NULL;
  void *v = m->vals[i];
  m->keys[i] = NULL;
  m->n--;
  /* Re-insert the rest of the cluster so linear probing still finds every key. */
  for (size_t j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
    const char *k = m->keys[j];
    void *kv = m->vals[j];
    m->keys[j] = NULL;
    size_t s = slot_of(m, k);
    m->keys[s] = k;
    m->vals[s] = kv;
  }
  return v;
}

/* ---- URLs ---- */

/* Points *host at the host part of an http(s) URL and sets *hlen; 0 ok, -1 not http(s). */
static int url_host(const char *url, const char **host, size_t *hlen)
{
  const char *p;
  if (strncasecmp(url, "http://", 7) == 0) p = url + 7;
  else if (strncasecmp(url, "https://", 8) == 0) p = url + 8;
  else return -1;
  const char *at = NULL;   /* skip userinfo */
  for (const char *q = p; *q && *q != '/' && *q != '?' && *q != '#'; q++)
    if (*q == '@') at = q;
  if (at) p = at + 1;
  const char *e;
  if (*p == '[') {
    e = strchr(p, ']');
    if (!e || e == p + 1) return -1;     /* "[]": no host */
    e++;
  } else {
    e = p;
    while (*e && *e != ':' && *e != '/' && *e != '?' && *e != '#') e++;
  }
  if (e == p) return -1;
  *host = p;
  *hlen = (size_t)(e - p);
  return 0;
}

int emu_url_is_http(const char *s)
{
  const char *h;
  size_t n;
  if (url_host(s, &h, &n) != 0) return 0;
  for (const char *q = s; *q; q++)
    if ((unsigned char)*q <= ' ' || *q == 0x7F) return 0;   /* no spaces or controls */
  return 1;
}

int emu_url_is_loopback(const char *url)
{
  const char *h;
  size_t n;
  if (url_host(url, &h, &n) != 0) return 0;
  static const char *const ok[] = { "127.0.0.1", "localhost", "[::1]" };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    if (strlen(ok[i]) == n && strncasecmp(h, ok[i], n) == 0) return 1;
  return 0;
}
