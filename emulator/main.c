/* main.c: seedream-emulator, a local Runware-compatible server for Seedream 5.0 Lite.
 *
 *   seedream-emulator --port N --api-key KEY [--host 127.0.0.1] [--latency-ms N]
 *                     [--jitter-ms N] [--threads N] [--ttl-unit-ms N]
 *                     [--tls-cert PEM --tls-key PEM] [--public-url URL] [--quiet]
 *
 * Prints exactly one line, the API URL it listens on (http(s)://127.0.0.1:<port>/v1; a
 * proxy in front is pointed there, --public-url then names the proxy), once it listens,
 * and runs until SIGINT or SIGTERM, then frees everything and exits 0. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <curl/curl.h>

#include "encode.h"
#include "server.h"

static void usage(FILE *f)
{
  fprintf(f,
    "usage: seedream-emulator --port N --api-key KEY [--host ADDR] [--latency-ms N]\n"
    "                         [--jitter-ms N] [--threads N] [--ttl-unit-ms N]\n"
    "                         [--tls-cert PEM --tls-key PEM] [--public-url URL]\n"
    "                         [--not-found-code CODE] [--quiet]\n"
    "  --port N        port to listen on; 0 picks a free one (default 0)\n"
    "  --api-key KEY   the Bearer key clients must send (default: $RUNWARE_API_KEY)\n"
    "  --host ADDR     listen address (default 127.0.0.1)\n"
    "  --latency-ms N  each image of a task takes N ms after the previous one (default 0)\n"
    "  --jitter-ms N   plus a random 0..N ms per image (default 0)\n"
    "  --threads N     HTTP thread pool size (default 4)\n"
    "  --ttl-unit-ms N one second of a task's ttl lasts N ms (default 1000; for tests)\n"
    "  --tls-cert PEM  with --tls-key: serve HTTPS (HTTP/1.1) with this certificate\n"
    "  --tls-key PEM   the certificate's private key\n"
    "  --public-url URL behind a proxy (e.g. an HTTP/2 TLS front): the base URL clients use,\n"
    "                  so image URLs point there (https://127.0.0.1:8443); the printed line\n"
    "                  stays the address this process listens on\n"
    "  --not-found-code CODE  the error code getResponse gives for an unknown taskUUID\n"
    "                  (default taskNotFound; Runware's SDKs also know taskFailedOrNotFound)\n"
    "  --quiet         no log lines on stderr\n"
    "Prints the API URL on stdout when ready; stops on SIGINT/SIGTERM.\n");
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
  char *end;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

/* An http(s) origin that fits base_url, with no path: image URLs are built on it. */
static int valid_public_url(const char *s)
{
  size_t n = strlen(s);
  if (n >= 80) return 0;
  const char *host = strncmp(s, "https://", 8) == 0 ? s + 8
                   : strncmp(s, "http://", 7) == 0  ? s + 7 : NULL;
  if (!host || !*host) return 0;
  const char *slash = strchr(host, '/');
  return !slash || slash[strspn(slash, "/")] == '\0';
}

/* Accepts "--flag value" and "--flag=value". */
static int parse_args(int argc, char **argv, emu_config *cfg)
{
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *val = NULL, *eq = strchr(a, '=');
    char name[32];
    size_t n = eq ? (size_t)(eq - a) : strlen(a);
    if (n >= sizeof name) n = sizeof name - 1;
    memcpy(name, a, n);
    name[n] = '\0';
    if (strcmp(name, "--quiet") == 0) { cfg->quiet = 1; continue; }
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) { usage(stdout); exit(0); }
    if (eq) val = eq + 1;
    else if (i + 1 < argc) val = argv[++i];
    if (!val) { fprintf(stderr, "seedream-emulator: %s needs a value\n", name); return -1; }
    long v = 0;
    if (strcmp(name, "--host") == 0) cfg->host = val;
    else if (strcmp(name, "--api-key") == 0) cfg->api_key = val;
    else if (strcmp(name, "--port") == 0 && parse_long(val, 0, 65535, &v) == 0) cfg->port = (int)v;
    else if (strcmp(name, "--latency-ms") == 0 && parse_long(val, 0, 3600000, &v) == 0) cfg->latency_ms = v;
    else if (strcmp(name, "--jitter-ms") == 0 && parse_long(val, 0, 3600000, &v) == 0) cfg->jitter_ms = v;
    else if (strcmp(name, "--threads") == 0 && parse_long(val, 1, 64, &v) == 0) cfg->threads = (int)v;
    else if (strcmp(name, "--ttl-unit-ms") == 0 && parse_long(val, 1, 1000, &v) == 0) cfg->ttl_unit_ms = v;
    else if (strcmp(name, "--tls-cert") == 0) cfg->tls_cert = val;
    else if (strcmp(name, "--tls-key") == 0) cfg->tls_key = val;
    else if (strcmp(name, "--public-url") == 0 && valid_public_url(val)) cfg->public_url = val;
    else if (strcmp(name, "--not-found-code") == 0 && *val && strlen(val) < 48) cfg->not_found_code = val;
    else {
      fprintf(stderr, "seedream-emulator: bad option %s %s\n", name, val);
      return -1;
    }
  }
  if (!cfg->tls_cert != !cfg->tls_key) {
    fprintf(stderr, "seedream-emulator: --tls-cert and --tls-key go together\n");
    return -1;
  }
  if (!cfg->api_key || !*cfg->api_key) {
    fprintf(stderr, "seedream-emulator: --api-key is required\n");
    return -1;
  }
  return 0;
}

/* Benchmarks open thousands of connections: allow as many descriptors as the hard limit. */
static void raise_fd_limit(void)
{
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

int main(int argc, char **argv)
{
  emu_server srv;
  memset(&srv, 0, sizeof srv);
  srv.cfg.host = "127.0.0.1";
  srv.cfg.threads = 4;
  srv.cfg.ttl_unit_ms = 1000;
  srv.cfg.api_key = getenv("RUNWARE_API_KEY");
  if (parse_args(argc, argv, &srv.cfg) != 0) { usage(stderr); return 2; }

  /* Signals are taken synchronously by sigwait below; every thread inherits the mask. */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  signal(SIGPIPE, SIG_IGN);
  /* Started by `seedream emulator` (a Lua process in between): stop with it, even when it
   * is killed outright, instead of living on under init. */
  const char *parent = getenv("SEEDREAM_EMULATOR_PARENT");
  if (parent && *parent) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if ((long)getppid() != strtol(parent, NULL, 10)) return 1;   /* it is gone already */
  }
  raise_fd_limit();
  curl_global_init(CURL_GLOBAL_DEFAULT);
  emu_encode_init();

  if (emu_server_start(&srv) != 0) { curl_global_cleanup(); return 1; }
  printf("%s/v1\n", srv.listen_url);
  fflush(stdout);
  if (!srv.cfg.quiet)
    fprintf(stderr, "seedream-emulator: listening on %s (latency %ld ms, jitter %ld ms)%s%s\n",
            srv.listen_url, srv.cfg.latency_ms, srv.cfg.jitter_ms,
            srv.cfg.public_url ? ", public URL " : "", srv.cfg.public_url ? srv.base_url : "");

  int sig = 0;
  sigwait(&stop, &sig);
  if (!srv.cfg.quiet) fprintf(stderr, "seedream-emulator: signal %d, stopping\n", sig);
  emu_server_stop(&srv);
  curl_global_cleanup();
  return 0;
}
