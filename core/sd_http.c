/* sd_http.c: the transport (see sd_http.h for the contract).
 *
 * Event model. curl is driven with curl_multi_socket_action, never curl_multi_perform:
 * a CURLMOPT_SOCKETFUNCTION keeps a dense pollfd array of the sockets curl wants watched
 * (index by fd for O(1) updates), so sd_http_fds works past FD_SETSIZE, and one
 * sd_http_perform costs one poll() over the watched sockets (at most max_connections
 * with HTTP/1.1, one per host with HTTP/2) plus O(ready) work, not O(transfers).
 * (curl_multi_perform walks every easy handle and does not call the socket callback.)
 * Timers come from curl_multi_timeout (a splay-tree peek), so no timer callback is used.
 * sd_http_perform(h, wait) keeps going until a transfer finishes or wait runs out.
 *
 * Data structures. Live transfers sit in a hash table by id (cancel is O(1)); the easy
 * handle carries its transfer in CURLOPT_PRIVATE (completion is O(1)); retries waiting for
 * their time sit in a min-heap by due time; finished transfers wait in a FIFO for
 * sd_http_next. Finished easy handles are pooled (up to SD_POOL_MAX) with their kind of
 * transfer; one taken for another kind is curl_easy_reset first.
 * Per transfer: one allocation holds the record, the URL, the body copy and the paths; the
 * response buffer is a second one. Header lists are built once (POST: Content-Type,
 * "Expect:", User-Agent; GET: User-Agent) and the Authorization line once per
 * bearer value (the last one is cached; a line lives while transfers use it).
 *
 * Protocols. https: HTTP/2 when ALPN offers it, PIPEWAIT so that concurrent requests
 * share one connection. http: HTTP/1.1. How many transfers curl gets at once is decided
 * here (see admission_cap); the others wait in an O(1) FIFO per class. Accept-
 * Encoding: gzip is sent only when the caller asks (large JSON answers with inline images);
 * image files are compressed already, and small answers gain nothing from it.
 *
 * Sharing. The multi handle already keeps one connection cache and one DNS cache for all
 * its easy handles, so the CURLSH shares TLS sessions (and DNS) only: putting connections
 * in a share as well gains nothing for a single multi handle, and CURL_LOCK_DATA_CONNECT
 * has a history of bugs together with CURLMOPT_MAX_TOTAL_CONNECTIONS. Single-threaded use:
 * no lock callbacks.
 *
 * Retry classification. Retried, re-sending the same body:
 *   - connection-level failures that may be transient: couldn't connect, send/recv error,
 *     empty reply, partial body, HTTP/2 framing/stream errors;
 *   - CURLE_OPERATION_TIMEDOUT: safe because the server keeps the taskUUID; a retry of a
 *     task the server already has answers conflictTaskUUID, never a second charge;
 *   - HTTP 408, 429 and 5xx but 501 and 505 (as Runware's SDKs do: CDNs answer 52x).
 * Not retried: DNS failures (a wrong host name is far more common than a resolver
 * hiccup; failing fast reports it at once, and SD_ENETWORK stays retryable for callers),
 * TLS verification failures, bad URLs, unsupported protocols, too many redirects, local
 * file errors. Delay before retry n: rand(0, min(backoff_max, backoff_base * 2^(n-1)))
 * ("full jitter"), raised to Retry-After (capped at 120 s) when the answer carried one.
 *
 * Files. GET bodies for a file_path go to "<path>.part-XXXXXX" (opened O_EXCL with mode
 * 0666 so the umask applies, unlike mkstemp's 0600), created lazily at the first byte of a
 * 2xx answer, renamed over path after a complete 2xx answer. No fsync: the rename makes
 * the file appear whole or not at all to other processes, which is what callers need;
 * durability across a power loss is not worth an fsync per image. Non-2xx bodies stay in
 * memory (at most 64 KiB) for the error report.
 *
 * curl_global_init is called in sd_http_new (reference counted since 7.84, thread-safe);
 * curl_global_cleanup is never called here: it tears down OpenSSL for the whole process,
 * which other users of libcurl/OpenSSL in the same host (another Lua module, the host
 * program) may still need; the OS reclaims it at exit (valgrind: "still reachable").
 *
 * Source layout. This file holds the lifecycle of a transfer (admission, attempts,
 * retries, completion, the done FIFO) and the public API; sd_http_easy.c the headers, the
 * options of easy handles, their pool and the trust store; sd_http_tables.c the live
 * table, the retry heap and the socket bookkeeping;
 * sd_http_sink.c the response sinks; sd_http_int.h the structures they share. */
#include "sd_http.h"
#include "sd_http_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "sd_version.h"

#define SD_RETRY_AFTER_MAX_MS 120000L

/* ---- small helpers ---------------------------------------------------------------- */

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* "scheme://host:port/path" of url: no userinfo, query or fragment (they may hold
 * secrets, e.g. signed download URLs). */
static void url_redacted(const char *url, char *out, size_t cap) {
  const char *sep = strstr(url, "://");
  const char *auth = sep ? sep + 3 : url;
  const char *auth_end = auth + strcspn(auth, "/?#");
  const char *host = auth;
  for (const char *p = auth; p < auth_end; p++)
    if (*p == '@') host = p + 1;
  const char *path_end = auth_end + strcspn(auth_end, "?#");
  snprintf(out, cap, "%.*s%.*s%.*s", (int)(auth - url), url, (int)(auth_end - host), host,
           (int)(path_end - auth_end), auth_end);
}

static int is_retryable_status(long s) {
  /* 501 and 505 say the server never will; every other 5xx may pass (CDNs use 52x) */
  return s == 408 || s == 429 || (s >= 500 && s <= 599 && s != 501 && s != 505);
}

static int is_retryable_curl(CURLcode rc) {
  switch (rc) {
  case CURLE_COULDNT_CONNECT:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
    return 1;
  default:
    return 0;
  }
}

/* ---- lifecycle of one transfer ---------------------------------------------------- */

static void attempt_reset(sd_xfer *x) {
  sdh_new_answer(x, 0);
  x->fail = SD_OK;
  x->errbuf[0] = '\0';
  x->done.message[0] = '\0';
}

/* Admission control: how many transfers of a class (0 cleartext, 1 TLS) curl gets at once;
 * the rest wait in our FIFO for that class instead of curl's pending list.
 *   Cleartext is HTTP/1.1, a transfer per connection: at most max_connections. With the
 *   socket API curl hands a freed connection to its own pending transfers first, so every
 *   transfer added past the limit would run connection setup (URL parse, proxy lookup),
 *   fail, park, and run it again: that doubled curl's work per request at 100 in flight on
 *   16 connections.
 *   TLS is HTTP/2 when the server offers it: streams on one connection, up to the server's
 *   limit, at least 100 by RFC 9113's advice (nghttpx 100, nginx 128, Cloudflare 256). Past
 *   it, curl 7.88 opened a new connection for every extra transfer instead of waiting for
 *   the second one (200 at once made 101 TLS handshakes, 1,000 about 700), so at most
 *   SD_H2_STREAMS go to curl once a TLS answer has shown HTTP/2; before any has, no more
 *   than max_connections either (on an HTTP/1.1-only host the rest would wait inside curl
 *   with their timeouts running). Once a TLS answer shows HTTP/1.1, TLS counts like
 *   cleartext.
 * A queued attempt's timeout starts when it leaves the queue. */
#define SD_H2_STREAMS 100

static int xfer_class(const sd_xfer *x) { return x->h1 ? 0 : 1; }

/* How many transfers of class cls curl may have at once; 0: no limit. */
static long admission_cap(const sd_http *h, int cls) {
  long mc = h->cfg.max_connections;
  if (cls == 0 || h->tls_h1) return mc;
  if (h->tls_h2) return SD_H2_STREAMS;
  /* no TLS answer yet: as many as curl has connections for (more would wait inside curl,
   * their timeouts running) and one HTTP/2 connection takes */
  return mc > 0 && mc < SD_H2_STREAMS ? mc : SD_H2_STREAMS;
}

static int admission_full(const sd_http *h, int cls) {
  long cap = admission_cap(h, cls);
  return cap > 0 && h->running[cls] >= (size_t)cap;
}

static int multi_add(sd_http *h, sd_xfer *x) {
  if (curl_multi_add_handle(h->multi, x->easy) != CURLM_OK) return -1;
  x->state = X_RUNNING;
  h->running[xfer_class(x)]++;
  return 0;
}

static void multi_remove(sd_http *h, sd_xfer *x) {
  curl_multi_remove_handle(h->multi, x->easy);
  h->running[xfer_class(x)]--;
}

static void queue_unlink(sd_http *h, sd_xfer *x) {
  int c = xfer_class(x);
  if (x->qprev) x->qprev->qnext = x->qnext;
  else h->queue_head[c] = x->qnext;
  if (x->qnext) x->qnext->qprev = x->qprev;
  else h->queue_tail[c] = x->qprev;
  x->qnext = x->qprev = NULL;
}

static int attempt_start(sd_http *h, sd_xfer *x) {
  attempt_reset(x);
  x->done.attempts++;
  int c = xfer_class(x);
  if (h->queue_head[c] || admission_full(h, c)) {
    x->qnext = NULL;
    x->qprev = h->queue_tail[c];
    if (h->queue_tail[c]) h->queue_tail[c]->qnext = x;
    else h->queue_head[c] = x;
    h->queue_tail[c] = x;
    x->state = X_QUEUED;
    return 0;
  }
  return multi_add(h, x);
}

/* Moves x to the done FIFO; its easy handle (already out of the multi) goes to the pool. */
static void finish(sd_http *h, sd_xfer *x, sd_code code, CURLcode rc) {
  sd_http_done *d = &x->done;
  if (x->easy) {
    sdh_easy_put(h, x->easy, sdh_xfer_kind(x));
    x->easy = NULL;
  }
  sdh_tmp_discard(x);
  sdh_auth_release(x->auth);
  x->auth = NULL;
  d->id = x->id;
  d->code = code;
  d->retry_after = x->retry_after;
  d->elapsed = (double)(now_us() - x->t_start) / 1e6;
  if (code == SD_OK) {
    d->message[0] = '\0';
    if (!(x->path && x->sink == SINK_FILE)) { /* body in memory: never NULL */
      if (!x->buf && (x->buf = malloc(1)) != NULL) x->buf[0] = '\0';
      d->body = x->buf;
      d->body_len = x->buf ? x->len : 0;
      x->buf = NULL;
    }
  } else {
    char where[160], text[SD_MESSAGE_MAX];
    url_redacted(x->url, where, sizeof where);
    if (d->message[0]) /* a local failure described by a callback */
      snprintf(text, sizeof text, "%s", d->message);
    else
      snprintf(text, sizeof text, "%s",
               code == SD_ECANCELLED ? "cancelled"
               : x->errbuf[0]        ? x->errbuf
                                     : curl_easy_strerror(rc));
    snprintf(d->message, sizeof d->message, "%s %s: %.340s",
             x->method == SD_HTTP_POST ? "POST" : "GET", where, text);
  }
  free(x->buf);
  x->buf = NULL;
  x->len = x->cap = 0;
  free(x->owned_body);       /* no more attempts: a large request body goes now */
  x->owned_body = NULL;
  x->body = NULL;
  sdh_live_remove(h, x);
  x->state = X_DONE;
  x->qnext = NULL;
  if (h->done_tail) h->done_tail->qnext = x;
  else h->done_head = x;
  h->done_tail = x;
  h->stats.finished++;
}

static int schedule_retry(sd_http *h, sd_xfer *x) {
  uint64_t cap = (uint64_t)h->cfg.backoff_base_ms, max = (uint64_t)h->cfg.backoff_max_ms;
  for (int i = 1; i < x->done.attempts && cap < max; i++) cap *= 2;
  if (cap > max) cap = max;
  int64_t delay = cap ? (int64_t)(sdh_rng_next(h) % (cap + 1)) : 0;
  if (x->retry_after >= 0) {
    double ra = x->retry_after * 1000.0;
    int64_t ms = ra > (double)SD_RETRY_AFTER_MAX_MS ? SD_RETRY_AFTER_MAX_MS : (int64_t)ra;
    if (ms > delay) delay = ms;
  }
  sdh_tmp_discard(x);
  x->retry_at = now_us() + delay * 1000;
  if (sdh_heap_push(h, x) != 0) return -1;
  x->state = X_WAITING;
  h->stats.retries++;
  return 0;
}

/* Whether the finished temporary file is the kind of image asked for (sd_http_request.expect);
 * says what it is otherwise. */
static int kind_ok(sd_xfer *x) {
  sd_image_kind got;
  int w, ht;
  sd_error err;
  if (x->expect == SD_IMG_UNKNOWN) return 1;
  if (sd_file_sniff(x->tmp_path, &got, &w, &ht, NULL, &err) != SD_OK) {
    snprintf(x->done.message, sizeof x->done.message, "%s", err.message);
    return 0;
  }
  if (got == x->expect) {
    if (sd_file_whole(x->tmp_path, got)) return 1;
    snprintf(x->done.message, sizeof x->done.message, "a %s file cut short (its end is missing)",
             sd_image_ext(got));
    return 0;
  }
  snprintf(x->done.message, sizeof x->done.message, "not a %s file (got %s)",
           sd_image_ext(x->expect), got ? sd_image_ext(got) : "unknown data");
  return 0;
}

/* One attempt ended with rc: retry it or finish the transfer. */
static void complete(sd_http *h, sd_xfer *x, CURLcode rc) {
  CURL *e = x->easy;
  long status = 0, nconn = 0;
  multi_remove(h, x);
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  long reqsize = 0;
  if (curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &reqsize) == CURLE_OK && reqsize > 0)
    x->done.sent = 1;
  if (curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &nconn) == CURLE_OK && nconn > 0)
    h->stats.connects += (uint64_t)nconn;
  long version = 0;
  if (!x->h1 && !h->tls_h1 && status > 0 &&
      curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &version) == CURLE_OK) {
    if (version == CURL_HTTP_VERSION_1_0 || version == CURL_HTTP_VERSION_1_1)
      h->tls_h1 = 1;               /* no HTTP/2 here: a connection per TLS transfer */
    else if (version == CURL_HTTP_VERSION_2_0)
      h->tls_h2 = 1;               /* streams: SD_H2_STREAMS at once */
  }
  x->done.status = status;
  /* A final answer the server gave (a 4xx that is no invitation to retry) stands even if its
   * body was cut short: sending the request again would not change it. */
  int answered = status >= 400 && !is_retryable_status(status);
  int retry = x->fail == SD_OK && !answered &&
              (rc == CURLE_OK ? is_retryable_status(status) : is_retryable_curl(rc));
  if (retry && x->done.attempts <= x->max_retries && schedule_retry(h, x) == 0) return;

  sd_code code = x->fail != SD_OK                 ? x->fail
                 : rc == CURLE_OK                 ? SD_OK
                 : rc == CURLE_OPERATION_TIMEDOUT ? SD_ETIMEOUT
                                                  : SD_ENETWORK;
  if (code == SD_OK && x->path && status >= 200 && status < 300 && status != 204 &&
      status != 205) {               /* 204/205 say there is no content: nothing is written */
    x->sink = SINK_FILE;
    if (x->fd < 0 && sdh_tmp_open(x) != 0) { /* an empty body */
      code = SD_EIO;
    } else {
      int fd = x->fd;
      x->fd = -1;
      if (close(fd) != 0) {
        sdh_set_fail(x, SD_EIO, "cannot write", x->tmp_path, errno);
        unlink(x->tmp_path);
        code = SD_EIO;
      } else if (!kind_ok(x)) {
        unlink(x->tmp_path);
        /* garbled or cut short on the way (a proxy, a dropped connection): fetched again
         * while retries last; the last attempt's verdict stands */
        if (x->done.attempts <= x->max_retries && schedule_retry(h, x) == 0) return;
        code = SD_EPROTOCOL;
      } else if (rename(x->tmp_path, x->path) != 0) {
        sdh_set_fail(x, SD_EIO, "cannot rename to", x->path, errno);
        unlink(x->tmp_path);
        code = SD_EIO;
      }
    }
  }
  if (code == SD_OK) {
    char *ct = NULL;
    if (curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
      x->done.content_type = strdup(ct);
  }
  finish(h, x, code, rc);
}

/* Moves queued transfers into the multi while their class has room. */
static void pump(sd_http *h) {
  for (int c = 0; c < 2; c++) {
    while (h->queue_head[c] && !admission_full(h, c)) {
      sd_xfer *x = h->queue_head[c];
      queue_unlink(h, x);
      if (multi_add(h, x) != 0) finish(h, x, SD_ENETWORK, CURLE_FAILED_INIT);
    }
  }
}

static void harvest(sd_http *h) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
    if (m->msg != CURLMSG_DONE) continue;
    CURLcode rc = m->data.result; /* m is invalid once the handle is removed */
    char *priv = NULL;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
    if (priv) complete(h, (sd_xfer *)(void *)priv, rc);
  }
  pump(h);
}

static void start_due_retries(sd_http *h, int64_t now) {
  while (h->nheap && h->heap[0]->retry_at <= now) {
    sd_xfer *x = h->heap[0];
    sdh_heap_remove(h, x);
    if (attempt_start(h, x) != 0) finish(h, x, SD_ENETWORK, CURLE_FAILED_INIT);
  }
}

static int act(sd_http *h, curl_socket_t s, int mask, sd_error *err) {
  int running;
  CURLMcode mc = curl_multi_socket_action(h->multi, s, mask, &running);
  if (mc == CURLM_OK || mc == CURLM_BAD_SOCKET) return 0;
  sd_error_set(err, mc == CURLM_OUT_OF_MEMORY ? SD_ENOMEM : SD_ENETWORK, NULL, "curl multi: %s",
               curl_multi_strerror(mc));
  return -1;
}

/* Hands the sockets poll found ready to curl (from a copy: curl edits h->pfd meanwhile). */
static int dispatch(sd_http *h, sd_error *err) {
  size_t n = 0;
  if (h->capready < h->npfd) {
    struct pollfd *a = realloc(h->ready, h->npfd * sizeof *a);
    if (!a) return sd_error_set(err, SD_ENOMEM, NULL, "out of memory"), -1;
    h->ready = a;
    h->capready = h->npfd;
  }
  for (size_t i = 0; i < h->npfd; i++)
    if (h->pfd[i].revents) h->ready[n++] = h->pfd[i];
  for (size_t i = 0; i < n; i++) {
    short re = h->ready[i].revents;
    int mask = ((re & (POLLIN | POLLHUP)) ? CURL_CSELECT_IN : 0) |
               ((re & POLLOUT) ? CURL_CSELECT_OUT : 0) |
               ((re & (POLLERR | POLLNVAL)) ? CURL_CSELECT_ERR : 0);
    if (re & POLLNVAL) sdh_sock_forget(h, h->ready[i].fd);
    if (act(h, h->ready[i].fd, mask, err) != 0) return -1;
  }
  return 0;
}

/* ---- public API ------------------------------------------------------------------- */

const char *sd_http_ca_dir(const sd_http *h) { return h ? h->ca_dir : NULL; }

void sd_http_config_defaults(sd_http_config *c) {
  memset(c, 0, sizeof *c);   /* a field added later is 0 / NULL, not stack garbage */
  c->connect_timeout_ms = 10000;
  c->timeout_ms = 300000;
  c->max_retries = 3;
  c->backoff_base_ms = 500;
  c->backoff_max_ms = 30000;
  c->max_connections = 16;
  c->user_agent = "seedream/" SD_VERSION;
}

sd_http *sd_http_new(const sd_http_config *c, sd_error *err) {
  sd_http_config cfg;
  sd_http_config_defaults(&cfg);
  if (c) cfg = *c;
  const char *ua = cfg.user_agent ? cfg.user_agent : "seedream/" SD_VERSION;
  const char *bad = ua[strcspn(ua, "\r\n")]      ? "user_agent"
                    : cfg.connect_timeout_ms < 0 ? "connect_timeout_ms"
                    : cfg.timeout_ms < 0       ? "timeout_ms"
                    : cfg.max_retries < 0      ? "max_retries"
                    : cfg.backoff_base_ms < 0  ? "backoff_base_ms"
                    : cfg.backoff_max_ms < 0   ? "backoff_max_ms"
                    : cfg.max_connections < 0  ? "max_connections"
                                               : NULL;
  if (bad) {
    sd_error_set(err, SD_EINVALID, bad, "invalid HTTP configuration: bad %s", bad);
    return NULL;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    sd_error_set(err, SD_ENETWORK, NULL, "libcurl failed to initialise");
    return NULL;
  }
  sd_http *h = calloc(1, sizeof *h);
  if (!h) goto nomem;
  h->cfg = cfg;
  h->ua_line = malloc(sizeof "User-Agent: " + strlen(ua));
  h->multi = curl_multi_init();
  h->share = curl_share_init();
  if (!h->ua_line || !h->multi || !h->share || sdh_live_grow(h) != 0) goto nomem;
  strcpy(h->ua_line, "User-Agent: ");
  strcat(h->ua_line, ua);
  h->cfg.user_agent = h->ua_line + sizeof "User-Agent: " - 1;
  if (cfg.ca_file && !(h->ca_file = strdup(cfg.ca_file))) goto nomem;
  h->cfg.ca_file = h->ca_file;
  if (cfg.ca_dir ? !(h->ca_dir = strdup(cfg.ca_dir)) : sdh_system_ca_dir(&h->ca_dir) != 0)
    goto nomem;
  h->cfg.ca_dir = h->ca_dir;
  int fail = 0;
  fail |= curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, sdh_on_socket) != CURLM_OK;
  fail |= curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, (void *)h) != CURLM_OK;
  fail |= curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX) != CURLM_OK;
  fail |= curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                            (long)cfg.max_connections) != CURLM_OK;
  /* curl's default cache size is 4 x the transfers in the multi handle at the time: when a
   * wave of answers drains it, connections were closed and reopened (over TLS, a handshake
   * each: 16 in flight made 20-40 connections per 1,000 requests under load). */
  if (cfg.max_connections > 0)
    fail |= curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)cfg.max_connections) !=
            CURLM_OK;
  fail |= curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK;
  fail |= curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK;
  if (fail) goto nomem;
  /* Constant headers, built once; the User-Agent is one of them rather than
   * CURLOPT_USERAGENT, which curl would copy and format again for every request. */
  const char *const post_headers[] = {"Content-Type: application/json", "Expect:", h->ua_line};
  for (size_t i = 0; i < sizeof post_headers / sizeof *post_headers; i++) {
    struct curl_slist *l = curl_slist_append(h->post_hdrs, post_headers[i]);
    if (!l) goto nomem;
    h->post_hdrs = l;
  }
  if (!(h->get_hdrs = curl_slist_append(NULL, h->ua_line))) goto nomem;
  h->rng = (uint64_t)now_us() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)h;
  return h;
nomem:
  sd_http_free(h);
  sd_error_set(err, SD_ENOMEM, NULL, "cannot create the HTTP transport");
  return NULL;
}

static void xfer_destroy(sd_xfer *x) {
  sdh_tmp_discard(x);
  free(x->owned_body);
  free(x->buf);
  free(x->done.body);
  free(x->done.content_type);
  sdh_auth_release(x->auth);
  free(x);
}

void sd_http_free(sd_http *h) {
  if (!h) return;
  for (size_t i = 0; i < h->nbuckets; i++) {
    sd_xfer *x = h->buckets[i];
    while (x) {
      sd_xfer *next = x->hnext;
      if (x->state == X_RUNNING) curl_multi_remove_handle(h->multi, x->easy);
      if (x->easy) curl_easy_cleanup(x->easy);
      xfer_destroy(x);
      x = next;
    }
  }
  while (h->done_head) {
    sd_xfer *x = h->done_head;
    h->done_head = x->qnext;
    xfer_destroy(x);
  }
  while (h->npool) curl_easy_cleanup(h->pool[--h->npool]);
  if (h->multi) curl_multi_cleanup(h->multi);
  if (h->share) curl_share_cleanup(h->share);
  sdh_auth_release(h->auth);
  curl_slist_free_all(h->post_hdrs);
  curl_slist_free_all(h->get_hdrs);
  free(h->buckets);
  free(h->heap);
  free(h->pfd);
  free(h->fdpos);
  free(h->ready);
  free(h->ua_line);
  free(h->ca_file);
  free(h->ca_dir);
  free(h);
}

uint64_t sd_http_start(sd_http *h, const sd_http_request *r, sd_error *err) {
  const char *bad = NULL;
  if (!h || !r) bad = "request";
  else if (!r->url || !*r->url) bad = "url";
  else if (r->method != SD_HTTP_POST && r->method != SD_HTTP_GET) bad = "method";
  else if (r->method == SD_HTTP_POST && !r->body && r->body_len) bad = "body";
  else if (r->file_path && (r->method != SD_HTTP_GET || !*r->file_path)) bad = "file_path";
  else if (r->timeout_ms < 0) bad = "timeout_ms";
  else if (r->max_retries < -1) bad = "max_retries";
  else if (r->expect < SD_IMG_UNKNOWN || r->expect > SD_IMG_WEBP) bad = "expect";
  else if (r->bearer && r->bearer[strcspn(r->bearer, "\r\n")]) bad = "bearer";
  if (bad) {
    sd_error_set(err, SD_EINVALID, bad, "invalid HTTP request: bad %s", bad);
    return 0;
  }
  const char *bearer = r->bearer && *r->bearer ? r->bearer : NULL;
  size_t ulen = strlen(r->url), blen = r->method == SD_HTTP_POST ? r->body_len : 0;
  int take = r->method == SD_HTTP_POST && r->take_body && r->body;
  if (take) blen = 0;                        /* not copied: the record points at it */
  size_t plen = r->file_path ? strlen(r->file_path) : 0;
  size_t size = sizeof(sd_xfer) + ulen + 1 + blen + 1 + (r->file_path ? 2 * plen + 14 : 0);
  if (h->nlive + 1 > h->nbuckets && sdh_live_grow(h) != 0) goto nomem;
  sd_xfer *x = malloc(size);
  if (!x) goto nomem;
  memset(x, 0, sizeof *x);
  char *p = (char *)(x + 1);
  memcpy(p, r->url, ulen + 1);
  x->url = p;
  p += ulen + 1;
  if (blen) memcpy(p, r->body, blen);
  p[blen] = '\0';
  x->body = p;
  x->body_len = blen;
  p += blen + 1;
  if (take) {
    x->body = r->body;
    x->body_len = r->body_len;
  }
  if (r->file_path) {
    memcpy(p, r->file_path, plen + 1);
    x->path = p;
    x->tmp_path = p + plen + 1;
  }
  x->h = h;
  x->fd = -1;
  x->method = r->method;
  x->gzip = r->gzip;
  x->expect = r->file_path ? r->expect : SD_IMG_UNKNOWN;
  x->h1 = strncasecmp(x->url, "https:", 6) != 0;
  x->retry_after = -1;
  x->done.retry_after = -1;
  x->timeout_ms = r->timeout_ms ? r->timeout_ms : h->cfg.timeout_ms;
  x->max_retries = r->max_retries >= 0 ? r->max_retries : h->cfg.max_retries;
  x->max_body = r->max_body && r->max_body < SD_BODY_MAX ? r->max_body : SD_BODY_MAX;
  if ((bearer && !(x->auth = sdh_auth_get(h, bearer))) || !(x->easy = sdh_easy_get(h, sdh_xfer_kind(x))) ||
      sdh_configure(h, x) != 0) {
    if (x->easy) sdh_easy_put(h, x->easy, -1);
    sdh_auth_release(x->auth);
    free(x);
    goto nomem;
  }
  x->id = ++h->next_id;
  x->t_start = now_us();
  sdh_live_add(h, x);
  if (attempt_start(h, x) != 0) {
    sdh_live_remove(h, x);
    sdh_easy_put(h, x->easy, -1);
    sdh_auth_release(x->auth);
    free(x);
    goto nomem;
  }
  if (take) x->owned_body = (char *)r->body;   /* ours only once the start succeeded */
  h->stats.started++;
  return x->id;
nomem:
  sd_error_set(err, SD_ENOMEM, NULL, "cannot start the HTTP request");
  return 0;
}

int sd_http_cancel(sd_http *h, uint64_t id) {
  sd_xfer *x = h ? sdh_live_find(h, id) : NULL;
  if (!x) return 0;
  if (x->state == X_RUNNING) {
    multi_remove(h, x);
    x->done.status = x->hdr_status;
  } else if (x->state == X_QUEUED) {
    queue_unlink(h, x);
    if (x->done.attempts > 1) h->stats.retries--; /* a retry waiting for admission */
  } else {
    sdh_heap_remove(h, x);
    h->stats.retries--;              /* it was waiting to go again: it never will */
  }
  x->done.message[0] = '\0';
  finish(h, x, SD_ECANCELLED, CURLE_OK);
  pump(h);
  return 1;
}

int sd_http_perform(sd_http *h, long wait_ms, sd_error *err) {
  if (!h) {
    sd_error_set(err, SD_EINVALID, NULL, "no HTTP transport");
    return -1;
  }
  int64_t now = now_us(), deadline = now + (wait_ms > 0 ? (int64_t)wait_ms * 1000 : 0);
  for (;;) {
    long ct = -1;
    start_due_retries(h, now);
    if (curl_multi_timeout(h->multi, &ct) == CURLM_OK && ct == 0) {
      if (act(h, CURL_SOCKET_TIMEOUT, 0, err) != 0) return -1;
      if (curl_multi_timeout(h->multi, &ct) != CURLM_OK) ct = -1;
    }
    harvest(h);
    int64_t t = 0; /* ms to wait, rounded up so that timers are due when poll returns */
    /* with nothing on the wire this still sleeps the wait: the caller (a blocking wait on
     * a poll timer) must not spin */
    if (wait_ms > 0 && !h->done_head) {
      t = (deadline - now + 999) / 1000;
      if (ct >= 0 && ct < t) t = ct;
      if (h->nheap) {
        int64_t r = (h->heap[0]->retry_at - now + 999) / 1000;
        if (r < t) t = r > 0 ? r : 0;
      }
    }
    int n = poll(h->pfd, (nfds_t)h->npfd, t > 1000000000 ? 1000000000 : (int)t);
    if (n > 0 && dispatch(h, err) != 0) return -1;
    harvest(h);
    now = now_us();
    if (wait_ms <= 0 || h->done_head || now >= deadline) break;
  }
  return (int)h->nlive;
}

int sd_http_next(sd_http *h, sd_http_done *out) {
  if (!h || !out || !h->done_head) return 0;
  sd_xfer *x = h->done_head;
  h->done_head = x->qnext;
  if (!h->done_head) h->done_tail = NULL;
  *out = x->done;
  free(x);
  return 1;
}

void sd_http_done_clear(sd_http_done *d) {
  if (!d) return;
  free(d->body);
  free(d->content_type);
  d->body = NULL;
  d->content_type = NULL;
  d->body_len = 0;
}

int sd_http_fds(sd_http *h, int *fds, int *events, int cap) {
  if (!h) return 0;
  for (size_t i = 0; i < h->npfd && i < (size_t)(cap > 0 ? cap : 0); i++) {
    if (fds) fds[i] = h->pfd[i].fd;
    if (events)
      events[i] = ((h->pfd[i].events & POLLIN) ? SD_HTTP_READ : 0) |
                  ((h->pfd[i].events & POLLOUT) ? SD_HTTP_WRITE : 0);
  }
  return (int)h->npfd;
}

long sd_http_timeout_ms(sd_http *h) {
  if (!h) return -1;
  long ct = -1;
  if (curl_multi_timeout(h->multi, &ct) != CURLM_OK) ct = -1;
  if (h->nheap) {
    int64_t r = (h->heap[0]->retry_at - now_us() + 999) / 1000;
    if (r < 0) r = 0;
    if (ct < 0 || r < ct) ct = (long)r;
  }
  return ct;
}

void sd_http_get_stats(const sd_http *h, sd_http_stats *out) {
  if (!out) return;
  memset(out, 0, sizeof *out);
  if (!h) return;
  *out = h->stats;
  out->tls_admit = admission_cap(h, 1);
}
