/* deliver.c: see deliver.h. */
#include "deliver.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "api.h"
#include "emu.h"

static void insert(emu_deliver *d, emu_job *j)   /* lock held */
{
  emu_job **p = &d->head;
  while (*p && (*p)->due <= j->due) p = &(*p)->next;
  j->next = *p;
  *p = j;
  pthread_cond_signal(&d->cond);
}

static size_t discard(char *p, size_t size, size_t n, void *u)
{
  (void)p; (void)u;
  return size * n;
}

/* One HTTP attempt; 1 when the receiver answered 2xx. */
static int send_once(CURL *h, const char *url, const char *method, const char *ctype,
                     const void *body, size_t len)
{
  char ct[96];
  snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
  struct curl_slist *hdrs = curl_slist_append(NULL, ct);
  /* No "Expect: 100-continue" wait on big bodies; never an Authorization header. */
  struct curl_slist *h2 = hdrs ? curl_slist_append(hdrs, "Expect:") : NULL;
  if (!h2) { curl_slist_free_all(hdrs); return 0; }
  hdrs = h2;
  curl_easy_reset(h);   /* keeps the connection cache: keep-alive to the receiver */
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)EMU_DELIVER_TIMEOUT_MS);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
  CURLcode rc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(hdrs);
  return rc == CURLE_OK && status >= 200 && status < 300;
}

static int perform(emu_server *srv, CURL *h, const emu_job *j)
{
  const emu_spec *s = &j->img->task->spec;
  int ok = 0;
  if (j->kind == EMU_JOB_WEBHOOK) {
    size_t len;
    char *item = emu_api_item_text(srv, j->img, &len);
    if (item) ok = send_once(h, s->webhook_url, "POST", "application/json", item, len);
    free(item);
    EMU_COUNT(srv, webhook_posts, 1);
    if (!ok) EMU_COUNT(srv, webhook_failures, 1);
  } else {
    emu_blob *b = emu_image_bytes(srv, j->img);
    if (b) ok = send_once(h, s->upload_url, "PUT", emu_format_mime(s->format), b->data, b->len);
    emu_blob_unref(b);
    EMU_COUNT(srv, uploads, ok);
    if (!ok) EMU_COUNT(srv, upload_failures, 1);
  }
  return ok;
}

static void *worker(void *arg)
{
  emu_deliver *d = arg;
  CURL *h = curl_easy_init();
  pthread_mutex_lock(&d->lock);
  while (!d->stopping) {
    emu_job *j = d->head;
    uint64_t now = emu_now_ms();
    if (!j) { pthread_cond_wait(&d->cond, &d->lock); continue; }
    if (j->due > now) {
      struct timespec ts = { (time_t)(j->due / 1000), (long)(j->due % 1000) * 1000000L };
      pthread_cond_timedwait(&d->cond, &d->lock, &ts);
      continue;
    }
    d->head = j->next;
    pthread_mutex_unlock(&d->lock);
    int ok = h && perform(d->srv, h, j);
    pthread_mutex_lock(&d->lock);
    if (!ok && ++j->attempt < EMU_DELIVER_ATTEMPTS && !d->stopping) {
      j->due = emu_now_ms() + ((uint64_t)EMU_DELIVER_BACKOFF_MS << (j->attempt - 1));
      insert(d, j);
    } else {
      free(j);
    }
  }
  pthread_mutex_unlock(&d->lock);
  if (h) curl_easy_cleanup(h);
  return NULL;
}

int emu_deliver_start(emu_deliver *d, emu_server *srv)
{
  pthread_condattr_t ca;
  memset(d, 0, sizeof *d);
  d->srv = srv;
  if (pthread_mutex_init(&d->lock, NULL) != 0) return -1;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  int rc = pthread_cond_init(&d->cond, &ca);
  pthread_condattr_destroy(&ca);
  if (rc != 0) { pthread_mutex_destroy(&d->lock); return -1; }
  for (int i = 0; i < EMU_DELIVER_THREADS; i++) {
    if (pthread_create(&d->threads[i], NULL, worker, d) != 0) break;
    d->n_threads++;
  }
  if (d->n_threads == 0) {
    pthread_cond_destroy(&d->cond);
    pthread_mutex_destroy(&d->lock);
    return -1;
  }
  return 0;
}

static void schedule(emu_deliver *d, const emu_task *t, const char *url, emu_job_kind kind)
{
  if (!url) return;
  if (!emu_url_is_loopback(url)) {   /* tests must never reach out to the world */
    EMU_COUNT(d->srv, deliveries_skipped_nonlocal, t->n_images);
    return;
  }
  pthread_mutex_lock(&d->lock);
  for (int i = 0; i < t->n_images && !d->stopping; i++) {
    emu_job *j = calloc(1, sizeof *j);
    if (!j) break;
    j->due = t->images[i].done_at;
    j->kind = kind;
    j->img = &t->images[i];
    insert(d, j);
  }
  pthread_mutex_unlock(&d->lock);
}

void emu_deliver_task(emu_deliver *d, const emu_task *t)
{
  if (t->failed) return;
  schedule(d, t, t->spec.webhook_url, EMU_JOB_WEBHOOK);
  schedule(d, t, t->spec.upload_url, EMU_JOB_UPLOAD);
}

void emu_deliver_stop(emu_deliver *d)
{
  if (!d->n_threads) return;
  pthread_mutex_lock(&d->lock);
  d->stopping = 1;
  pthread_cond_broadcast(&d->cond);
  pthread_mutex_unlock(&d->lock);
  for (int i = 0; i < d->n_threads; i++) pthread_join(d->threads[i], NULL);
  while (d->head) {
    emu_job *n = d->head->next;
    free(d->head);
    d->head = n;
  }
  pthread_cond_destroy(&d->cond);
  pthread_mutex_destroy(&d->lock);
  d->n_threads = 0;
}
