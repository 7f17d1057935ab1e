/* emu.h: the server context: configuration plus every module's state. One instance, owned
 * by main(), passed to whatever needs it. */
#ifndef EMU_H
#define EMU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "deliver.h"
#include "faults.h"
#include "images.h"
#include "sink.h"
#include "stats.h"
#include "tasks.h"
#include "timer.h"

typedef struct emu_config {
  const char *host;        /* listen address; default 127.0.0.1 */
  int port;                /* 0 = any free port */
  const char *api_key;
  long latency_ms;         /* per image */
  long jitter_ms;          /* + rand(0..jitter) per image */
  int quiet;
  int threads;             /* MHD thread pool size */
  long ttl_unit_ms;        /* length of one ttl "second" (1000; tests shorten it) */
  const char *tls_cert;    /* PEM files: with both, the server speaks HTTPS (HTTP/1.1) */
  const char *tls_key;
  const char *public_url;  /* behind a proxy: the base URL clients use (image URLs start with it) */
  const char *not_found_code; /* getResponse of an unknown taskUUID (default taskNotFound) */
} emu_config;

typedef struct emu_server {
  emu_config cfg;
  char base_url[96];       /* "http(s)://127.0.0.1:PORT" or public_url: image URLs start with it */
  char listen_url[96];     /* where this process listens (what it prints) */
  char *tls_cert_pem, *tls_key_pem;   /* the files' contents, while the daemon runs */
  struct MHD_Daemon *daemon;
  emu_store store;
  emu_cache cache;
  emu_stats stats;
  emu_reqlog reqlog;
  emu_faults faults;
  emu_timer timer;
  emu_deliver deliver;
  emu_sink sink;
  pthread_mutex_t rng_lock;
  uint64_t rng;            /* latency jitter */
} emu_server;

#endif
