/* sd_http.h: the transport, on libcurl's multi interface.
 *
 * One sd_http per client owns a CURLM and a CURLSH (shared connection cache, DNS and TLS
 * sessions), so requests reuse connections (keep-alive, HTTP/2 multiplexing where the server
 * offers it). Nothing here blocks unless asked to: sd_http_perform(h, 0) only does the work
 * that is ready. Transient failures are retried inside the transport with exponential
 * backoff and full jitter, re-sending the very same body (so the same taskUUID): connection
 * errors, HTTP 408, 429 (Retry-After honoured) and every 5xx but 501 and 505.
 *
 * Secrets: the bearer token is set only on the request to its own URL; redirects are never
 * followed for requests that carry it, and it is never copied into an error message. */
#ifndef SD_HTTP_H
#define SD_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include "sd_error.h"
#include "sd_file.h"

typedef struct sd_http sd_http;

typedef struct sd_http_config {
  long connect_timeout_ms;  /* default 10000 */
  long timeout_ms;          /* default total time of one attempt; 0 = no limit; default 300000 */
  int max_retries;          /* default 3 (so at most 4 attempts) */
  long backoff_base_ms;     /* default 500: first retry waits rand(0, base) */
  long backoff_max_ms;      /* default 30000: cap of one wait (Retry-After may exceed it) */
  int max_connections;      /* default 16: CURLMOPT_MAX_TOTAL_CONNECTIONS and MAXCONNECTS */
  const char *user_agent;   /* copied; default "seedream/<version>" */
  /* copied; NULL: the system's CA certificates. A PEM file of certificates to trust (a
   * company proxy's, a test server's) in place of the system bundle; the CA directory
   * (ca_dir) stays trusted. Verification itself is never turned off. */
  const char *ca_file;
  /* copied; a directory of certificates under OpenSSL's hashed names to trust, read one
   * issuer at a time. NULL: the system's CA directory when curl has one and it is hashed
   * (Debian: /etc/ssl/certs), else the system bundle. Why: the bundle is ~140 certificates
   * that OpenSSL parses in full at the first handshake, 50-60 ms of CPU inside one step
   * (three frames of a 60 fps game); the directory costs ~4 ms, the handshake itself. */
  const char *ca_dir;
} sd_http_config;

void sd_http_config_defaults(sd_http_config *c);

/* 1 if dir holds certificates under OpenSSL's hashed names ("5ad8a5d6.0": 8 hex digits, a
 * dot, a digit; made by c_rehash or update-ca-certificates), so that OpenSSL can read the
 * one issuer a handshake needs instead of a whole bundle; 0 otherwise (or no such dir). */
int sd_dir_has_cert_hashes(const char *dir);

/* The CA directory h reads lazily (see ca_dir), or NULL when it uses curl's defaults. */
const char *sd_http_ca_dir(const sd_http *h);

sd_http *sd_http_new(const sd_http_config *c, sd_error *err);
void sd_http_free(sd_http *h);   /* aborts every transfer; removes partial files; NULL ok */

typedef enum { SD_HTTP_POST = 0, SD_HTTP_GET = 1 } sd_http_method;

typedef struct sd_http_request {
  sd_http_method method;
  const char *url;
  const char *bearer;       /* API key or NULL; copied; only ever sent to url itself */
  const char *body;         /* POST body (copied), sent as application/json */
  size_t body_len;
  /* GET only: stream the body into this file. It is written to "<path>.part-XXXXXX" in the
   * same directory and renamed over path only after a complete 2xx answer; on any failure
   * the temporary file is removed, so no partial file is ever left. NULL: keep the body in
   * memory. Redirects are followed (http/https only, at most 5) for GETs without a bearer. */
  const char *file_path;
  long timeout_ms;          /* 0: the config's timeout_ms */
  int max_retries;          /* -1: the config's max_retries */
  /* POST only: 1 hands body (which must come from malloc) over to the transport instead of
   * copying it; it is freed when the transfer ends. Only a successful start takes it: on
   * failure the body is still the caller's. For request bodies of hundreds of MB. */
  int take_body;
  /* 1 asks for a gzip-encoded answer (Accept-Encoding: gzip). Worth it only for large JSON
   * answers (images inline as base64); small answers and image files gain nothing, and the
   * header costs curl a content-decoding setup per transfer, so it is off by default. */
  int gzip;
  /* GET with file_path only: the bytes must be this kind of image (SD_IMG_UNKNOWN: any).
   * Checked before the rename, so a wrong answer never replaces a file already there; the
   * file must also end whole (sd_file_whole). A wrong or cut-short body is fetched again
   * while retries last; then the transfer ends SD_EPROTOCOL and the temporary file is
   * removed. */
  sd_image_kind expect;
  /* In-memory answers: the most bytes accepted (0: 1 GiB). Past it the transfer ends
   * SD_EPROTOCOL (SD_EIO at the 1 GiB default): an answer far larger than the request can
   * produce is broken or hostile, and is not held in memory. */
  size_t max_body;
} sd_http_request;

/* Starts a transfer; returns its id (> 0) or 0 with err set. Does no I/O itself. */
uint64_t sd_http_start(sd_http *h, const sd_http_request *r, sd_error *err);

/* Stops a transfer (or its pending retry); it then finishes with code SD_ECANCELLED.
 * Returns 1 if the id was live. */
int sd_http_cancel(sd_http *h, uint64_t id);

/* Performs the I/O that is ready, waiting at most wait_ms (0: never blocks) for sockets or
 * the next timer. Returns the number of transfers not yet finished (running or waiting to
 * be retried), or -1 with err set on a multi-handle failure. */
int sd_http_perform(sd_http *h, long wait_ms, sd_error *err);

typedef struct sd_http_done {
  uint64_t id;
  sd_code code;          /* SD_OK when an HTTP answer arrived (any status); else
                            SD_ENETWORK, SD_ETIMEOUT, SD_EIO (file), SD_ECANCELLED */
  long status;           /* HTTP status of the last attempt, 0 if none */
  char message[SD_MESSAGE_MAX]; /* curl's error text for failures, "" otherwise */
  char *body;            /* response body (NUL-terminated) unless streamed to a file */
  size_t body_len;
  char *content_type;    /* Content-Type of the last answer or NULL */
  double retry_after;    /* seconds from the last Retry-After header, -1 if none */
  int attempts;          /* 1 + retries made */
  int sent;              /* 1 when some attempt wrote its request to a connection: the
                            server may have it even if no answer came (a POST's outcome is
                            then unknown); 0 when none got that far (refused, DNS, TLS) */
  double elapsed;        /* seconds from start to finish, waits included */
} sd_http_done;

/* Pops one finished transfer into out (caller then owns out->body, out->content_type:
 * release with sd_http_done_clear). Returns 1 if one was popped, 0 if none is finished. */
int sd_http_next(sd_http *h, sd_http_done *out);
void sd_http_done_clear(sd_http_done *d);

/* Event-loop integration: the sockets curl wants watched and how long until it must be
 * called again (-1: no timer; 0: call now). fds/events arrays hold at most cap entries;
 * events is a bitmask of SD_HTTP_READ | SD_HTTP_WRITE. Returns the count (may exceed cap:
 * then only cap were written). */
#define SD_HTTP_READ 1
#define SD_HTTP_WRITE 2
int sd_http_fds(sd_http *h, int *fds, int *events, int cap);
long sd_http_timeout_ms(sd_http *h);

/* Transfers started / finished since creation; retries made or waiting to be made (a
 * cancelled wait is taken back); connections opened by finished transfers.
 * tls_admit: how many TLS transfers curl may have at once now: min(max_connections, 100)
 * until a TLS answer shows the protocol, then 100 (HTTP/2 streams) or max_connections
 * (HTTP/1.x; 0: no limit). */
typedef struct sd_http_stats {
  uint64_t started, finished, retries, connects;
  long tls_admit;
} sd_http_stats;
void sd_http_get_stats(const sd_http *h, sd_http_stats *out);

#endif
