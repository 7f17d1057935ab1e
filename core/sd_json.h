/* sd_json.h: JSON writing for sd_value trees (reading is lua-cjson's job in the binding). */
#ifndef SD_JSON_H
#define SD_JSON_H

#include <stddef.h>
#include "sd_value.h"

/* A growable byte buffer, like lua-cjson's strbuf. */
typedef struct sd_buf {
  char *data;
  size_t len, cap;
  int failed;             /* an append failed (out of memory, or a file could not be read) */
  const char *fail_path;  /* the file that could not be read (points into the value tree) */
  int fail_errno;
} sd_buf;

void sd_buf_init(sd_buf *b);
void sd_buf_free(sd_buf *b);
int sd_buf_reserve(sd_buf *b, size_t extra);          /* 0 ok, -1 nomem (sets failed) */
void sd_buf_append(sd_buf *b, const char *s, size_t n);
void sd_buf_puts(sd_buf *b, const char *s);
void sd_buf_putc(sd_buf *b, char c);
/* Detaches the NUL-terminated data (caller frees); NULL if any append failed. */
char *sd_buf_detach(sd_buf *b, size_t *len);

/* Appends v as compact JSON. SD_FILE values are streamed from disk as a base64 data URI
 * string (on a read error the buffer fails with fail_path/fail_errno set). Integers print without a fraction; non-finite numbers are
 * written as null (never produced by a validated request). Returns 0, or -1 on nomem. */
int sd_json_write(sd_buf *b, const sd_value *v);
/* A size to reserve before writing v: exact for files (their base64 is the bulk of a large
 * request), a close estimate for the rest, so a large body is allocated once. */
size_t sd_json_size_hint(const sd_value *v);
/* Appends s as a JSON string literal with escapes (valid UTF-8 passes through). */
void sd_json_write_string(sd_buf *b, const char *s, size_t len);

#endif
