/* core_http.c: benchmark 1's middle row: seedream's C transport (core/sd_http.c) alone,
 * without Lua, the binding or request validation.
 *
 *   core_http URL KEY N CONCURRENCY
 *
 * Same bodies as raw_multi (a fresh UUID v4 each, written with snprintf), at most
 * CONCURRENCY in flight through one sd_http (max_connections = CONCURRENCY + 1, as the Lua
 * client configures it), driven by sd_http_perform(h, 50 ms) / sd_http_next like
 * client:step(0.05) does. Only the status (200) of each answer is checked. Prints one JSON
 * line with the same fields as raw_multi. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "sd_http.h"
#include "sd_text.h"
#include "clock.h"


static int post(sd_http *h, const char *url, const char *key) {
  char uuid[37], body[256];
  sd_error err;
  sd_uuid_v4(uuid);
  int n = snprintf(body, sizeof body,
      "[{\"taskType\":\"imageInference\",\"taskUUID\":\"%s\","
      "\"model\":\"bytedance:seedream@5.0-lite\",\"positivePrompt\":\"bench prompt\","
      "\"width\":2048,\"height\":2048}]", uuid);
  sd_http_request r;
  memset(&r, 0, sizeof r);
  r.method = SD_HTTP_POST;
  r.url = url;
  r.bearer = key;
  r.body = body;
  r.body_len = (size_t)n;
  r.max_retries = -1;
  if (!sd_http_start(h, &r, &err)) {
    fprintf(stderr, "core_http: %s\n", err.message);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: core_http URL KEY N CONCURRENCY\n");
    return 2;
  }
  const char *url = argv[1], *key = argv[2];
  long n = atol(argv[3]), conc = atol(argv[4]);
  if (n < 1 || conc < 1) return 2;
  if (conc > n) conc = n;

  double c0 = cpu_now(), u0 = user_now(), w0 = wall_now();
  sd_http_config cfg;
  sd_error err;
  sd_http_config_defaults(&cfg);
  cfg.ca_file = getenv("SEEDREAM_CA_FILE");   /* an https URL with a test certificate */
  cfg.max_connections = (int)conc + 1;
  sd_http *h = sd_http_new(&cfg, &err);
  if (!h) {
    fprintf(stderr, "core_http: %s\n", err.message);
    return 1;
  }
  long started = 0, ok = 0, failed = 0;
  double resp_bytes = 0;
  for (; started < conc; started++)
    if (post(h, url, key) != 0) return 1;
  while (ok + failed < n) {
    if (sd_http_perform(h, 50, &err) < 0) {
      fprintf(stderr, "core_http: %s\n", err.message);
      return 1;
    }
    sd_http_done d;
    while (sd_http_next(h, &d)) {
      if (d.code == SD_OK && d.status == 200 && d.body_len > 0) ok++;
      else failed++;
      resp_bytes += (double)d.body_len;
      sd_http_done_clear(&d);
      if (started < n) {
        if (post(h, url, key) != 0) return 1;
        started++;
      }
    }
  }
  sd_http_stats st;
  sd_http_get_stats(h, &st);
  sd_http_free(h);
  double cpu = cpu_now() - c0, user = user_now() - u0, wall = wall_now() - w0;
  printf("{\"mode\":\"sd_http\",\"n\":%ld,\"concurrency\":%ld,\"ok\":%ld,\"failed\":%ld,"
         "\"cpu_s\":%.6f,\"user_s\":%.6f,\"sys_s\":%.6f,\"wall_s\":%.6f,"
         "\"cpu_us_per_task\":%.3f,\"connects\":%llu,\"resp_bytes\":%.0f}\n",
         n, conc, ok, failed, cpu, user, cpu - user, wall, cpu / (double)n * 1e6,
         (unsigned long long)st.connects, resp_bytes);
  return failed ? 1 : 0;
}
