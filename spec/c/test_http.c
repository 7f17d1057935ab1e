/* test_http.c: the transport (core/sd_http.c) against a scriptable libmicrohttpd server
 * started inside the test on a free port. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_server.h"
#include "sd_file.h"

/* ---- tests ------------------------------------------------------------------------ */

static void test_validation(void) {
  sd_http *h = new_http(0, 10);
  sd_error err;
  sd_http_request r = req(SD_HTTP_POST, NULL, NULL, "{}");
  CHECK_EQ_INT(sd_http_start(h, &r, &err), 0);
  CHECK_EQ_INT(err.code, SD_EINVALID);
  r = req(SD_HTTP_POST, url_of("/ok"), NULL, "{}");
  r.file_path = "/tmp/x";
  CHECK_EQ_INT(sd_http_start(h, &r, &err), 0);
  CHECK_STR(err.field, "file_path");
  r = req(SD_HTTP_POST, url_of("/ok"), "key\r\nX-Evil: 1", "{}");
  CHECK_EQ_INT(sd_http_start(h, &r, &err), 0);
  CHECK_STR(err.field, "bearer");
  sd_http_done d;
  CHECK_EQ_INT(sd_http_next(h, &d), 0);
  CHECK_EQ_INT(sd_http_perform(h, 100, &err), 0); /* nothing to wait for: returns at once */
  CHECK_EQ_INT(sd_http_timeout_ms(h), -1);
  sd_http_config c;
  sd_http_config_defaults(&c);
  c.max_retries = -2;
  CHECK(sd_http_new(&c, &err) == NULL);
  CHECK_STR(err.field, "max_retries");
  sd_http_config_defaults(&c);
  c.user_agent = "x\r\nX-Evil: 1";
  CHECK(sd_http_new(&c, &err) == NULL);
  CHECK_STR(err.field, "user_agent");
  /* defaults leave no field unset, whatever was in the struct before */
  memset(&c, 0xA5, sizeof c);
  sd_http_config_defaults(&c);
  CHECK(c.ca_file == NULL);
  CHECK_EQ_INT(c.max_retries, 3);
  /* ca_file is copied: the caller's string may go at once (ASan/valgrind see a use after
   * free otherwise, when a transfer is configured with it) */
  char *ca = strdup("/tmp/seedream-no-such-ca.pem");
  c.ca_file = ca;
  c.max_retries = 0;
  sd_http *h2 = sd_http_new(&c, &err);
  free(ca);
  CHECK(h2 != NULL);
  sd_http_done d2;
  sd_http_request r2 = req(SD_HTTP_POST, url_of("/ok"), NULL, "{}");
  CHECK(run(h2, &r2, &d2));
  CHECK_EQ_INT(d2.status, 200);         /* plain http: the CA file is not even read */
  sd_http_done_clear(&d2);
  sd_http_free(h2);
  sd_http_free(h);
  sd_http_free(NULL);

  /* ca_dir: copied as given; by default the system's CA directory when it is a hashed one
   * (Debian's /etc/ssl/certs, curl's default CA path here), so that the first handshake does
   * not parse the whole bundle */
  sd_http_config_defaults(&c);
  CHECK(c.ca_dir == NULL);
  char *cadir = strdup("/tmp/seedream-no-such-ca-dir");
  c.ca_dir = cadir;
  h2 = sd_http_new(&c, &err);
  free(cadir);
  CHECK_STR(sd_http_ca_dir(h2), "/tmp/seedream-no-such-ca-dir");
  sd_http_free(h2);
  sd_http_config_defaults(&c);
  h2 = sd_http_new(&c, &err);
  if (sd_dir_has_cert_hashes("/etc/ssl/certs")) CHECK_STR(sd_http_ca_dir(h2), "/etc/ssl/certs");
  else CHECK(sd_http_ca_dir(h2) == NULL);
  sd_http_free(h2);
  CHECK(sd_http_ca_dir(NULL) == NULL);
  /* TLS admission starts at min(max_connections, HTTP/2's 100 streams) (spec/33-tls_spec.lua
   * sees it change) */
  sd_http_stats st;
  sd_http_get_stats(h2 = sd_http_new(&c, &err), &st);
  CHECK_EQ_INT(st.tls_admit, c.max_connections < 100 ? c.max_connections : 100);
  sd_http_free(h2);
  c.max_connections = 500;
  sd_http_get_stats(h2 = sd_http_new(&c, &err), &st);
  CHECK_EQ_INT(st.tls_admit, 100);
  sd_http_free(h2);
  sd_http_get_stats(NULL, &st);
  CHECK_EQ_INT(st.tls_admit, 0);
}

static void test_post_roundtrip(void) {
  sd_http *h = new_http(0, 10);
  sd_http_done d;
  sd_http_request r = req(SD_HTTP_POST, url_of("/ok"), "test-key-1", "[{\"taskType\":\"x\"}]");
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.code, SD_OK);
  CHECK_EQ_INT(d.status, 200);
  CHECK_EQ_INT(d.attempts, 1);
  CHECK_STR(d.message, "");
  CHECK_STR(d.content_type, "application/json");
  CHECK(d.retry_after == -1);
  CHECK(d.elapsed >= 0 && d.elapsed < 5);
  CHECK_STR(d.body, "{\"method\":\"POST\",\"auth\":\"Bearer test-key-1\",\"ct\":\"application/json\","
                    "\"body\":[{\"taskType\":\"x\"}]}");
  CHECK_EQ_INT(d.body_len, strlen(d.body ? d.body : ""));
  pthread_mutex_lock(&S.mu);
  CHECK(strncmp(S.last_ua, "seedream/", 9) == 0);
  pthread_mutex_unlock(&S.mu);
  sd_http_done_clear(&d);
  CHECK(d.body == NULL && d.content_type == NULL);

  r = req(SD_HTTP_POST, url_of("/ok"), NULL, "{}"); /* no bearer: no Authorization */
  CHECK(run(h, &r, &d));
  CHECK_CONTAINS(d.body, "\"auth\":\"\"");
  sd_http_done_clear(&d);

  r = req(SD_HTTP_GET, url_of("/file"), NULL, NULL); /* binary body in memory */
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.status, 200);
  CHECK_EQ_INT(d.body_len, FILE_LEN);
  CHECK(d.body && memcmp(d.body, S.file, FILE_LEN) == 0);
  sd_http_done_clear(&d);
  sd_http_stats st;
  sd_http_get_stats(h, &st);
  CHECK_EQ_INT(st.started, 3);
  CHECK_EQ_INT(st.finished, 3);
  CHECK_EQ_INT(st.retries, 0);
  CHECK_EQ_INT(st.connects, 1); /* keep-alive */

  /* take_body: a malloc'd body handed over is sent as is and freed by the transport (the
   * valgrind and ASan runs of this test prove the free) */
  const char *text = "[{\"taskType\":\"taken\"}]";
  char *owned = malloc(strlen(text) + 1);
  memcpy(owned, text, strlen(text) + 1);
  r = req(SD_HTTP_POST, url_of("/ok"), "k", NULL);
  r.body = owned;
  r.body_len = strlen(text);
  r.take_body = 1;
  CHECK(run(h, &r, &d));
  CHECK_CONTAINS(d.body, "\"body\":[{\"taskType\":\"taken\"}]");
  sd_http_done_clear(&d);
  sd_http_free(h);
}

/* A proxy in the environment never sees the bearer of a cleartext request: the POST with
 * it goes direct. The server below plays the proxy too (an absolute request target); a
 * download, which carries no bearer, still follows the environment. */
static void test_no_proxy_for_bearer(void) {
  char proxy[64];
  snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", S.port);
  setenv("http_proxy", proxy, 1);
  unsetenv("no_proxy");
  unsetenv("NO_PROXY");
  sd_http *h = new_http(0, 10);
  sd_http_done d;
  server_reset();
  sd_http_request r = req(SD_HTTP_POST, url_of("/ok"), "k-proxy-secret", "{}");
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.status, 200);
  CHECK_EQ_INT(server_get(&S.ok_hits), 1);
  CHECK_EQ_INT(server_get(&S.proxied_hits), 0);
  sd_http_done_clear(&d);

  r = req(SD_HTTP_GET, url_of("/file"), NULL, NULL);
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.status, 502);                      /* it went to the "proxy" */
  CHECK_EQ_INT(server_get(&S.proxied_hits), 1);
  pthread_mutex_lock(&S.mu);
  CHECK_STR(S.proxied_auth, "");
  pthread_mutex_unlock(&S.mu);
  sd_http_done_clear(&d);

  r = req(SD_HTTP_POST, url_of("/ok"), "k-proxy-secret", "{}"); /* a pooled handle again */
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.status, 200);
  CHECK_EQ_INT(server_get(&S.proxied_hits), 1);
  sd_http_done_clear(&d);
  sd_http_free(h);
  unsetenv("http_proxy");
}

/* Accept-Encoding only when asked, also on a pooled handle reused as it is (same kind). */
static void test_gzip_flag(void) {
  sd_http *h = new_http(0, 10);
  sd_http_done d;
  const char *want[] = {"", "gzip", "", "gzip", ""};
  for (int i = 0; i < 5; i++) {
    sd_http_request r = req(SD_HTTP_POST, url_of("/ok"), "k", "{}");
    r.gzip = want[i][0] != '\0';
    CHECK(run(h, &r, &d));
    CHECK_EQ_INT(d.status, 200);
    sd_http_done_clear(&d);
    pthread_mutex_lock(&S.mu);
    CHECK_STR(S.last_ae, want[i]);
    pthread_mutex_unlock(&S.mu);
  }
  /* a POST with the bearer, then a GET on the same pooled handle: no bearer, no gzip */
  sd_http_request g = req(SD_HTTP_GET, url_of("/ok"), NULL, NULL);
  CHECK(run(h, &g, &d));
  sd_http_done_clear(&d);
  pthread_mutex_lock(&S.mu);
  CHECK_STR(S.last_auth, "");
  CHECK_STR(S.last_ae, "");
  pthread_mutex_unlock(&S.mu);
  sd_http_free(h);
}

static void test_retries(void) {
  sd_http *h = new_http(3, 10);
  sd_http_done d;
  server_reset();
  sd_http_request r = req(SD_HTTP_POST, url_of("/flaky?n=2"), "k", "[{\"taskUUID\":\"u-1\"}]");
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.code, SD_OK);
  CHECK_EQ_INT(d.status, 200);
  CHECK_EQ_INT(d.attempts, 3);
  CHECK_EQ_INT(server_get(&S.flaky_hits), 3);
  CHECK_EQ_INT(server_get(&S.flaky_mismatch), 0); /* the very same body each time */
  CHECK_CONTAINS(d.body, "u-1");
  sd_http_done_clear(&d);

  server_reset(); /* exhausted: the last answer, as it came */
  r = req(SD_HTTP_POST, url_of("/always503"), "k", "{}");
  r.max_retries = 2;
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.code, SD_OK);
  CHECK_EQ_INT(d.status, 503);
  CHECK_EQ_INT(d.attempts, 3);
  CHECK_EQ_INT(server_get(&S.always_hits), 3);
  CHECK_STR(d.body, "busy");
  sd_http_done_clear(&d);
  sd_http_stats st;
  sd_http_get_stats(h, &st);
  CHECK_EQ_INT(st.retries, 4);

  /* every 5xx but the two that say "never" (501, 505) is transient: a CDN's 520 too */
  {
    static const struct { const char *path; int attempts; } five[] = {
      {"/status/520", 3}, {"/status/507", 3}, {"/status/501", 1}, {"/status/505", 1},
      {"/status/418", 1},
    };
    for (size_t i = 0; i < sizeof five / sizeof five[0]; i++) {
      server_reset();
      r = req(SD_HTTP_POST, url_of(five[i].path), "k", "{}");
      r.max_retries = 2;
      CHECK(run(h, &r, &d));
      CHECK_EQ_INT(d.attempts, five[i].attempts);
      CHECK_EQ_INT(server_get(&S.always_hits), five[i].attempts);
      sd_http_done_clear(&d);
    }
  }

  /* max_body: an answer larger than the request can produce ends the transfer, unheld */
  server_reset();
  r = req(SD_HTTP_GET, url_of("/file"), NULL, NULL);
  r.max_body = 1000;
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.code, SD_EPROTOCOL);
  CHECK_CONTAINS(d.message, "exceeds 1000 bytes");
  CHECK(d.body == NULL || d.body_len <= 1000);
  sd_http_done_clear(&d);
  r.max_body = 0;                                   /* the default: 1 GiB */
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.code, SD_OK);
  CHECK_EQ_INT(d.body_len, FILE_LEN);
  sd_http_done_clear(&d);

  server_reset(); /* Retry-After: 1 wins over a 10 ms backoff */
  r = req(SD_HTTP_POST, url_of("/429"), "k", "{}");
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.code, SD_OK);
  CHECK_EQ_INT(d.status, 200);
  CHECK_EQ_INT(d.attempts, 2);
  CHECK(d.elapsed >= 1.0);
  sd_http_done_clear(&d);

  server_reset(); /* no retries: 429 comes back with its Retry-After */
  r = req(SD_HTTP_POST, url_of("/429"), "k", "{}");
  r.max_retries = 0;
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.status, 429);
  CHECK(d.retry_after == 1.0);
  sd_http_done_clear(&d);

  server_reset(); /* closed without an answer: retried, then a network error */
  r = req(SD_HTTP_POST, url_of("/drop"), "k", "{}");
  r.max_retries = 1;
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.code, SD_ENETWORK);
  CHECK_EQ_INT(d.attempts, 2);
  /* curl itself re-sends once when a reused keep-alive connection dies unanswered */
  CHECK(server_get(&S.drop_hits) >= 2);
  CHECK(d.body == NULL);
  sd_http_done_clear(&d);
  sd_http_free(h);
}

/* A final 4xx stands even when its body is cut short: the request is not sent again. */
static void test_cut_final_answer(void) {
  sd_http *h = new_http(3, 10);
  sd_http_done d;
  server_reset();
  sd_http_request r = req(SD_HTTP_POST, url_of("/cut400"), "k", "{}");
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.status, 400);
  CHECK_EQ_INT(d.attempts, 1);
  CHECK_EQ_INT(server_get(&S.cut_hits), 1);
  sd_http_done_clear(&d);
  sd_http_free(h);
}

static void test_network_errors(void) {
  sd_http *h = new_http(2, 10);
  sd_http_done d;
  char url[128];
  snprintf(url, sizeof url, "http://user:pw@127.0.0.1:%d/v1?sig=abc", unused_port());
  sd_http_request r = req(SD_HTTP_POST, url, "sekret-key-123", "{}");
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.code, SD_ENETWORK);
  CHECK_EQ_INT(d.status, 0);
  CHECK_EQ_INT(d.attempts, 3);
  CHECK(d.message[0] != '\0');
  CHECK(strstr(d.message, "sekret") == NULL);
  CHECK(strstr(d.message, "pw@") == NULL);
  CHECK(strstr(d.message, "sig=") == NULL);
  CHECK_CONTAINS(d.message, "/v1");
  sd_http_done_clear(&d);

  r = req(SD_HTTP_POST, url_of("/slow"), "sekret-key-123", "{}");
  r.timeout_ms = 300;
  r.max_retries = 1;
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.code, SD_ETIMEOUT);
  CHECK_EQ_INT(d.attempts, 2);
  CHECK(d.elapsed >= 0.6);
  CHECK(strstr(d.message, "sekret") == NULL);
  sd_http_done_clear(&d);
  sd_http_free(h);
}

static void test_redirects(void) {
  sd_http *h = new_http(0, 10);
  sd_http_done d;
  server_reset();
  sd_http_request r = req(SD_HTTP_POST, url_of("/redirect"), "k-secret", "{}");
  CHECK(run(h, &r, &d)); /* with a bearer: never followed */
  CHECK_EQ_INT(d.code, SD_OK);
  CHECK_EQ_INT(d.status, 302);
  CHECK_EQ_INT(server_get(&S.ok_hits), 0);
  sd_http_done_clear(&d);

  r = req(SD_HTTP_GET, url_of("/redirect"), "k-secret", NULL);
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.status, 302);
  CHECK_EQ_INT(server_get(&S.ok_hits), 0);
  sd_http_done_clear(&d);

  r = req(SD_HTTP_GET, url_of("/redirect"), NULL, NULL); /* a GET without: followed */
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.status, 200);
  CHECK_EQ_INT(server_get(&S.ok_hits), 1);
  CHECK_CONTAINS(d.body, "\"method\":\"GET\",\"auth\":\"\"");
  pthread_mutex_lock(&S.mu);
  CHECK_STR(S.last_auth, "");
  pthread_mutex_unlock(&S.mu);
  sd_http_done_clear(&d);
  sd_http_free(h);
}

static void test_files(const char *dir) {
  sd_http *h = new_http(0, 10);
  sd_http_done d;
  char path[512];
  snprintf(path, sizeof path, "%s/image.png", dir);
  sd_http_request r = req(SD_HTTP_GET, url_of("/file"), NULL, NULL);
  r.file_path = path;
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.code, SD_OK);
  CHECK_EQ_INT(d.status, 200);
  CHECK(d.body == NULL);
  CHECK_STR(d.content_type, "image/png");
  sd_http_done_clear(&d);
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL);
  if (f) {
    static unsigned char got[FILE_LEN + 10];
    size_t n = fread(got, 1, sizeof got, f);
    fclose(f);
    CHECK_EQ_INT(n, FILE_LEN);
    CHECK(memcmp(got, S.file, FILE_LEN) == 0);
  }
  CHECK_EQ_INT(count_parts(dir), 0);
  unlink(path);

  r = req(SD_HTTP_GET, url_of("/empty"), NULL, NULL); /* an empty 2xx body: an empty file */
  r.file_path = path;
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.code, SD_OK);
  struct stat sb;
  CHECK(stat(path, &sb) == 0 && sb.st_size == 0);
  sd_http_done_clear(&d);
  unlink(path);

  r = req(SD_HTTP_GET, url_of("/file404"), NULL, NULL); /* error body in memory, no file */
  r.file_path = path;
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.code, SD_OK);
  CHECK_EQ_INT(d.status, 404);
  CHECK_STR(d.body, "not found");
  CHECK(access(path, F_OK) != 0);
  CHECK_EQ_INT(count_parts(dir), 0);
  sd_http_done_clear(&d);

  /* expect: bytes of another kind never replace what is at path (here "precious") */
  f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f) {
    fputs("precious", f);
    fclose(f);
  }
  r = req(SD_HTTP_GET, url_of("/file"), NULL, NULL);
  r.file_path = path;
  r.expect = SD_IMG_PNG;
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.code, SD_EPROTOCOL);
  CHECK_EQ_INT(d.status, 200);
  CHECK_CONTAINS(d.message, "not a png file (got unknown data)");
  CHECK(stat(path, &sb) == 0 && sb.st_size == 8);
  CHECK_EQ_INT(count_parts(dir), 0);
  sd_http_done_clear(&d);
  /* the right kind, but cut short (its end missing): refused too, the file left alone */
  r = req(SD_HTTP_GET, url_of("/png-cut"), NULL, NULL);
  r.file_path = path;
  r.expect = SD_IMG_PNG;
  r.max_retries = 2;                                /* fetched again, cut each time */
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.code, SD_EPROTOCOL);
  CHECK_EQ_INT(d.attempts, 3);
  CHECK_CONTAINS(d.message, "png file cut short");
  CHECK(stat(path, &sb) == 0 && sb.st_size == 8);
  CHECK_EQ_INT(count_parts(dir), 0);
  sd_http_done_clear(&d);
  r = req(SD_HTTP_GET, url_of("/png"), NULL, NULL);
  r.file_path = path;
  r.expect = SD_IMG_PNG;
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.code, SD_OK);
  CHECK(stat(path, &sb) == 0 && sb.st_size == 200);
  sd_http_done_clear(&d);
  r = req(SD_HTTP_GET, url_of("/file"), NULL, NULL);
  r.file_path = path;
  r.expect = SD_IMG_UNKNOWN; /* any kind: replaced */
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.code, SD_OK);
  CHECK(stat(path, &sb) == 0 && sb.st_size == FILE_LEN);
  sd_http_done_clear(&d);
  unlink(path);
  /* 204: no content, so nothing replaces the file there */
  f = fopen(path, "wb");
  if (f) {
    fputs("old", f);
    fclose(f);
  }
  r = req(SD_HTTP_GET, url_of("/204"), NULL, NULL);
  r.file_path = path;
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.code, SD_OK);
  CHECK_EQ_INT(d.status, 204);
  CHECK(stat(path, &sb) == 0 && sb.st_size == 3);
  CHECK_EQ_INT(count_parts(dir), 0);
  sd_http_done_clear(&d);
  unlink(path);
  r.expect = (sd_image_kind)42;
  sd_error err;
  CHECK(sd_http_start(h, &r, &err) == 0);
  CHECK_STR(err.field, "expect");

  char bad[600]; /* a directory that does not exist: SD_EIO, nothing left */
  snprintf(bad, sizeof bad, "%s/missing/image.png", dir);
  r = req(SD_HTTP_GET, url_of("/file"), NULL, NULL);
  r.file_path = bad;
  CHECK(run(h, &r, &d));
  CHECK_EQ_INT(d.code, SD_EIO);
  CHECK_CONTAINS(d.message, "missing");
  sd_http_done_clear(&d);
  sd_http_free(h);
}

static void test_nonblocking_cancel_fds(void) {
  sd_http *h = new_http(0, 10);
  sd_error err;
  sd_http_request r = req(SD_HTTP_POST, url_of("/slow"), "k", "{}");
  uint64_t id = sd_http_start(h, &r, &err);
  CHECK(id > 0);
  double worst = 0;
  int running = 0;
  for (int i = 0; i < 20; i++) {
    double t0 = now_s();
    running = sd_http_perform(h, 0, &err);
    double t = now_s() - t0;
    if (t > worst) worst = t;
    nap_ms(5);
  }
  CHECK(worst < 0.5);
  CHECK_EQ_INT(running, 1);
  int fds[8], ev[8];
  int n = sd_http_fds(h, fds, ev, 8);
  CHECK(n >= 1);
  CHECK(n >= 1 && fds[0] >= 0 && (ev[0] & (SD_HTTP_READ | SD_HTTP_WRITE)) != 0);
  CHECK(sd_http_timeout_ms(h) >= -1);

  CHECK_EQ_INT(sd_http_cancel(h, id), 1);
  CHECK_EQ_INT(sd_http_cancel(h, id), 0);
  CHECK_EQ_INT(sd_http_cancel(h, 987654), 0);
  CHECK_EQ_INT(sd_http_perform(h, 0, &err), 0);
  int seen = 0;
  sd_http_done d;
  while (sd_http_next(h, &d)) {
    seen++;
    CHECK_EQ_INT(d.id, id);
    CHECK_EQ_INT(d.code, SD_ECANCELLED);
    CHECK(d.body == NULL);
    sd_http_done_clear(&d);
  }
  CHECK_EQ_INT(seen, 1);
  CHECK_EQ_INT(sd_http_fds(h, fds, ev, 8), 0);

  /* cancelling a retry that waits for its time */
  sd_http_config c;
  sd_http_config_defaults(&c);
  c.backoff_base_ms = c.backoff_max_ms = 20000;
  sd_http *h2 = sd_http_new(&c, &err);
  r = req(SD_HTTP_POST, url_of("/always503"), "k", "{}");
  id = sd_http_start(h2, &r, &err);
  sd_http_stats st = {0};
  for (int i = 0; i < 200 && st.retries == 0; i++) {
    sd_http_perform(h2, 20, &err);
    sd_http_get_stats(h2, &st);
  }
  CHECK_EQ_INT(st.retries, 1);
  CHECK(sd_http_timeout_ms(h2) > 0);
  CHECK_EQ_INT(sd_http_cancel(h2, id), 1);
  sd_http_get_stats(h2, &st);
  CHECK_EQ_INT(st.retries, 0); /* the waiting retry never went */
  CHECK(sd_http_next(h2, &d));
  CHECK_EQ_INT(d.code, SD_ECANCELLED);
  CHECK_EQ_INT(d.status, 503);
  CHECK_EQ_INT(d.attempts, 1);
  sd_http_done_clear(&d);
  CHECK_EQ_INT(sd_http_next(h2, &d), 0);
  sd_http_free(h2);
  sd_http_free(h);
}

/* A slow answer on one connection must not hold back the others (curl 7.88 parks new
 * transfers behind the first one when PIPEWAIT is set on cleartext HTTP). */
static void test_no_head_of_line(void) {
  sd_http *h = new_http(0, 10);
  sd_error err;
  sd_http_request r = req(SD_HTTP_POST, url_of("/slow"), "k", "{}");
  uint64_t slow = sd_http_start(h, &r, &err);
  uint64_t first = 0;
  for (int i = 0; i < 20; i++) {
    r = req(SD_HTTP_POST, url_of("/ok"), "k", "{}");
    uint64_t id = sd_http_start(h, &r, &err);
    if (!first) first = id;
  }
  double t0 = now_s();
  int done = 0, slow_done = 0;
  while (done < 20 && now_s() - t0 < 2.5) {
    sd_http_perform(h, 50, &err);
    sd_http_done d;
    while (sd_http_next(h, &d)) {
      if (d.id == slow) slow_done = 1;
      else if (d.id >= first && d.code == SD_OK && d.status == 200) done++;
      sd_http_done_clear(&d);
    }
  }
  CHECK_EQ_INT(done, 20);
  CHECK_EQ_INT(slow_done, 0);
  CHECK(now_s() - t0 < 2.0);
  CHECK_EQ_INT(sd_http_cancel(h, slow), 1);
  sd_http_free(h);
}

/* Cleartext transfers beyond max_connections wait in the transport's own queue. */
static void test_queue(void) {
  sd_http_config c;
  sd_http_config_defaults(&c);
  c.max_connections = 2;
  c.user_agent = "custom-agent/9";
  sd_error err;
  sd_http *h = sd_http_new(&c, &err);
  uint64_t slow[2], ok[3];
  for (int i = 0; i < 2; i++) {
    sd_http_request r = req(SD_HTTP_POST, url_of("/slow"), "k", "{}");
    slow[i] = sd_http_start(h, &r, &err);
  }
  for (int i = 0; i < 3; i++) {
    sd_http_request r = req(SD_HTTP_GET, url_of("/ok"), NULL, NULL);
    ok[i] = sd_http_start(h, &r, &err);
  }
  for (int i = 0; i < 5; i++) CHECK_EQ_INT(sd_http_perform(h, 10, &err), 5);
  sd_http_done d;
  CHECK_EQ_INT(sd_http_next(h, &d), 0); /* the /ok ones wait for a connection */
  CHECK_EQ_INT(sd_http_cancel(h, ok[1]), 1); /* a queued one */
  CHECK(sd_http_next(h, &d));
  CHECK_EQ_INT(d.id, ok[1]);
  CHECK_EQ_INT(d.code, SD_ECANCELLED);
  sd_http_done_clear(&d);
  CHECK_EQ_INT(sd_http_cancel(h, slow[0]), 1); /* frees a connection: ok[0] starts */
  CHECK(wait_for(h, ok[0], &d, 5));
  CHECK_EQ_INT(d.code, SD_OK);
  CHECK_EQ_INT(d.status, 200);
  sd_http_done_clear(&d);
  pthread_mutex_lock(&S.mu);
  CHECK_STR(S.last_ua, "custom-agent/9");
  pthread_mutex_unlock(&S.mu);
  CHECK(wait_for(h, ok[2], &d, 5));
  CHECK_EQ_INT(d.code, SD_OK);
  sd_http_done_clear(&d);
  CHECK_EQ_INT(sd_http_cancel(h, slow[1]), 1);
  sd_http_stats st;
  sd_http_get_stats(h, &st);
  CHECK_EQ_INT(st.started, 5);
  CHECK_EQ_INT(st.finished, 5);
  sd_http_free(h);
}

#define NCONC 200
static void test_concurrency(void) {
  sd_http *h = new_http(0, 10);
  sd_error err;
  uint64_t ids[NCONC];
  char body[64], want[256];
  for (int i = 0; i < NCONC; i++) {
    snprintf(body, sizeof body, "{\"i\":%d}", i);
    sd_http_request r = req(SD_HTTP_POST, url_of("/ok"), "k", body);
    ids[i] = sd_http_start(h, &r, &err);
  }
  int done = 0, good = 0;
  double end = now_s() + 15;
  while (done < NCONC && now_s() < end) {
    if (sd_http_perform(h, 100, &err) < 0) break;
    sd_http_done d;
    while (sd_http_next(h, &d)) {
      int i = (int)(d.id - ids[0]);
      done++;
      snprintf(want, sizeof want,
               "{\"method\":\"POST\",\"auth\":\"Bearer k\",\"ct\":\"application/json\","
               "\"body\":{\"i\":%d}}", i);
      if (i >= 0 && i < NCONC && d.id == ids[i] && d.code == SD_OK && d.status == 200 &&
          d.body && strcmp(d.body, want) == 0)
        good++;
      sd_http_done_clear(&d);
    }
  }
  CHECK_EQ_INT(done, NCONC);
  CHECK_EQ_INT(good, NCONC);
  sd_http_stats st;
  sd_http_get_stats(h, &st);
  CHECK_EQ_INT(st.finished, NCONC);
  CHECK(st.connects >= 1 && st.connects <= 16);
  sd_http_free(h);
}

/* Waves of transfers that each drain the multi handle keep their connections: curl's default
 * cache size is 4 x the transfers in the multi handle, which a drained wave shrinks, so
 * connections were closed and reopened each wave (over TLS, a full handshake each). */
static void test_connections_kept(void) {
  enum { WIDTH = 8, WAVES = 4 };
  sd_http_config c;
  sd_http_config_defaults(&c);
  c.max_connections = WIDTH;
  sd_error err;
  sd_http *h = sd_http_new(&c, &err);
  int done = 0;
  for (int w = 0; w < WAVES; w++) {
    for (int i = 0; i < WIDTH; i++) {
      sd_http_request r = req(SD_HTTP_GET, url_of("/pause"), NULL, NULL);
      CHECK(sd_http_start(h, &r, &err) != 0);
    }
    int got = 0;
    double end = now_s() + 10;
    while (got < WIDTH && now_s() < end) {
      if (sd_http_perform(h, 100, &err) < 0) break;
      sd_http_done d;
      while (sd_http_next(h, &d)) {
        if (d.code == SD_OK && d.status == 200) done++;
        got++;
        sd_http_done_clear(&d);
      }
    }
  }
  CHECK_EQ_INT(done, WIDTH * WAVES);
  sd_http_stats st;
  sd_http_get_stats(h, &st);
  CHECK_EQ_INT(st.connects, WIDTH);
  sd_http_free(h);
}

/* A CA directory counts only when it holds OpenSSL's hashed names (what it looks issuers up
 * by); a directory of plain .pem files would make every handshake fail if used as one. */
static void test_cert_hash_dir(const char *dir) {
  char sub[600], path[700];
  snprintf(sub, sizeof sub, "%s/certs", dir);
  CHECK_EQ_INT(sd_dir_has_cert_hashes(sub), 0);             /* no such directory */
  CHECK_EQ_INT(sd_dir_has_cert_hashes(NULL), 0);
  CHECK(mkdir(sub, 0700) == 0);
  CHECK_EQ_INT(sd_dir_has_cert_hashes(sub), 0);             /* empty */
  const char *not_hashes[] = {"ca.pem", "5ad8a5d6", "5ad8a5d6.", "5AD8A5D6.0", "5ad8a5d.0",
                              "5ad8a5d6.r0", "5ad8a5d6.0.pem", "5ad8a5g6.0"};
  for (size_t i = 0; i < sizeof not_hashes / sizeof *not_hashes; i++) {
    snprintf(path, sizeof path, "%s/%s", sub, not_hashes[i]);
    CHECK_EQ_INT(sd_file_write_atomic(path, "x", 1, NULL), SD_OK);
  }
  CHECK_EQ_INT(sd_dir_has_cert_hashes(sub), 0);
  snprintf(path, sizeof path, "%s/5ad8a5d6.10", sub);      /* the 11th of one hash */
  CHECK_EQ_INT(sd_file_write_atomic(path, "x", 1, NULL), SD_OK);
  CHECK_EQ_INT(sd_dir_has_cert_hashes(sub), 1);
}

static void test_free_in_flight(const char *dir) {
  sd_http_config c;
  sd_http_config_defaults(&c);
  c.backoff_base_ms = c.backoff_max_ms = 20000;
  c.max_connections = 4; /* so that one transfer waits in the queue */
  sd_error err;
  sd_http *h = sd_http_new(&c, &err);
  char path[512];
  snprintf(path, sizeof path, "%s/partial.png", dir);
  sd_http_request r = req(SD_HTTP_GET, url_of("/slowfile"), NULL, NULL);
  r.file_path = path;
  CHECK(sd_http_start(h, &r, &err) > 0);
  r = req(SD_HTTP_POST, url_of("/always503"), "k", "{}");
  CHECK(sd_http_start(h, &r, &err) > 0);
  for (int i = 0; i < 5; i++) { /* 3 of them run, 2 wait in the queue */
    r = req(SD_HTTP_POST, url_of("/slow"), "k", "{\"big\":1}");
    CHECK(sd_http_start(h, &r, &err) > 0);
  }
  sd_http_stats st = {0};
  double end = now_s() + 8;
  while (now_s() < end && (count_parts(dir) == 0 || st.retries == 0)) {
    sd_http_perform(h, 20, &err);
    sd_http_get_stats(h, &st);
  }
  CHECK_EQ_INT(count_parts(dir), 1);
  CHECK_EQ_INT(st.retries, 1);
  CHECK_EQ_INT(st.finished, 0);
  CHECK_EQ_INT(sd_http_perform(h, 0, &err), 7);
  sd_http_free(h);
  CHECK_EQ_INT(count_parts(dir), 0);
  CHECK(access(path, F_OK) != 0);
}

int main(void) {
  const char *only = getenv("TEST_ONLY"); /* debugging: run one test by name */
#define RUN(call) \
  do { if (!only || strstr(#call, only)) call; } while (0)
  if (server_start() != 0) {
    fprintf(stderr, "cannot start the test server\n");
    return 1;
  }
  char dir[] = "/tmp/sd-http-test-XXXXXX";
  if (!mkdtemp(dir)) return 1;
  RUN(test_validation());
  RUN(test_post_roundtrip());
  RUN(test_gzip_flag());
  RUN(test_retries());
  RUN(test_network_errors());
  RUN(test_cut_final_answer());
  RUN(test_redirects());
  RUN(test_no_proxy_for_bearer());
  RUN(test_files(dir));
  RUN(test_nonblocking_cancel_fds());
  RUN(test_no_head_of_line());
  RUN(test_queue());
  RUN(test_concurrency());
  RUN(test_connections_kept());
  RUN(test_free_in_flight(dir));
  RUN(test_cert_hash_dir(dir));
  rmdir(dir);
  server_stop();
  curl_global_cleanup();
  return MT_SUMMARY();
}
