/* http_server.h: the scriptable libmicrohttpd server test_http.c drives the transport
 * against (started inside the test on a free port), and the helpers to run transfers on
 * it. Static functions and state: included once, by test_http.c. */
#ifndef HTTP_SERVER_H
#define HTTP_SERVER_H

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "minitest.h"
#include "sd_http.h"

/* ---- the server ------------------------------------------------------------------- */

#define FILE_LEN 100000

typedef struct server {
  struct MHD_Daemon *d;
  int port;
  pthread_mutex_t mu;
  volatile int stop;
  int ok_hits, flaky_hits, flaky_mismatch, always_hits, r429_hits, drop_hits, proxied_hits;
  int cut_hits;
  char proxied_auth[256];
  char *flaky_body;
  char last_auth[256], last_ua[256], last_ae[256];
  unsigned char file[FILE_LEN];
  unsigned char png[200];     /* a PNG as far as its start and end go: /png, /png-cut */
} server;

static server S;

typedef struct conn_ctx {
  char *body;
  size_t len, cap;
} conn_ctx;

static void nap_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *ctype,
                             const void *body, size_t len, const char *hname, const char *hval) {
  struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
  if (ctype) MHD_add_response_header(r, "Content-Type", ctype);
  if (hname) MHD_add_response_header(r, hname, hval);
  enum MHD_Result ret = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result echo(struct MHD_Connection *c, const char *method, conn_ctx *cx) {
  const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
  const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
  size_t cap = cx->len + 512;
  char *out = malloc(cap);
  int n = snprintf(out, cap, "{\"method\":\"%s\",\"auth\":\"%.200s\",\"ct\":\"%.100s\",\"body\":%s}",
                   method, auth ? auth : "", ct ? ct : "", cx->len ? cx->body : "null");
  enum MHD_Result ret = reply(c, 200, "application/json", out, (size_t)n, NULL, NULL);
  free(out);
  return ret;
}

/* 10 bytes of a 1000-byte body, then the connection breaks. */
static ssize_t cut_reader(void *cls, uint64_t pos, char *buf, size_t max) {
  (void)cls;
  if (pos == 0 && max >= 10) {
    memcpy(buf, "{\"error\":1", 10);
    return 10;
  }
  return MHD_CONTENT_READER_END_WITH_ERROR;
}

static ssize_t slowfile_reader(void *cls, uint64_t pos, char *buf, size_t max) {
  (void)cls;
  if (pos == 0) {
    size_t n = max < 1000 ? max : 1000;
    memset(buf, 'x', n);
    return (ssize_t)n;
  }
  for (int i = 0; i < 250 && !S.stop; i++) nap_ms(20); /* stall: at most 5 s */
  return MHD_CONTENT_READER_END_WITH_ERROR;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls) {
  (void)cls;
  (void)version;
  conn_ctx *cx = *con_cls;
  if (!cx) {
    *con_cls = calloc(1, sizeof(conn_ctx));
    return MHD_YES;
  }
  if (*upload_size) {
    if (cx->len + *upload_size + 1 > cx->cap) {
      cx->cap = (cx->len + *upload_size + 1) * 2;
      cx->body = realloc(cx->body, cx->cap);
    }
    memcpy(cx->body + cx->len, upload, *upload_size);
    cx->len += *upload_size;
    cx->body[cx->len] = '\0';
    *upload_size = 0;
    return MHD_YES;
  }
  if (strncmp(url, "http://", 7) == 0) { /* an absolute target: asked to be a proxy */
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    pthread_mutex_lock(&S.mu);
    S.proxied_hits++;
    snprintf(S.proxied_auth, sizeof S.proxied_auth, "%s", auth ? auth : "");
    pthread_mutex_unlock(&S.mu);
    return reply(c, 502, "text/plain", "proxy", 5, NULL, NULL);
  }
  if (strcmp(url, "/ok") == 0) {
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const char *ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "User-Agent");
    const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
    pthread_mutex_lock(&S.mu);
    S.ok_hits++;
    snprintf(S.last_auth, sizeof S.last_auth, "%s", auth ? auth : "");
    snprintf(S.last_ua, sizeof S.last_ua, "%s", ua ? ua : "");
    snprintf(S.last_ae, sizeof S.last_ae, "%s", ae ? ae : "");
    pthread_mutex_unlock(&S.mu);
    return echo(c, method, cx);
  }
  if (strcmp(url, "/flaky") == 0) { /* 503 n times, then the echo */
    const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "n");
    int n = q ? atoi(q) : 1, hit;
    pthread_mutex_lock(&S.mu);
    hit = ++S.flaky_hits;
    if (!S.flaky_body) S.flaky_body = strdup(cx->body ? cx->body : "");
    else if (strcmp(S.flaky_body, cx->body ? cx->body : "") != 0) S.flaky_mismatch++;
    pthread_mutex_unlock(&S.mu);
    if (hit <= n) return reply(c, 503, "application/json", "{\"errors\":[]}", 13, NULL, NULL);
    return echo(c, method, cx);
  }
  if (strcmp(url, "/always503") == 0) {
    pthread_mutex_lock(&S.mu);
    S.always_hits++;
    pthread_mutex_unlock(&S.mu);
    return reply(c, 503, "text/plain", "busy", 4, NULL, NULL);
  }
  if (strncmp(url, "/status/", 8) == 0) { /* any status, counted with always_hits */
    pthread_mutex_lock(&S.mu);
    S.always_hits++;
    pthread_mutex_unlock(&S.mu);
    return reply(c, (unsigned)atoi(url + 8), "text/plain", "status", 6, NULL, NULL);
  }
  if (strcmp(url, "/429") == 0) {
    pthread_mutex_lock(&S.mu);
    int hit = ++S.r429_hits;
    pthread_mutex_unlock(&S.mu);
    if (hit == 1) return reply(c, 429, "application/json", "{}", 2, "Retry-After", "1");
    return echo(c, method, cx);
  }
  if (strcmp(url, "/redirect") == 0) {
    char loc[64];
    snprintf(loc, sizeof loc, "http://127.0.0.1:%d/ok", S.port);
    return reply(c, 302, "text/plain", "moved", 5, "Location", loc);
  }
  if (strcmp(url, "/file") == 0) return reply(c, 200, "image/png", S.file, FILE_LEN, NULL, NULL);
  if (strcmp(url, "/png") == 0) return reply(c, 200, "image/png", S.png, sizeof S.png, NULL, NULL);
  if (strcmp(url, "/png-cut") == 0) return reply(c, 200, "image/png", S.png, 120, NULL, NULL);
  if (strcmp(url, "/empty") == 0) return reply(c, 200, "image/png", "", 0, NULL, NULL);
  if (strcmp(url, "/file404") == 0) return reply(c, 404, "text/plain", "not found", 9, NULL, NULL);
  if (strcmp(url, "/pause") == 0) { /* holds its connection a moment: forces concurrency */
    nap_ms(60);
    return reply(c, 200, "text/plain", "ok", 2, NULL, NULL);
  }
  if (strcmp(url, "/slow") == 0) {
    for (int i = 0; i < 150 && !S.stop; i++) nap_ms(20); /* 3 s */
    return reply(c, 200, "text/plain", "late", 4, NULL, NULL);
  }
  if (strcmp(url, "/slowfile") == 0) {
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1000, slowfile_reader, NULL, NULL);
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
  }
  if (strcmp(url, "/204") == 0) return reply(c, 204, NULL, "", 0, NULL, NULL);
  if (strcmp(url, "/cut400") == 0) { /* a final 4xx whose body is cut short */
    pthread_mutex_lock(&S.mu);
    S.cut_hits++;
    pthread_mutex_unlock(&S.mu);
    struct MHD_Response *r = MHD_create_response_from_callback(1000, 1000, cut_reader, NULL, NULL);
    enum MHD_Result ret = MHD_queue_response(c, 400, r);
    MHD_destroy_response(r);
    return ret;
  }
  if (strcmp(url, "/drop") == 0) {
    pthread_mutex_lock(&S.mu);
    S.drop_hits++;
    pthread_mutex_unlock(&S.mu);
    return MHD_NO; /* close without an answer */
  }
  return reply(c, 404, "text/plain", "no route", 8, NULL, NULL);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe) {
  (void)cls;
  (void)c;
  (void)toe;
  conn_ctx *cx = *con_cls;
  if (cx) {
    free(cx->body);
    free(cx);
  }
  *con_cls = NULL;
}

static int server_start(void) {
  pthread_mutex_init(&S.mu, NULL);
  for (size_t i = 0; i < FILE_LEN; i++) S.file[i] = (unsigned char)((i * 131 + (i >> 7)) & 0xff);
  memset(S.png, 0x22, sizeof S.png);
  memcpy(S.png, "\x89PNG\r\n\x1a\n", 8);
  memcpy(S.png + sizeof S.png - 12, "\0\0\0\0IEND\xae\x42\x60\x82", 12);
  S.d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                             MHD_USE_POLL,
                         0, NULL, NULL, handler, NULL, MHD_OPTION_NOTIFY_COMPLETED, completed,
                         NULL, MHD_OPTION_END);
  if (!S.d) return -1;
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(S.d, MHD_DAEMON_INFO_BIND_PORT);
  S.port = info ? info->port : 0;
  return S.port ? 0 : -1;
}

static void server_stop(void) {
  S.stop = 1;
  MHD_stop_daemon(S.d);
  free(S.flaky_body);
  pthread_mutex_destroy(&S.mu);
}

static void server_reset(void) {
  pthread_mutex_lock(&S.mu);
  S.ok_hits = S.flaky_hits = S.flaky_mismatch = S.always_hits = S.r429_hits = S.drop_hits = 0;
  S.proxied_hits = S.cut_hits = 0;
  S.proxied_auth[0] = '\0';
  free(S.flaky_body);
  S.flaky_body = NULL;
  S.last_auth[0] = '\0';
  pthread_mutex_unlock(&S.mu);
}

static int server_get(int *field) {
  pthread_mutex_lock(&S.mu);
  int v = *field;
  pthread_mutex_unlock(&S.mu);
  return v;
}

/* ---- helpers ---------------------------------------------------------------------- */

static char *url_of(const char *path) {
  static char buf[4][128];
  static int k;
  char *b = buf[k++ % 4];
  snprintf(b, sizeof buf[0], "http://127.0.0.1:%d%s", S.port, path);
  return b;
}

static sd_http *new_http(int max_retries, long backoff_base_ms) {
  sd_http_config c;
  sd_http_config_defaults(&c);
  c.max_retries = max_retries;
  c.backoff_base_ms = backoff_base_ms;
  c.backoff_max_ms = 200;
  c.timeout_ms = 10000;
  sd_error err;
  sd_http *h = sd_http_new(&c, &err);
  if (!h) fprintf(stderr, "sd_http_new: %s\n", err.message);
  return h;
}

static sd_http_request req(sd_http_method m, const char *url, const char *bearer,
                           const char *body) {
  sd_http_request r = {.method = m, .url = url, .bearer = bearer, .body = body,
                       .body_len = body ? strlen(body) : 0, .max_retries = -1};
  return r;
}

/* Drives h until transfer id finishes (or max_s passes); 1 if d was filled. */
static int wait_for(sd_http *h, uint64_t id, sd_http_done *d, double max_s) {
  double end = now_s() + max_s;
  while (now_s() < end) {
    sd_error err;
    if (sd_http_perform(h, 50, &err) < 0) {
      fprintf(stderr, "perform: %s\n", err.message);
      return 0;
    }
    sd_http_done got;
    while (sd_http_next(h, &got)) {
      if (got.id == id) {
        *d = got;
        return 1;
      }
      sd_http_done_clear(&got);
    }
  }
  return 0;
}

static int run(sd_http *h, const sd_http_request *r, sd_http_done *d) {
  sd_error err;
  memset(d, 0, sizeof *d);
  uint64_t id = sd_http_start(h, r, &err);
  if (!id) {
    fprintf(stderr, "start: %s\n", err.message);
    return 0;
  }
  return wait_for(h, id, d, 15);
}

static int count_parts(const char *dir) {
  DIR *dp = opendir(dir);
  int n = 0;
  struct dirent *e;
  if (!dp) return -1;
  while ((e = readdir(dp)) != NULL)
    if (strstr(e->d_name, ".part-")) n++;
  closedir(dp);
  return n;
}

static int unused_port(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  socklen_t len = sizeof a;
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, (struct sockaddr *)&a, sizeof a);
  getsockname(s, (struct sockaddr *)&a, &len);
  close(s);
  return ntohs(a.sin_port);
}

#endif
