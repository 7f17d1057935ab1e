/* tls_first.c: benchmark 6b: the CPU of a process's first TLS connection, inside the one
 * non-blocking step that makes it (a game loop's frame).
 *
 *   tls_first URL curl|seedream
 *
 * One GET of URL (an https emulator whose test certificate the system does not trust: the
 * handshake reads the trust store, then fails verification; reading the store is what is
 * measured, the rest of a handshake is the same either way). "curl": a multi handle with
 * libcurl's defaults (Debian: the bundle /etc/ssl/certs/ca-certificates.crt, ~140
 * certificates parsed in full). "seedream": core/sd_http.c with its defaults (the hashed
 * directory /etc/ssl/certs, read one issuer at a time). Both are driven by non-blocking
 * steps until the transfer ends. Prints one JSON line: the longest step and the total, in
 * CPU ms. Run it once per process: the trust store is cached per multi handle. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "sd_http.h"
#include "clock.h"

static size_t sink(char *p, size_t size, size_t n, void *ud) {
  (void)p, (void)ud;
  return size * n;
}

int main(int argc, char **argv) {
  if (argc != 3 || (strcmp(argv[2], "curl") != 0 && strcmp(argv[2], "seedream") != 0)) {
    fprintf(stderr, "usage: tls_first URL curl|seedream\n");
    return 2;
  }
  const char *url = argv[1];
  int sd = strcmp(argv[2], "seedream") == 0;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  double worst = 0, c0 = cpu_now();
  int steps = 0, code = -1, verify_failed = 0; /* the expected end: the store was read */
  if (sd) {
    sd_http_config cfg;
    sd_error err;
    sd_http_config_defaults(&cfg);
    cfg.max_retries = 0;
    sd_http *h = sd_http_new(&cfg, &err);
    sd_http_request r;
    memset(&r, 0, sizeof r);
    r.method = SD_HTTP_GET;
    r.url = url;
    r.max_retries = -1;
    if (!h || !sd_http_start(h, &r, &err)) return 1;
    sd_http_done d;
    for (;;) {
      double s0 = cpu_now();
      sd_http_perform(h, 0, &err);
      double s = cpu_now() - s0;
      if (s > worst) worst = s;
      steps++;
      if (sd_http_next(h, &d)) break;
      sd_http_perform(h, 5, &err); /* waiting, not a step: nothing to do but wait */
    }
    code = (int)d.code;
    verify_failed = strstr(d.message, "certificate") != NULL;
    sd_http_done_clear(&d);
    sd_http_free(h);
  } else {
    CURLM *m = curl_multi_init();
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
    curl_multi_add_handle(m, e);
    int running = 1;
    while (running) {
      double s0 = cpu_now();
      curl_multi_perform(m, &running);
      double s = cpu_now() - s0;
      if (s > worst) worst = s;
      steps++;
      if (running) curl_multi_poll(m, NULL, 0, 5, NULL);
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left)) != NULL)
      if (msg->msg == CURLMSG_DONE) code = (int)msg->data.result;
    verify_failed = code == CURLE_PEER_FAILED_VERIFICATION;
    curl_multi_remove_handle(m, e);
    curl_easy_cleanup(e);
    curl_multi_cleanup(m);
  }
  printf("{\"mode\":\"%s\",\"worst_step_ms\":%.3f,\"total_ms\":%.3f,\"steps\":%d,\"code\":%d}\n",
         argv[2], worst * 1e3, (cpu_now() - c0) * 1e3, steps, code);
  curl_global_cleanup();
  if (!verify_failed) fprintf(stderr, "tls_first: expected a certificate failure, got %d\n", code);
  return verify_failed ? 0 : 1;
}
