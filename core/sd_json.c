/* sd_json.c: growable buffer and compact JSON writing of sd_value trees. */
#include "sd_json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_file.h"
#include "sd_text.h"

void sd_buf_init(sd_buf *b) {
  b->data = NULL;
  b->len = b->cap = 0;
  b->failed = 0;
  b->fail_path = NULL;
  b->fail_errno = 0;
}

void sd_buf_free(sd_buf *b) {
  free(b->data);
  sd_buf_init(b);
}

int sd_buf_reserve(sd_buf *b, size_t extra) {
  if (b->failed) return -1;
  if (extra > (size_t)-1 - b->len - 1) {
    b->failed = 1;
    return -1;
  }
  size_t need = b->len + extra + 1; /* room for the NUL of detach */
  if (need <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) cap = cap > (size_t)-1 / 2 ? need : cap * 2;
  char *d = realloc(b->data, cap);
  if (!d) {
    b->failed = 1;
    return -1;
  }
  b->data = d;
  b->cap = cap;
  return 0;
}

void sd_buf_append(sd_buf *b, const char *s, size_t n) {
  if (n == 0 || sd_buf_reserve(b, n) != 0) return;
  memcpy(b->data + b->len, s, n);
  b->len += n;
}

void sd_buf_puts(sd_buf *b, const char *s) { sd_buf_append(b, s, strlen(s)); }

void sd_buf_putc(sd_buf *b, char c) {
  if (sd_buf_reserve(b, 1) != 0) return;
  b->data[b->len++] = c;
}

char *sd_buf_detach(sd_buf *b, size_t *len) {
  if (b->failed || sd_buf_reserve(b, 0) != 0) {
    sd_buf_free(b);
    if (len) *len = 0;
    return NULL;
  }
  char *d = b->data;
  d[b->len] = '\0';
  if (len) *len = b->len;
  sd_buf_init(b);
  return d;
}

/* 0: copy as is; 1: needs an escape. */
static const unsigned char sd_json_esc[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x10 */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20: '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x50: '\\' */
};

void sd_json_write_string(sd_buf *b, const char *str, size_t len) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *)str;
  sd_buf_putc(b, '"');
  size_t run = 0; /* start of the pending run of bytes copied verbatim */
  for (size_t i = 0; i < len; i++) {
    unsigned char c = s[i];
    if (!sd_json_esc[c]) continue;
    sd_buf_append(b, str + run, i - run);
    run = i + 1;
    switch (c) {
    case '"': sd_buf_append(b, "\\\"", 2); break;
    case '\\': sd_buf_append(b, "\\\\", 2); break;
    case '\n': sd_buf_append(b, "\\n", 2); break;
    case '\r': sd_buf_append(b, "\\r", 2); break;
    case '\t': sd_buf_append(b, "\\t", 2); break;
    case '\b': sd_buf_append(b, "\\b", 2); break;
    case '\f': sd_buf_append(b, "\\f", 2); break;
    default: {
      char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      sd_buf_append(b, u, 6);
    }
    }
  }
  sd_buf_append(b, str + run, len - run);
  sd_buf_putc(b, '"');
}

/* Integers are most numbers of a request: digits by hand, not through printf. */
static void sd_json_write_int(sd_buf *b, long long i) {
  char tmp[24];
  size_t at = sizeof tmp;
  unsigned long long u = i < 0 ? 0ULL - (unsigned long long)i : (unsigned long long)i;
  do {
    tmp[--at] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (i < 0) tmp[--at] = '-';
  sd_buf_append(b, tmp + at, sizeof tmp - at);
}

/* Shortest %.Ng (N = 15..17) that reads back as the same double; '.' whatever the locale. */
static void sd_json_write_double(sd_buf *b, double n) {
  char tmp[40];
  int len = 0;
  for (int prec = 15; prec <= 17; prec++) {
    len = snprintf(tmp, sizeof tmp, "%.*g", prec, n);
    if (strtod(tmp, NULL) == n) break;
  }
  for (int i = 0; i < len; i++)
    if (tmp[i] == ',') tmp[i] = '.';
  sd_buf_append(b, tmp, (size_t)len);
}

/* Streams a file as "data:<mime>;base64,<...>": read in chunks of a multiple of 3 bytes and
 * encoded straight into the body, so the raw bytes are never held whole. */
static void sd_json_write_file(sd_buf *b, const sd_value *v) {
  enum { CHUNK = 3 * 21846 };              /* ~64 KiB, a multiple of 3 */
  unsigned char *chunk;
  const char *mime = sd_image_mime((sd_image_kind)v->u.file.kind);
  FILE *f;
  size_t n;
  if (b->failed) return;
  if (!mime) mime = "application/octet-stream";
  if (sd_buf_reserve(b, 32 + strlen(mime) +
                        sd_base64_encoded_len(v->u.file.size > 0 ? (size_t)v->u.file.size : 0)) != 0)
    return;
  f = fopen(v->u.file.path, "rb");
  chunk = f ? malloc(CHUNK) : NULL;
  if (!f || !chunk) {
    b->fail_errno = f ? ENOMEM : errno;
    b->fail_path = v->u.file.path;
    b->failed = 1;
    if (f) fclose(f);
    return;
  }
  sd_buf_puts(b, "\"data:");
  sd_buf_puts(b, mime);
  sd_buf_puts(b, ";base64,");
  while ((n = fread(chunk, 1, CHUNK, f)) > 0) {
    size_t out = sd_base64_encoded_len(n);
    if (sd_buf_reserve(b, out) != 0) break;
    b->len += sd_base64_encode(chunk, n, b->data + b->len);
    if (n < CHUNK) break;                   /* only the last chunk may need padding */
  }
  if (ferror(f)) {
    b->fail_errno = errno ? errno : EIO;
    b->fail_path = v->u.file.path;
    b->failed = 1;
  }
  fclose(f);
  free(chunk);
  sd_buf_putc(b, '"');
}

size_t sd_json_size_hint(const sd_value *v) {
  size_t n = 0;
  if (!v) return 4;
  switch (v->type) {
  case SD_STRING: return v->u.str.len + v->u.str.len / 16 + 2;
  case SD_FILE:
    return 48 + sd_base64_encoded_len(v->u.file.size > 0 ? (size_t)v->u.file.size : 0);
  case SD_ARRAY:
    for (size_t i = 0; i < v->u.arr.n; i++) n += sd_json_size_hint(v->u.arr.items[i]) + 1;
    return n + 2;
  case SD_OBJECT:
    for (size_t i = 0; i < v->u.obj.n; i++)
      n += strlen(v->u.obj.keys[i]) + 4 + sd_json_size_hint(v->u.obj.vals[i]);
    return n + 2;
  default: return 32;
  }
}

static void sd_json_write_value(sd_buf *b, const sd_value *v, int depth) {
  if (!v || depth > 1000) { /* deeper trees are not requests: write null */
    sd_buf_puts(b, "null");
    return;
  }
  switch (v->type) {
  case SD_NULL:
    sd_buf_puts(b, "null");
    break;
  case SD_BOOL:
    sd_buf_puts(b, v->u.boolean ? "true" : "false");
    break;
  case SD_NUMBER:
    if (!isfinite(v->u.num.n)) {
      sd_buf_puts(b, "null");
    } else if (v->u.num.is_int && sd_value_is_integer(v)) {
      sd_json_write_int(b, (long long)v->u.num.n);
    } else {
      sd_json_write_double(b, v->u.num.n);
    }
    break;
  case SD_STRING:
    sd_json_write_string(b, v->u.str.s, v->u.str.len);
    break;
  case SD_FILE:
    sd_json_write_file(b, v);
    break;
  case SD_ARRAY:
    sd_buf_putc(b, '[');
    for (size_t i = 0; i < v->u.arr.n; i++) {
      if (i) sd_buf_putc(b, ',');
      sd_json_write_value(b, v->u.arr.items[i], depth + 1);
    }
    sd_buf_putc(b, ']');
    break;
  case SD_OBJECT:
    sd_buf_putc(b, '{');
    for (size_t i = 0; i < v->u.obj.n; i++) {
      if (i) sd_buf_putc(b, ',');
      sd_json_write_string(b, v->u.obj.keys[i], strlen(v->u.obj.keys[i]));
      sd_buf_putc(b, ':');
      sd_json_write_value(b, v->u.obj.vals[i], depth + 1);
    }
    sd_buf_putc(b, '}');
    break;
  }
}

int sd_json_write(sd_buf *b, const sd_value *v) {
  sd_json_write_value(b, v, 0);
  return b->failed ? -1 : 0;
}
