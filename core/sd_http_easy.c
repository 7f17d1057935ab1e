/* sd_http_easy.c: what a transfer's easy handle carries: the Authorization line (shared by
 * the transfers of one bearer, wiped when the last one goes), every option configure sets,
 * the pool of handles kept for reuse, and the trust store (see sd_http_config.ca_dir). */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "sd_http_int.h"

#define SD_MAX_REDIRS 5L
#define SD_AUTH_PREFIX "Authorization: Bearer "

static void wipe(void *p, size_t n) { /* not optimised away */
  volatile unsigned char *v = p;
  while (n--) *v++ = 0;
}

void sdh_auth_release(sd_auth *a) {
  if (a && --a->refs == 0) {
    wipe(a->line, a->len);
    free(a);
  }
}

/* The Authorization line for bearer, with one reference for the caller. */
sd_auth *sdh_auth_get(sd_http *h, const char *bearer) {
  size_t plen = sizeof SD_AUTH_PREFIX - 1;
  if (h->auth && strcmp(h->auth->line + plen, bearer) == 0) {
    h->auth->refs++;
    return h->auth;
  }
  size_t len = plen + strlen(bearer);
  sd_auth *a = malloc(sizeof *a + len + 1);
  if (!a) return NULL;
  memcpy(a->line, SD_AUTH_PREFIX, plen);
  memcpy(a->line + plen, bearer, len - plen + 1);
  a->len = len;
  a->refs = 2; /* the cache and the caller */
  a->post_node = (struct curl_slist){.data = a->line, .next = h->post_hdrs};
  a->get_node = (struct curl_slist){.data = a->line, .next = h->get_hdrs};
  sdh_auth_release(h->auth);
  h->auth = a;
  return a;
}

int sdh_configure(sd_http *h, sd_xfer *x) {
  CURL *e = x->easy;
  int bad = 0;
#define SET(opt, val) bad |= curl_easy_setopt(e, opt, val) != CURLE_OK
  SET(CURLOPT_URL, x->url);
  SET(CURLOPT_PRIVATE, (void *)x);
  SET(CURLOPT_WRITEFUNCTION, sdh_on_write);
  SET(CURLOPT_WRITEDATA, (void *)x);
  SET(CURLOPT_HEADERFUNCTION, sdh_on_header);
  SET(CURLOPT_HEADERDATA, (void *)x);
  SET(CURLOPT_ERRORBUFFER, x->errbuf);
  SET(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075700 /* 7.87 */
  /* a transfer ended (timeout, cancel, close) while its host name is still being looked up
   * does not wait for the lookup thread: step(0) never blocks on a slow DNS */
  SET(CURLOPT_QUICK_EXIT, 1L);
#endif
  SET(CURLOPT_SHARE, h->share);
  SET(CURLOPT_CONNECTTIMEOUT_MS, h->cfg.connect_timeout_ms);
  SET(CURLOPT_TIMEOUT_MS, x->timeout_ms);
  if (!x->h1) { /* h2 if ALPN offers it; wait to multiplex */
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    SET(CURLOPT_PIPEWAIT, 1L);
  } else {
    /* Cleartext is HTTP/1.1 anyway under 2TLS, but curl 7.88 would still count it as
     * "may multiplex" and, with PIPEWAIT, park every new transfer until the first one on
     * the host has *finished* (the h1 verdict from a response does not wake pending
     * transfers; the ALPN verdict does). So plain http asks for 1.1 outright. */
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  }
  /* "gzip" rather than "": "" would rebuild curl's list at every setopt */
  SET(CURLOPT_ACCEPT_ENCODING, x->gzip ? "gzip" : (const char *)NULL);
  SET(CURLOPT_PROTOCOLS_STR, "http,https");
  /* Trust: ca_file and/or ca_dir. Without a ca_file the bundle is dropped (NULL) for the
   * hashed directory, which holds the same certificates and is read one issuer at a time. */
  if (h->ca_file) SET(CURLOPT_CAINFO, h->ca_file);
  else if (h->ca_dir) SET(CURLOPT_CAINFO, (const char *)NULL);
  if (h->ca_dir) SET(CURLOPT_CAPATH, h->ca_dir);
  SET(CURLOPT_TCP_KEEPALIVE, 1L); /* synchronous generations hold a connection idle */
  SET(CURLOPT_TCP_KEEPIDLE, 30L);
  SET(CURLOPT_TCP_KEEPINTVL, 15L);
  if (x->method == SD_HTTP_POST) {
    SET(CURLOPT_HTTPHEADER, x->auth ? &x->auth->post_node : h->post_hdrs);
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_len);
    SET(CURLOPT_POSTFIELDS, x->body);
  } else {
    SET(CURLOPT_HTTPGET, 1L);
    SET(CURLOPT_HTTPHEADER, x->auth ? &x->auth->get_node : h->get_hdrs);
  }
  /* A proxy (http_proxy, ALL_PROXY...) would read the bearer of a cleartext request, which
   * only ever goes to this machine, where a proxy has no business: it goes direct. Over TLS
   * a proxy only tunnels, and downloads carry no bearer: those follow the environment. */
  if (x->auth && x->h1) SET(CURLOPT_PROXY, "");
  if (x->method == SD_HTTP_GET && !x->auth) {
    SET(CURLOPT_FOLLOWLOCATION, 1L);
    SET(CURLOPT_MAXREDIRS, SD_MAX_REDIRS);
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  } else {
    SET(CURLOPT_FOLLOWLOCATION, 0L); /* the bearer never leaves its URL */
  }
#undef SET
  return bad ? -1 : 0;
}

/* Transfers of one kind (method, with or without the bearer, cleartext or TLS) get the same
 * options from sdh_configure(), which sets every option it uses each time. A pooled handle of
 * the same kind is therefore reused as it is; one of another kind is curl_easy_reset
 * first, so no option of a POST with the bearer (its headers) outlives it into a download.
 * This skips a reset and ~25 option copies per API call, the common case. */
int sdh_xfer_kind(const sd_xfer *x) {
  return (int)x->method * 4 + (x->auth ? 2 : 0) + (x->h1 ? 1 : 0);
}

CURL *sdh_easy_get(sd_http *h, int kind) {
  if (!h->npool) return curl_easy_init();
  CURL *e = h->pool[--h->npool];
  if (h->pool_kind[h->npool] != kind) curl_easy_reset(e);
  return e;
}

void sdh_easy_put(sd_http *h, CURL *e, int kind) {
  if (!e) return;
  if (h->npool < SD_POOL_MAX) {
    /* no pointer into the finished transfer stays set (the next configure sets them again) */
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, (char *)NULL);
    h->pool_kind[h->npool] = kind;
    h->pool[h->npool++] = e;
  } else {
    curl_easy_cleanup(e);
  }
}

/* curl's default CA directory when it is a hashed one (see sd_http_config.ca_dir): *out is
 * a copy, or NULL (curl's defaults then, bundle included). -1 only when out of memory. */
int sdh_system_ca_dir(char **out) {
  *out = NULL;
#if LIBCURL_VERSION_NUM >= 0x075400 /* CURLINFO_CAPATH */
  int rc = 0;
  char *dir = NULL;               /* owned by e: copied before e goes */
  CURL *e = curl_easy_init();
  if (e && curl_easy_getinfo(e, CURLINFO_CAPATH, &dir) == CURLE_OK && dir &&
      sd_dir_has_cert_hashes(dir) && !(*out = strdup(dir)))
    rc = -1;
  if (e) curl_easy_cleanup(e);
  return rc;
#else
  return 0;
#endif
}

static int is_cert_hash_name(const char *n) {
  for (int i = 0; i < 8; i++)
    if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f'))) return 0;
  if (n[8] != '.' || n[9] < '0' || n[9] > '9') return 0;
  for (n += 10; *n; n++)                 /* ".0" .. ".9", ".10" when hashes collide */
    if (*n < '0' || *n > '9') return 0;
  return 1;
}

int sd_dir_has_cert_hashes(const char *dir) {
  DIR *d = dir ? opendir(dir) : NULL;
  if (!d) return 0;
  int found = 0;
  struct dirent *e;
  while (!found && (e = readdir(d)) != NULL) found = is_cert_hash_name(e->d_name);
  closedir(d);
  return found;
}
