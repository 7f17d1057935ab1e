/* raw_multi.c: the floor of benchmark 1: libcurl alone, no seedream.
 *
 *   raw_multi URL KEY N CONCURRENCY [sdopts|pipewait] [rss]
 *
 * Sends N POST requests to URL, each with a body of exactly the shape seedream sends for one
 * sync task ([{"taskType":"imageInference","taskUUID":"<fresh v4>",...}], a fresh UUID v4
 * from sd_uuid_v4 per request), Content-Type application/json and Authorization Bearer KEY;
 * at most CONCURRENCY in flight on ONE multi handle (connections kept alive and reused;
 * CONCURRENCY easy handles, each reused for the next request). Each response is read fully
 * into a buffer; only its HTTP status is checked (200), nothing is parsed.
 *
 * Prints one JSON line: {"n":..,"concurrency":..,"ok":..,"failed":..,"cpu_s":..,"user_s":..,
 * "sys_s":..,"wall_s":..,"cpu_us_per_task":..,"connects":..,"resp_bytes":..}. CPU is
 * getrusage(RUSAGE_SELF) user+sys over the send loop (from before the multi handle is made to
 * after the last response), wall is CLOCK_MONOTONIC over the same span.
 *
 * With "sdopts" the program instead sets, for every transfer, the options seedream's transport
 * (core/sd_http.c, configure()) sets on a reused handle of the same kind: share handle,
 * timeouts, HTTP/1.1 (https: HTTP/2 if ALPN offers it, with PIPEWAIT), no Accept-Encoding,
 * TCP keep-alive probes, header callback, error buffer, and the headers Content-Type,
 * "Expect:" and User-Agent. That row separates what libcurl costs with seedream's options
 * from what the binding and the Lua client add on top.
 *
 * With "pipewait" it keeps the plain options and adds CURLOPT_PIPEWAIT: against an HTTP/2
 * server, the transfers then share one connection instead of opening one each (libcurl's
 * default). That is the cheaper of the two over HTTP/2, so it is benchmark 1c's floor.
 *
 * With "rss" (benchmark 2's floor) it also reports VmHWM from /proc/self/status when the
 * first answer arrives (against a slow emulator: every request is then on the wire) and at
 * the end, as hwm_first_done_kb / hwm_end_kb. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "sd_text.h"
#include "clock.h"

static int sdopts, want_rss, pipewait;
static const char *ca_file;   /* $SEEDREAM_CA_FILE: an https URL with a test certificate */
static CURLSH *share;
static struct curl_slist *hdrs;

typedef struct slot {
  CURL *easy;
  long hdr_status;
  char errbuf[CURL_ERROR_SIZE];
  char body[256];
  size_t body_len;
  char *buf;
  size_t len, cap;
} slot;

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud) {
  slot *s = ud;
  size_t n = size * nmemb;
  if (s->len + n > s->cap) {
    size_t c = s->cap ? s->cap : 1024;
    while (c < s->len + n) c *= 2;
    char *b = realloc(s->buf, c);
    if (!b) return 0;
    s->buf = b;
    s->cap = c;
  }
  memcpy(s->buf + s->len, p, n);
  s->len += n;
  return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud) {
  slot *s = ud;
  size_t n = size * nmemb;
  if (n > 5 && memcmp(p, "HTTP/", 5) == 0) s->hdr_status = atol(p + 9);
  return n;
}

static void configure(slot *s, const char *url) {
  CURL *e = s->easy;
  if (!sdopts) {
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)s);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)s);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    if (ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, ca_file);
    if (pipewait) curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    return;
  }
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)s);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)s);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)s);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_SHARE, share);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 300000L);
  if (strncmp(url, "https:", 6) == 0) { /* as sd_http.c: h2 when offered, wait to multiplex */
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
  } else {
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  }
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, (const char *)NULL);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 15L);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  if (ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, ca_file);
}

static long hwm_kb(void) {
  char line[256];
  long kb = -1;
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "VmHWM:", 6) == 0) kb = atol(line + 6);
  fclose(f);
  return kb;
}


/* A fresh body (new taskUUID) for the slot, then (re)start its transfer. */
static void start(CURLM *multi, slot *s, const char *url) {
  char uuid[37];
  sd_uuid_v4(uuid);
  s->body_len = (size_t)snprintf(s->body, sizeof s->body,
      "[{\"taskType\":\"imageInference\",\"taskUUID\":\"%s\","
      "\"model\":\"bytedance:seedream@5.0-lite\",\"positivePrompt\":\"bench prompt\","
      "\"width\":2048,\"height\":2048}]", uuid);
  s->len = 0;
  if (sdopts) configure(s, url);
  curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE, (long)s->body_len);
  curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body);
  curl_multi_add_handle(multi, s->easy);
}

int main(int argc, char **argv) {
  int bad = argc < 5;
  ca_file = getenv("SEEDREAM_CA_FILE");
  for (int i = 5; i < argc; i++) {
    if (strcmp(argv[i], "sdopts") == 0) sdopts = 1;
    else if (strcmp(argv[i], "rss") == 0) want_rss = 1;
    else if (strcmp(argv[i], "pipewait") == 0) pipewait = 1;
    else bad = 1;
  }
  if (bad) {
    fprintf(stderr, "usage: raw_multi URL KEY N CONCURRENCY [sdopts|pipewait] [rss]\n");
    return 2;
  }
  const char *url = argv[1], *key = argv[2];
  long n = atol(argv[3]), conc = atol(argv[4]);
  if (n < 1 || conc < 1) return 2;
  if (conc > n) conc = n;
  curl_global_init(CURL_GLOBAL_DEFAULT);

  double c0 = cpu_now(), u0 = user_now(), w0 = wall_now();
  char auth[512];
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
  hdrs = curl_slist_append(NULL, "Content-Type: application/json");
  if (sdopts) {
    hdrs = curl_slist_append(hdrs, "Expect:");
    hdrs = curl_slist_append(hdrs, "User-Agent: seedream/0.1.0");
    share = curl_share_init();
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
  hdrs = curl_slist_append(hdrs, auth);
  CURLM *multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, conc);
  slot *slots = calloc((size_t)conc, sizeof *slots);
  long started = 0, ok = 0, failed = 0, connects = 0, hwm_first = -1;
  double resp_bytes = 0;
  for (long i = 0; i < conc; i++) {
    slot *s = &slots[i];
    s->easy = curl_easy_init();
    configure(s, url);
    start(multi, s, url);
    started++;
  }
  int running = 1;
  while (ok + failed < n) {
    curl_multi_perform(multi, &running);
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(multi, &left)) != NULL) {
      if (m->msg != CURLMSG_DONE) continue;
      if (want_rss && hwm_first < 0) hwm_first = hwm_kb();
      CURL *e = m->easy_handle;
      CURLcode rc = m->data.result;
      slot *s = NULL;
      long status = 0, nc = 0;
      curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&s);
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &nc);
      connects += nc;
      curl_multi_remove_handle(multi, e);
      if (rc == CURLE_OK && status == 200 && s->len > 0) ok++;
      else failed++;
      resp_bytes += (double)s->len;
      if (started < n) {
        start(multi, s, url);
        started++;
      }
    }
    if (ok + failed < n) curl_multi_poll(multi, NULL, 0, 1000, NULL);
  }
  for (long i = 0; i < conc; i++) {
    curl_easy_cleanup(slots[i].easy);
    free(slots[i].buf);
  }
  free(slots);
  curl_multi_cleanup(multi);
  curl_slist_free_all(hdrs);
  if (share) curl_share_cleanup(share);
  double cpu = cpu_now() - c0, user = user_now() - u0, wall = wall_now() - w0;

  printf("{\"mode\":\"%s\",\"n\":%ld,\"concurrency\":%ld,\"ok\":%ld,\"failed\":%ld,\"cpu_s\":%.6f,"
         "\"user_s\":%.6f,\"sys_s\":%.6f,\"wall_s\":%.6f,\"cpu_us_per_task\":%.3f,"
         "\"connects\":%ld,\"resp_bytes\":%.0f,\"hwm_first_done_kb\":%ld,\"hwm_end_kb\":%ld}\n",
         sdopts ? "sdopts" : pipewait ? "pipewait" : "plain", n, conc, ok, failed, cpu, user, cpu - user, wall,
         cpu / (double)n * 1e6, connects, resp_bytes, hwm_first, want_rss ? hwm_kb() : -1L);
  curl_global_cleanup();
  return failed ? 1 : 0;
}
