/* sd_text.c: UTF-8 counting, UUID v4 (libuuid) and RFC 4648 base64. */
#include "sd_text.h"

#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>
#include <unistd.h>
#include <uuid/uuid.h>

/* ---- UTF-8 ------------------------------------------------------------------------ */

/* Well-formed sequences per Unicode 15, table 3-7: no overlongs, no surrogates,
 * nothing above U+10FFFF, no truncation. */
long sd_utf8_count(const char *str, size_t len) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  long n = 0;
  if (!s) return len ? -1 : 0;
  while (i < len) {
    /* ASCII fast path, 8 bytes at a time. */
    while (i + 8 <= len) {
      uint64_t w;
      memcpy(&w, s + i, 8);
      if (w & UINT64_C(0x8080808080808080)) break;
      i += 8;
      n += 8;
    }
    if (i >= len) break;
    unsigned c = s[i];
    if (c < 0x80) {
      i++;
    } else if (c >= 0xC2 && c <= 0xDF) {
      if (i + 1 >= len || (s[i + 1] & 0xC0) != 0x80) return -1;
      i += 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      unsigned lo = 0x80, hi = 0xBF;
      if (c == 0xE0) lo = 0xA0;      /* overlong */
      else if (c == 0xED) hi = 0x9F; /* surrogates */
      if (i + 2 >= len || s[i + 1] < lo || s[i + 1] > hi || (s[i + 2] & 0xC0) != 0x80)
        return -1;
      i += 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      unsigned lo = 0x80, hi = 0xBF;
      if (c == 0xF0) lo = 0x90;      /* overlong */
      else if (c == 0xF4) hi = 0x8F; /* > U+10FFFF */
      if (i + 3 >= len || s[i + 1] < lo || s[i + 1] > hi || (s[i + 2] & 0xC0) != 0x80 ||
          (s[i + 3] & 0xC0) != 0x80)
        return -1;
      i += 4;
    } else {
      return -1; /* stray continuation byte, C0/C1, F5..FF */
    }
    n++;
  }
  return n;
}

/* ---- UUID ------------------------------------------------------------------------- */

/* libuuid's uuid_generate_random makes five system calls per UUID (getpid, getppid,
 * gettid, getuid, getrandom: ~4 us, a tenth of a task's client-side CPU). The random bits
 * come instead from a per-thread pool filled by getrandom() 4 KiB at a time (the kernel's
 * CSPRNG, as libuuid uses), refilled after a fork so that parent and child never share
 * bytes; libuuid sets nothing else for v4 and still formats the result. */
#define SD_UUID_POOL 4096
static _Thread_local struct {
  unsigned char bytes[SD_UUID_POOL];
  size_t used;
  pid_t pid;
} sd_uuid_pool = {{0}, SD_UUID_POOL, 0};

void sd_uuid_v4(char out[37]) {
  uuid_t u;
  pid_t pid = getpid();
  if (sd_uuid_pool.used + 16 > SD_UUID_POOL || sd_uuid_pool.pid != pid) {
    size_t got = 0;
    while (got < SD_UUID_POOL) {
      ssize_t n = getrandom(sd_uuid_pool.bytes + got, SD_UUID_POOL - got, 0);
      if (n <= 0) break;
      got += (size_t)n;
    }
    if (got < SD_UUID_POOL) {            /* no getrandom: libuuid's own way */
      uuid_generate_random(u);
      uuid_unparse_lower(u, out);
      return;
    }
    sd_uuid_pool.used = 0;
    sd_uuid_pool.pid = pid;
  }
  memcpy(u, sd_uuid_pool.bytes + sd_uuid_pool.used, 16);
  memset(sd_uuid_pool.bytes + sd_uuid_pool.used, 0, 16);   /* used bytes never linger */
  sd_uuid_pool.used += 16;
  u[6] = (unsigned char)((u[6] & 0x0F) | 0x40);   /* version 4 */
  u[8] = (unsigned char)((u[8] & 0x3F) | 0x80);   /* RFC 4122 variant */
  uuid_unparse_lower(u, out);
}

static int sd_is_hex(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int sd_uuid_is_valid(const char *s, size_t len) {
  if (!s || len != 36) return 0;
  for (size_t i = 0; i < 36; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return 0;
    } else if (!sd_is_hex((unsigned char)s[i])) {
      return 0;
    }
  }
  return 1;
}

int sd_uuid_is_v4(const char *s, size_t len) {
  if (!sd_uuid_is_valid(s, len)) return 0;
  if (s[14] != '4') return 0;
  switch (s[19]) {
  case '8': case '9': case 'a': case 'b': case 'A': case 'B': return 1;
  default: return 0;
  }
}

/* ---- base64 ----------------------------------------------------------------------- */

/* The encoder looks up 12 bits at a time: sd_b64_pairs[i] holds the two characters for the
 * 12-bit value i, built at compile time from the 6-bit alphabet. */
#define SD_B64C(x)                                                                    \
  ((x) < 26 ? 'A' + (x) : (x) < 52 ? 'a' + ((x) - 26) : (x) < 62 ? '0' + ((x) - 52)  \
                                                      : (x) == 62 ? '+' : '/')
#define SD_P1(i) {(char)SD_B64C((i) >> 6), (char)SD_B64C((i) & 63)}
#define SD_P4(i) SD_P1(i), SD_P1((i) + 1), SD_P1((i) + 2), SD_P1((i) + 3)
#define SD_P16(i) SD_P4(i), SD_P4((i) + 4), SD_P4((i) + 8), SD_P4((i) + 12)
#define SD_P64(i) SD_P16(i), SD_P16((i) + 16), SD_P16((i) + 32), SD_P16((i) + 48)
#define SD_P256(i) SD_P64(i), SD_P64((i) + 64), SD_P64((i) + 128), SD_P64((i) + 192)
#define SD_P1024(i) SD_P256(i), SD_P256((i) + 256), SD_P256((i) + 512), SD_P256((i) + 768)

static const char sd_b64_pairs[4096][2] = {
    SD_P1024(0), SD_P1024(1024), SD_P1024(2048), SD_P1024(3072)};

static const char sd_b64_alpha[65] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Decoding table: 6-bit value, or 0xFF for a byte outside the alphabet. */
#define SD_D(c)                                                                       \
  ((c) >= 'A' && (c) <= 'Z'   ? (c) - 'A'                                             \
   : (c) >= 'a' && (c) <= 'z' ? (c) - 'a' + 26                                        \
   : (c) >= '0' && (c) <= '9' ? (c) - '0' + 52                                        \
   : (c) == '+'               ? 62                                                    \
   : (c) == '/'               ? 63                                                    \
                              : 0xFF)
#define SD_DC(c) ((unsigned char)(SD_D(c)))
#define SD_D4(c) SD_DC(c), SD_DC((c) + 1), SD_DC((c) + 2), SD_DC((c) + 3)
#define SD_D16(c) SD_D4(c), SD_D4((c) + 4), SD_D4((c) + 8), SD_D4((c) + 12)
#define SD_D64(c) SD_D16(c), SD_D16((c) + 16), SD_D16((c) + 32), SD_D16((c) + 48)
static const unsigned char sd_b64_dec[256] = {SD_D64(0), SD_D64(64), SD_D64(128),
                                              SD_D64(192)};

size_t sd_base64_encoded_len(size_t n) { return (n + 2) / 3 * 4; }

size_t sd_base64_encode(const unsigned char *in, size_t n, char *out) {
  char *o = out;
  size_t i = 0;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  /* One unaligned big-endian 64-bit load yields 6 input bytes = four 12-bit lookups, stored
   * as one 8-byte write (about 1.4x the portable loop below). */
  while (i + 8 <= n) {
    uint64_t w;
    memcpy(&w, in + i, 8);
    w = __builtin_bswap64(w);
    uint16_t a, b, c, d;
    memcpy(&a, sd_b64_pairs[(w >> 52) & 0xFFF], 2);
    memcpy(&b, sd_b64_pairs[(w >> 40) & 0xFFF], 2);
    memcpy(&c, sd_b64_pairs[(w >> 28) & 0xFFF], 2);
    memcpy(&d, sd_b64_pairs[(w >> 16) & 0xFFF], 2);
    uint64_t r = (uint64_t)a | (uint64_t)b << 16 | (uint64_t)c << 32 | (uint64_t)d << 48;
    memcpy(o, &r, 8);
    i += 6;
    o += 8;
  }
#endif
  /* 12 input bytes -> 16 output characters per iteration. */
  while (i + 12 <= n) {
    for (int k = 0; k < 4; k++) {
      uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
      memcpy(o, sd_b64_pairs[v >> 12], 2);
      memcpy(o + 2, sd_b64_pairs[v & 0xFFF], 2);
      i += 3;
      o += 4;
    }
  }
  while (i + 3 <= n) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    memcpy(o, sd_b64_pairs[v >> 12], 2);
    memcpy(o + 2, sd_b64_pairs[v & 0xFFF], 2);
    i += 3;
    o += 4;
  }
  if (n - i == 1) {
    uint32_t v = in[i];
    o[0] = sd_b64_alpha[v >> 2];
    o[1] = sd_b64_alpha[(v & 3) << 4];
    o[2] = '=';
    o[3] = '=';
    o += 4;
  } else if (n - i == 2) {
    uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];
    o[0] = sd_b64_alpha[v >> 10];
    o[1] = sd_b64_alpha[(v >> 4) & 63];
    o[2] = sd_b64_alpha[(v & 15) << 2];
    o[3] = '=';
    o += 4;
  }
  return (size_t)(o - out);
}

/* Shared by decode and validate: out may be NULL (validate only). Padding bits that are not
 * zero are accepted, as most decoders do. */
static size_t sd_b64_run(const char *in, size_t len, unsigned char *out) {
  const unsigned char *s = (const unsigned char *)in;
  size_t o = 0;
  if (len % 4) return (size_t)-1;
  if (len == 0) return 0;
  size_t full = len - 4; /* the last quantum may carry padding */
  for (size_t i = 0; i < full; i += 4) {
    unsigned a = sd_b64_dec[s[i]], b = sd_b64_dec[s[i + 1]], c = sd_b64_dec[s[i + 2]],
             d = sd_b64_dec[s[i + 3]];
    if ((a | b | c | d) & 0x80) return (size_t)-1;
    if (out) {
      uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | d;
      out[o] = (unsigned char)(v >> 16);
      out[o + 1] = (unsigned char)(v >> 8);
      out[o + 2] = (unsigned char)v;
    }
    o += 3;
  }
  const unsigned char *t = s + full;
  unsigned a = sd_b64_dec[t[0]], b = sd_b64_dec[t[1]];
  if ((a | b) & 0x80) return (size_t)-1;
  if (t[2] == '=') {
    if (t[3] != '=') return (size_t)-1;
    if (out) out[o] = (unsigned char)(a << 2 | b >> 4);
    return o + 1;
  }
  unsigned c = sd_b64_dec[t[2]];
  if (c & 0x80) return (size_t)-1;
  if (t[3] == '=') {
    if (out) {
      out[o] = (unsigned char)(a << 2 | b >> 4);
      out[o + 1] = (unsigned char)((b & 15) << 4 | c >> 2);
    }
    return o + 2;
  }
  unsigned d = sd_b64_dec[t[3]];
  if (d & 0x80) return (size_t)-1;
  if (out) {
    uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | d;
    out[o] = (unsigned char)(v >> 16);
    out[o + 1] = (unsigned char)(v >> 8);
    out[o + 2] = (unsigned char)v;
  }
  return o + 3;
}

size_t sd_base64_decode(const char *in, size_t len, unsigned char *out) {
  if (!in && len) return (size_t)-1;
  return sd_b64_run(in, len, out);
}

int sd_base64_is_valid(const char *s, size_t len) {
  if (!s && len) return 0;
  return sd_b64_run(s, len, NULL) != (size_t)-1;
}
