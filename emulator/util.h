/* util.h: small helpers shared by the emulator: clock, byte buffer, hashing, a PRNG and a
 * string-keyed hash map. */
#ifndef EMU_UTIL_H
#define EMU_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic milliseconds: task schedules and ttl use it (wall clock may jump). */
uint64_t emu_now_ms(void);

/* Growable byte buffer; data stays NUL-terminated. failed is set on allocation failure and
 * later appends are ignored, so callers check once at the end. */
typedef struct emu_buf { char *data; size_t len, cap; int failed; } emu_buf;
void emu_buf_init(emu_buf *b);
void emu_buf_free(emu_buf *b);
void emu_buf_append(emu_buf *b, const void *p, size_t n);
void emu_buf_puts(emu_buf *b, const char *s);
/* Hands the data over to the caller (free() it); the buffer is left empty. */
char *emu_buf_detach(emu_buf *b, size_t *len);

uint32_t emu_fnv1a(const void *p, size_t n, uint32_t h);
#define EMU_FNV_INIT 2166136261u
uint64_t emu_mix64(uint64_t x);           /* splitmix64 finaliser */

/* splitmix64 generator; not thread-safe (callers lock). */
uint64_t emu_rng_next(uint64_t *state);

/* Open-addressing map from C string to pointer. Keys are NOT copied: they must live as long
 * as their entry (they point into the stored value). Not thread-safe. */
typedef struct emu_map { const char **keys; void **vals; size_t n, cap; } emu_map;
void emu_map_init(emu_map *m);
void emu_map_free(emu_map *m);             /* frees the table, not the values */
void *emu_map_get(const emu_map *m, const char *key);
/* 0 ok, 1 key exists (nothing changed), -1 nomem. */
int emu_map_put(emu_map *m, const char *key, void *val);
void *emu_map_remove(emu_map *m, const char *key);

/* 1 if the URL is http(s) and its host is loopback (127.0.0.1, localhost, ::1). */
int emu_url_is_loopback(const char *url);
/* 1 if s is an absolute http:// or https:// URL with a host. */
int emu_url_is_http(const char *s);

#endif
