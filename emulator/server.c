/* server.c: see server.h.
 *
 * libmicrohttpd with an internal thread pool (epoll). A POST /v1 whose answer is due later
 * (sync latency, "slow" fault) is built at once, then its connection is suspended and the
 * timer thread resumes it when due: no thread sleeps, so thousands can wait at once. */
#include "server.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "api.h"
#include "gzip.h"

#define JSON "application/json"
#define MAX_BODY (256u << 20)   /* data URIs of 14 big references fit */

typedef enum { CONN_RECEIVING, CONN_WAITING, CONN_READY } conn_state;

/* Per-request state (MHD's con_cls). */
typedef struct emu_conn {
  emu_server *srv;
  struct MHD_Connection *mc;
  emu_buf in;
  int too_big;
  conn_state state;
  emu_answer ans;
} emu_conn;

static enum MHD_Result send_answer(emu_conn *c)
{
  emu_answer *a = &c->ans;
  if (a->drop) return MHD_NO;   /* MHD closes the connection without a response */
  /* JSON answers of some size go gzip-encoded to clients that accept it, as real servers do */
  int gz = 0;
  if (a->body && a->len >= EMU_GZIP_MIN && a->ctype && strcmp(a->ctype, JSON) == 0 &&
      emu_gzip_accepted(MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND,
                                                    MHD_HTTP_HEADER_ACCEPT_ENCODING))) {
    size_t zlen = 0;
    char *z = emu_gzip(a->body, a->len, &zlen);
    if (z) {
      free(a->body);
      a->body = z;
      a->len = zlen;
      gz = 1;
    }
  }
  struct MHD_Response *r = a->body
    ? MHD_create_response_from_buffer_with_free_callback(a->len, a->body, free)
    : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
  if (!r) return MHD_NO;
  a->body = NULL;   /* MHD owns it now */
  if (gz) {
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    EMU_COUNT(c->srv, gzip_answers, 1);
  }
  if (a->ctype) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a->ctype);
  if (a->retry_after > 0) {
    char s[16];
    snprintf(s, sizeof s, "%d", a->retry_after);
    MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, s);
  }
  enum MHD_Result rc = MHD_queue_response(c->mc, a->status, r);
  MHD_destroy_response(r);
  return rc;
}

static enum MHD_Result reply(emu_conn *c, unsigned status, char *body, size_t len,
                             const char *ctype)
{
  c->ans.status = status;
  c->ans.body = body;
  c->ans.len = body ? len : 0;
  c->ans.ctype = ctype;
  return send_answer(c);
}

static enum MHD_Result reply_error(emu_conn *c, unsigned status, const char *code,
                                   const char *msg)
{
  size_t len = 0;
  char *body = emu_api_error_body(code, msg, &len);
  return reply(c, status, body, len, JSON);
}

static void resume_cb(void *arg)
{
  emu_conn *c = arg;
  c->state = CONN_READY;
  MHD_resume_connection(c->mc);
}

static enum MHD_Result route_v1(emu_conn *c)
{
  emu_server *srv = c->srv;
  const char *authz = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
  emu_api_v1(srv, c->in.data ? c->in.data : "", c->in.len, authz, &c->ans);
  if (!srv->cfg.quiet)
    fprintf(stderr, "POST /v1 %zu bytes -> %u%s\n", c->in.len, c->ans.status,
            c->ans.drop ? " (dropped)" : "");
  if (c->ans.due > emu_now_ms() && !c->ans.drop) {
    c->state = CONN_WAITING;
    MHD_suspend_connection(c->mc);
    if (emu_timer_add(&srv->timer, c->ans.due, resume_cb, c) != 0) resume_cb(c);   /* stopping */
    return MHD_YES;
  }
  return send_answer(c);
}

static void unref_blob(void *b) { emu_blob_unref(b); }

static enum MHD_Result route_image(emu_conn *c, const char *url)
{
  emu_server *srv = c->srv;
  const char *name = url + strlen("/image/");
  const char *dot = strchr(name, '.');
  char uuid[37];
  EMU_COUNT(srv, image_gets, 1);
  if (MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION))
    EMU_COUNT(srv, image_gets_with_auth, 1);
  if (!dot || dot - name != 36)
    return reply_error(c, 404, "notFound", "No such image.");
  memcpy(uuid, name, 36);
  uuid[36] = '\0';
  const emu_image *img = emu_store_find_image(&srv->store, uuid);
  uint64_t now = emu_now_ms();
  if (!img || img->done_at > now || strcmp(dot + 1, emu_format_ext(img->task->spec.format)) != 0)
    return reply_error(c, 404, "notFound", "No such image.");
  if (img->expires_at && now >= img->expires_at) {
    emu_cache_drop(&srv->cache, uuid);
    return reply_error(c, 410, "expired", "The image has expired (ttl).");
  }
  emu_blob *b = emu_image_bytes(srv, img);
  if (!b) return reply_error(c, 500, "serverError", "Out of memory.");
  struct MHD_Response *r =
    MHD_create_response_from_buffer_with_free_callback_cls(b->len, b->data, unref_blob, b);
  if (!r) { emu_blob_unref(b); return MHD_NO; }
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, emu_format_mime(img->task->spec.format));
  MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "max-age=3600");
  enum MHD_Result rc = MHD_queue_response(c->mc, 200, r);
  MHD_destroy_response(r);
  return rc;
}

static enum MHD_Result route_faults(emu_conn *c, const char *method)
{
  emu_faults *f = &c->srv->faults;
  size_t len = 0;
  if (strcmp(method, "DELETE") == 0) emu_faults_clear(f);
  if (strcmp(method, "POST") == 0) {
    char msg[256];
    if (emu_faults_add_json(f, c->in.data ? c->in.data : "", c->in.len, msg, sizeof msg) != 0)
      return reply_error(c, 400, "invalidRequestBody", msg);
  }
  char *body = emu_faults_json(f, &len);
  return reply(c, 200, body, len, JSON);
}

static enum MHD_Result route_sink(emu_conn *c, const char *url, const char *method)
{
  emu_sink *s = &c->srv->sink;
  size_t len = 0;
  if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
    const char *ct = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    int auth = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION) != NULL;
    emu_sink_add(s, method, url, ct, auth, c->in.data ? c->in.data : "", c->in.len);
    long status = strncmp(url, "/sink/status/", 13) == 0 ? strtol(url + 13, NULL, 10) : 200;
    if (status < 200 || status > 599) status = 200;
    return reply(c, (unsigned)status, strdup("{}"), 2, JSON);
  }
  if (strcmp(method, "DELETE") == 0) emu_sink_clear(s);
  if (strcmp(url, "/sink") != 0) return reply_error(c, 404, "notFound", "GET /sink lists deliveries.");
  char *body = emu_sink_json(s, &len);
  return reply(c, 200, body, len, JSON);
}

static enum MHD_Result route(emu_conn *c, const char *url, const char *method)
{
  emu_server *srv = c->srv;
  int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
  int post = strcmp(method, "POST") == 0;
  size_t len = 0;
  if (c->too_big) return reply_error(c, 413, "invalidRequestBody", "Request body too large.");
  if (strcmp(url, "/v1") == 0 || strcmp(url, "/v1/") == 0) {
    if (post) return route_v1(c);
  } else if (strncmp(url, "/image/", 7) == 0) {
    if (get) return route_image(c, url);
  } else if (strcmp(url, "/stats") == 0) {
    if (get) {
      char *body = emu_stats_json(&srv->stats, emu_store_in_flight(&srv->store, emu_now_ms()), &len);
      return reply(c, 200, body, len, JSON);
    }
  } else if (strcmp(url, "/reset") == 0) {
    if (post) {
      emu_stats_init(&srv->stats);   /* counters only: tasks, images and the log stay */
      return reply(c, 200, strdup("{}"), 2, JSON);
    }
  } else if (strcmp(url, "/requests") == 0) {
    if (get) {
      const char *last = MHD_lookup_connection_value(c->mc, MHD_GET_ARGUMENT_KIND, "last");
      int n = last ? atoi(last) : 20;
      char *body = emu_reqlog_json(&srv->reqlog, n, &len);
      return reply(c, 200, body, len, JSON);
    }
  } else if (strcmp(url, "/faults") == 0) {
    if (get || post || strcmp(method, "DELETE") == 0) return route_faults(c, method);
  } else if (strcmp(url, "/sink") == 0 || strncmp(url, "/sink/", 6) == 0) {
    if (get || post || strcmp(method, "PUT") == 0 || strcmp(method, "DELETE") == 0)
      return route_sink(c, url, method);
  } else if (strcmp(url, "/") == 0 || strcmp(url, "/health") == 0) {
    if (get) return reply(c, 200, strdup("{\"status\":\"ok\"}"), 15, JSON);
  } else {
    return reply_error(c, 404, "notFound", "No such endpoint.");
  }
  return reply_error(c, 405, "methodNotAllowed", "Method not allowed on this endpoint.");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *mc, const char *url,
                               const char *method, const char *version,
                               const char *upload_data, size_t *upload_data_size,
                               void **con_cls)
{
  (void)version;
  emu_conn *c = *con_cls;
  if (!c) {   /* first call: headers only */
    c = calloc(1, sizeof *c);
    if (!c) return MHD_NO;
    c->srv = cls;
    c->mc = mc;
    *con_cls = c;
    return MHD_YES;
  }
  if (*upload_data_size) {
    if (c->in.len + *upload_data_size > MAX_BODY) c->too_big = 1;
    else emu_buf_append(&c->in, upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (c->state == CONN_READY) return send_answer(c);   /* resumed by the timer */
  if (c->state == CONN_WAITING) return MHD_YES;
  if (c->in.failed) return reply_error(c, 500, "serverError", "Out of memory.");
  return route(c, url, method);
}

static void completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
  (void)cls; (void)mc; (void)toe;
  emu_conn *c = *con_cls;
  if (!c) return;
  emu_buf_free(&c->in);
  free(c->ans.body);
  free(c);
  *con_cls = NULL;
}

/* Fills addr from cfg.host; returns its size, 0 when the host is not an IP literal. */
static socklen_t listen_addr(emu_server *srv, struct sockaddr_storage *ss, int *ipv6)
{
  const char *host = srv->cfg.host;
  memset(ss, 0, sizeof *ss);
  if (strcmp(host, "localhost") == 0) host = "127.0.0.1";
  struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)srv->cfg.port);
    *ipv6 = 0;
    return sizeof *a4;
  }
  if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)srv->cfg.port);
    *ipv6 = 1;
    return sizeof *a6;
  }
  return 0;
}

/* The host clients should use in URLs: wildcard addresses become loopback. */
static void make_base_url(emu_server *srv, unsigned port, int ipv6)
{
  const char *h = srv->cfg.host;
  if (strcmp(h, "0.0.0.0") == 0 || strcmp(h, "localhost") == 0) h = "127.0.0.1";
  if (strcmp(h, "::") == 0) h = "::1";
  const char *scheme = srv->cfg.tls_cert ? "https" : "http";
  snprintf(srv->listen_url, sizeof srv->listen_url, ipv6 ? "%s://[%s]:%u" : "%s://%s:%u", scheme,
           h, port);
  const char *base = srv->cfg.public_url ? srv->cfg.public_url : srv->listen_url;
  size_t n = strlen(base);
  while (n > 0 && base[n - 1] == '/') n--;   /* "https://host:port/" names the same base */
  snprintf(srv->base_url, sizeof srv->base_url, "%.*s", (int)n, base);
}

static void free_modules(emu_server *srv)
{
  emu_deliver_stop(&srv->deliver);
  emu_timer_stop(&srv->timer);
  emu_cache_free(&srv->cache);
  emu_store_free(&srv->store);
  emu_reqlog_free(&srv->reqlog);
  emu_faults_free(&srv->faults);
  emu_sink_free(&srv->sink);
  pthread_mutex_destroy(&srv->rng_lock);
  free(srv->tls_cert_pem);
  free(srv->tls_key_pem);
  srv->tls_cert_pem = srv->tls_key_pem = NULL;
}

/* A whole (small) file as a NUL-terminated string, or NULL. */
static char *read_text(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *s = NULL;
  size_t len = 0, cap = 0, n;
  char chunk[4096];
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (len + n + 1 > cap) {
      cap = (len + n + 1) * 2;
      char *t = realloc(s, cap);
      if (!t) { free(s); fclose(f); return NULL; }
      s = t;
    }
    memcpy(s + len, chunk, n);
    len += n;
  }
  fclose(f);
  if (s) s[len] = '\0';
  return s;
}

/* Binds and listens ourselves, so the port (and base_url) are known before MHD's threads
 * can answer anything. Returns the socket or -1. */
static int open_listener(emu_server *srv, int *ipv6)
{
  struct sockaddr_storage ss;
  socklen_t sl = listen_addr(srv, &ss, ipv6);
  if (!sl) {
    fprintf(stderr, "seedream-emulator: --host must be an IP address or localhost\n");
    return -1;
  }
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
  if (fd < 0) return -1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 1024) != 0 ||
      getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
    fprintf(stderr, "seedream-emulator: cannot listen on %s:%d\n", srv->cfg.host, srv->cfg.port);
    close(fd);
    return -1;
  }
  unsigned port = ntohs(*ipv6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                              : ((struct sockaddr_in *)&ss)->sin_port);
  make_base_url(srv, port, *ipv6);
  return fd;
}

int emu_server_start(emu_server *srv)
{
  int ipv6 = 0;
  int fd = open_listener(srv, &ipv6);
  if (fd < 0) return -1;
  emu_stats_init(&srv->stats);
  srv->rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
  /* A failed start is fatal (the process exits), so it is not unwound piecemeal. */
  if (pthread_mutex_init(&srv->rng_lock, NULL) || emu_store_init(&srv->store) ||
      emu_cache_init(&srv->cache) || emu_reqlog_init(&srv->reqlog) ||
      emu_faults_init(&srv->faults) || emu_sink_init(&srv->sink) || emu_timer_start(&srv->timer) ||
      emu_deliver_start(&srv->deliver, srv)) {
    fprintf(stderr, "seedream-emulator: cannot initialise\n");
    return -1;
  }
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
  if (ipv6) flags |= MHD_USE_IPv6;
  if (!srv->cfg.quiet) flags |= MHD_USE_ERROR_LOG;
  /* HTTPS (for tests of the client's TLS path): MHD wants the PEM texts in memory */
  struct MHD_OptionItem tls[3] = {{MHD_OPTION_END, 0, NULL}, {MHD_OPTION_END, 0, NULL},
                                  {MHD_OPTION_END, 0, NULL}};
  if (srv->cfg.tls_cert) {
    srv->tls_cert_pem = read_text(srv->cfg.tls_cert);
    srv->tls_key_pem = read_text(srv->cfg.tls_key);
    if (!srv->tls_cert_pem || !srv->tls_key_pem) {
      fprintf(stderr, "seedream-emulator: cannot read %s or %s\n", srv->cfg.tls_cert,
              srv->cfg.tls_key);
      close(fd);
      free_modules(srv);
      return -1;
    }
    flags |= MHD_USE_TLS;
    tls[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert_pem};
    tls[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key_pem};
  }
  srv->daemon = MHD_start_daemon(
      flags, (uint16_t)srv->cfg.port, NULL, NULL, handler, srv,
      MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
      MHD_OPTION_THREAD_POOL_SIZE, (unsigned)srv->cfg.threads,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
      MHD_OPTION_NOTIFY_COMPLETED, completed, srv,
      MHD_OPTION_ARRAY, tls,
      MHD_OPTION_END);
  if (!srv->daemon) {
    fprintf(stderr, "seedream-emulator: cannot start the HTTP daemon\n");
    close(fd);
    free_modules(srv);
    return -1;
  }
  return 0;
}

void emu_server_stop(emu_server *srv)
{
  /* Stop accepting, answer every suspended request (MHD must not stop with suspended
   * connections), then stop MHD, then the rest. */
  MHD_socket s = MHD_quiesce_daemon(srv->daemon);
  if (s != MHD_INVALID_SOCKET) close(s);
  emu_deliver_stop(&srv->deliver);
  emu_timer_stop(&srv->timer);
  MHD_stop_daemon(srv->daemon);
  srv->daemon = NULL;
  free_modules(srv);
}
