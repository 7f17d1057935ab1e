/* sd_http_sink.c: where the bytes of an answer go. A 2xx body of a GET to a file streams
 * into "<path>.part-XXXXXX" (created at its first byte); other bodies grow a memory buffer
 * sized ahead from Content-Length, and the error body of a GET to a file keeps only its
 * first 64 KiB. The CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION callbacks choose the
 * sink per answer (a status line starts a new answer) and parse Retry-After. Separate from
 * sd_http.c because this is the code libcurl calls back in the middle of a transfer;
 * closing and renaming the file once the transfer is complete stays there (complete()). */
#include "sd_http_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define SD_BODY_HINT_MAX ((size_t)64 << 20) /* most we allocate ahead on Content-Length */
#define SD_ERRBODY_MAX ((size_t)64 << 10)   /* error bodies of GETs to a file */

/* ---- response sinks --------------------------------------------------------------- */

void sdh_tmp_discard(sd_xfer *x) {
  if (x->fd >= 0) {
    close(x->fd);
    x->fd = -1;
    unlink(x->tmp_path);
  }
}

void sdh_set_fail(sd_xfer *x, sd_code code, const char *what, const char *path, int e) {
  x->fail = code;
  snprintf(x->done.message, sizeof x->done.message, "%s %s: %s", what, path, strerror(e));
}

int sdh_tmp_open(sd_xfer *x) {
  static const char digits[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  size_t plen = strlen(x->path);
  for (int tries = 0; tries < 100; tries++) {
    uint64_t r = sdh_rng_next(x->h);
    memcpy(x->tmp_path, x->path, plen);
    memcpy(x->tmp_path + plen, ".part-", 6);
    for (int i = 0; i < 6; i++, r >>= 6) x->tmp_path[plen + 6 + i] = digits[r % 62];
    x->tmp_path[plen + 12] = '\0';
    x->fd = open(x->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (x->fd >= 0) return 0;
    if (errno != EEXIST) break;
  }
  sdh_set_fail(x, SD_EIO, "cannot create", x->tmp_path, errno);
  return -1;
}

static int mem_append(sd_xfer *x, const char *p, size_t n) {
  if (x->len + n + 1 > x->cap) {
    size_t want = x->len + n + 1, c = x->cap ? x->cap : 1024;
    if (!x->cap) { /* size the first buffer from Content-Length, within reason */
      curl_off_t cl = -1;
      size_t most = x->sink == SINK_ERRMEM ? SD_ERRBODY_MAX : SD_BODY_HINT_MAX;
      if (curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK &&
          cl > 0 && (uint64_t)cl <= most)
        c = (size_t)cl + 1;
    }
    while (c < want) c *= 2;
    char *b = realloc(x->buf, c);
    if (!b) {
      x->fail = SD_ENOMEM;
      snprintf(x->done.message, sizeof x->done.message, "out of memory for the response body");
      return -1;
    }
    x->buf = b;
    x->cap = c;
  }
  memcpy(x->buf + x->len, p, n);
  x->len += n;
  x->buf[x->len] = '\0';
  return 0;
}

size_t sdh_on_write(char *p, size_t size, size_t nmemb, void *ud) {
  sd_xfer *x = ud;
  size_t n = size * nmemb;
  if (x->sink == SINK_NONE) {
    /* the status as curl read it (the body comes after the headers), the same one
     * complete() judges by; the status line's own reading only if curl has none */
    long st = 0;
    if (curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &st) != CURLE_OK || st <= 0)
      st = x->hdr_status;
    x->sink = !x->path ? SINK_MEM : (st >= 200 && st < 300) ? SINK_FILE : SINK_ERRMEM;
  }
  switch (x->sink) {
  case SINK_FILE:
    if (x->fd < 0 && sdh_tmp_open(x) != 0) return 0;
    for (size_t off = 0; off < n;) {
      ssize_t w = write(x->fd, p + off, n - off);
      if (w < 0) {
        if (errno == EINTR) continue;
        sdh_set_fail(x, SD_EIO, "cannot write", x->tmp_path, errno);
        return 0;
      }
      off += (size_t)w;
    }
    return n;
  case SINK_ERRMEM: /* keep the head of an error body, drop the rest */
    if (x->len < SD_ERRBODY_MAX) {
      size_t take = n < SD_ERRBODY_MAX - x->len ? n : SD_ERRBODY_MAX - x->len;
      if (mem_append(x, p, take) != 0) return 0;
    }
    return n;
  default:
    if (n > x->max_body - x->len) {
      x->fail = x->max_body < SD_BODY_MAX ? SD_EPROTOCOL : SD_EIO;
      snprintf(x->done.message, sizeof x->done.message, "response body exceeds %zu bytes",
               x->max_body);
      return 0;
    }
    return mem_append(x, p, n) == 0 ? n : 0;
  }
}

/* A new status line starts a new answer (1xx, followed redirects): forget the last one. */
void sdh_new_answer(sd_xfer *x, long status) {
  x->hdr_status = status;
  x->retry_after = -1;
  x->sink = SINK_NONE;
  x->len = 0;
  if (x->buf) x->buf[0] = '\0';
  sdh_tmp_discard(x);
}

static double parse_retry_after(const char *v, size_t n) {
  while (n && (*v == ' ' || *v == '\t')) v++, n--;
  while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ')) n--;
  if (!n) return -1;
  if (*v >= '0' && *v <= '9') {
    double s = 0;
    for (size_t i = 0; i < n && v[i] >= '0' && v[i] <= '9'; i++)
      if (s < 1e9) s = s * 10 + (v[i] - '0');
    return s;
  }
  char date[64];
  if (n >= sizeof date) return -1;
  memcpy(date, v, n);
  date[n] = '\0';
  time_t t = curl_getdate(date, NULL);
  if (t == (time_t)-1) return -1;
  double d = difftime(t, time(NULL));
  return d > 0 ? d : 0;
}

size_t sdh_on_header(char *p, size_t size, size_t nmemb, void *ud) {
  sd_xfer *x = ud;
  size_t n = size * nmemb;
  if (n > 5 && memcmp(p, "HTTP/", 5) == 0) {
    const char *s = memchr(p, ' ', n);
    long st = 0;
    if (s) {
      while (s < p + n && *s == ' ') s++;            /* "HTTP/1.1  200": curl takes it */
      for (; s < p + n && *s >= '0' && *s <= '9' && st < 1000; s++) st = st * 10 + (*s - '0');
    }
    sdh_new_answer(x, st);
  } else if (n > 12 && (p[0] == 'R' || p[0] == 'r') && strncasecmp(p, "retry-after:", 12) == 0) {
    x->retry_after = parse_retry_after(p + 12, n - 12);
  }
  return n;
}
