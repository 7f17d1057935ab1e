/* sd_http_int.h: the internals of the transport, shared by sd_http.c (lifecycle and public
 * API), sd_http_easy.c (headers, easy handle options and pool, trust store),
 * sd_http_tables.c (live table, retry heap, sockets) and sd_http_sink.c (response sinks).
 * Not a public header: nothing outside these four files includes it. The
 * functions declared here carry the prefix sdh_ and hidden visibility, so they are never
 * exported from a shared object that links libseedream_core.a (the Lua module). */
#ifndef SD_HTTP_INT_H
#define SD_HTTP_INT_H

#include <curl/curl.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "sd_error.h"
#include "sd_http.h"

#define SDH_INTERNAL __attribute__((visibility("hidden")))

#define SD_POOL_MAX 64

enum { X_RUNNING = 1, X_QUEUED, X_WAITING, X_DONE };
enum { SINK_NONE = 0, SINK_MEM, SINK_ERRMEM, SINK_FILE };

#define SD_BODY_MAX ((size_t)1 << 30)       /* in-memory response bodies, at most */

/* One Authorization line, shared by the transfers that use the same bearer. */
typedef struct sd_auth {
  int refs;
  struct curl_slist post_node; /* -> the constant POST headers */
  struct curl_slist get_node;  /* -> the constant GET headers */
  size_t len;
  char line[];                 /* "Authorization: Bearer <key>" */
} sd_auth;

typedef struct sd_xfer {
  uint64_t id;
  struct sd_xfer *hnext;       /* hash chain */
  struct sd_xfer *qnext;       /* done FIFO, or the admission queue with qprev */
  struct sd_xfer *qprev;
  sd_http *h;
  CURL *easy;
  sd_auth *auth;
  int state;
  size_t heap_idx;
  int64_t retry_at;            /* us, monotonic */
  int64_t t_start;             /* us, monotonic */
  sd_http_method method;
  int h1;                      /* cleartext: HTTP/1.1, one transfer per connection */
  int gzip;                    /* Accept-Encoding: gzip (sd_http_request.gzip) */
  sd_image_kind expect;        /* sd_http_request.expect */
  size_t max_body;             /* sd_http_request.max_body, or SD_BODY_MAX */
  const char *url;             /* the strings below live in this same allocation */
  const char *path;            /* NULL: body in memory */
  char *tmp_path;              /* "<path>.part-XXXXXX" when fd >= 0 */
  const char *body;
  size_t body_len;
  char *owned_body;            /* a body handed over by the caller (take_body): freed here */
  int fd;
  int max_retries;
  long timeout_ms;
  /* per attempt */
  int sink;
  long hdr_status;             /* status line of the current answer */
  double retry_after;
  sd_code fail;                /* a local failure seen in a callback (SD_EIO, SD_ENOMEM) */
  char *buf;
  size_t len, cap;
  char errbuf[CURL_ERROR_SIZE];
  sd_http_done done;           /* message doubles as the text of fail */
} sd_xfer;

struct sd_http {
  CURLM *multi;
  CURLSH *share;
  sd_http_config cfg;
  char *ua_line;               /* "User-Agent: ..." */
  char *ca_file;               /* copy of cfg.ca_file, or NULL */
  char *ca_dir;                /* cfg.ca_dir or the system's hashed CA directory, or NULL */
  uint64_t next_id;
  sd_xfer **buckets;           /* live transfers by id */
  size_t nbuckets, nlive;
  sd_xfer **heap;              /* waiting retries, min-heap by retry_at */
  size_t nheap, capheap;
  sd_xfer *done_head, *done_tail;
  /* Admission (sd_http.c): transfers waiting for room, by class (cleartext, TLS), and how
   * many of each class curl has. */
  sd_xfer *queue_head[2], *queue_tail[2];
  size_t running[2];
  int tls_h1;                  /* a TLS answer came over HTTP/1.x: TLS transfers need a
                                * connection each, like cleartext ones */
  int tls_h2;                  /* a TLS answer came over HTTP/2: streams on one connection */
  struct pollfd *pfd;          /* sockets curl watches */
  size_t npfd, cappfd;
  int *fdpos;                  /* fd -> index in pfd + 1; 0: absent */
  size_t capfdpos;
  struct pollfd *ready;        /* scratch for dispatch */
  size_t capready;
  struct curl_slist *post_hdrs; /* Content-Type, "Expect:", User-Agent */
  struct curl_slist *get_hdrs;  /* User-Agent */
  sd_auth *auth;               /* the last bearer's line */
  CURL *pool[SD_POOL_MAX];     /* finished easy handles, to be reused */
  int pool_kind[SD_POOL_MAX];  /* the kind of transfer each was last configured for */
  int npool;
  uint64_t rng;
  sd_http_stats stats;
};

static inline uint64_t sdh_rng_next(sd_http *h) { /* splitmix64: jitter only, not crypto */
  uint64_t z = (h->rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* ---- sd_http_tables.c ------------------------------------------------------------- */

SDH_INTERNAL int sdh_live_grow(sd_http *h);              /* 0, or -1: out of memory */
SDH_INTERNAL void sdh_live_add(sd_http *h, sd_xfer *x);  /* room ensured by the caller */
SDH_INTERNAL sd_xfer *sdh_live_find(sd_http *h, uint64_t id);
SDH_INTERNAL void sdh_live_remove(sd_http *h, sd_xfer *x);
SDH_INTERNAL int sdh_heap_push(sd_http *h, sd_xfer *x);  /* 0, or -1: out of memory */
SDH_INTERNAL void sdh_heap_remove(sd_http *h, sd_xfer *x);
SDH_INTERNAL void sdh_sock_forget(sd_http *h, int fd);
SDH_INTERNAL int sdh_on_socket(CURL *e, curl_socket_t s, int what, void *ud, void *sockp);

/* ---- sd_http_easy.c --------------------------------------------------------------- */

/* The Authorization line for bearer, with one reference for the caller. */
SDH_INTERNAL sd_auth *sdh_auth_get(sd_http *h, const char *bearer);
SDH_INTERNAL void sdh_auth_release(sd_auth *a);  /* wiped and freed with the last reference */
SDH_INTERNAL int sdh_configure(sd_http *h, sd_xfer *x);   /* every option of x->easy; -1 */
SDH_INTERNAL int sdh_xfer_kind(const sd_xfer *x);         /* which pooled handles fit x */
SDH_INTERNAL CURL *sdh_easy_get(sd_http *h, int kind);    /* pooled (reset if needed) or new */
SDH_INTERNAL void sdh_easy_put(sd_http *h, CURL *e, int kind);
SDH_INTERNAL int sdh_system_ca_dir(char **out);

/* ---- sd_http_sink.c --------------------------------------------------------------- */

SDH_INTERNAL void sdh_tmp_discard(sd_xfer *x);   /* closes and unlinks the .part file */
SDH_INTERNAL void sdh_set_fail(sd_xfer *x, sd_code code, const char *what, const char *path,
                               int e);
SDH_INTERNAL int sdh_tmp_open(sd_xfer *x);
SDH_INTERNAL size_t sdh_on_write(char *p, size_t size, size_t nmemb, void *ud);
SDH_INTERNAL size_t sdh_on_header(char *p, size_t size, size_t nmemb, void *ud);
SDH_INTERNAL void sdh_new_answer(sd_xfer *x, long status); /* forgets the last answer */

#endif
