/* sd_http_tables.c: the transport's bookkeeping, plain data structures with no transfer
 * logic: the live table (transfers by id, a chained hash with power-of-two buckets, so
 * cancel is O(1)), the min-heap of retries by due time, and the dense pollfd array of the
 * sockets curl wants watched, kept up to date by the CURLMOPT_SOCKETFUNCTION callback
 * (with an fd -> index map for O(1) updates). Separate from sd_http.c because none of it
 * knows what a transfer does; the structures are declared in sd_http_int.h. */
#include "sd_http_int.h"

#include <curl/curl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

/* ---- live table (hash by id), retry heap ------------------------------------------ */

int sdh_live_grow(sd_http *h) {
  size_t n = h->nbuckets ? h->nbuckets * 2 : 64;
  sd_xfer **b = calloc(n, sizeof *b);
  if (!b) return -1;
  for (size_t i = 0; i < h->nbuckets; i++) {
    sd_xfer *x = h->buckets[i];
    while (x) {
      sd_xfer *next = x->hnext;
      size_t k = (size_t)(x->id & (n - 1));
      x->hnext = b[k];
      b[k] = x;
      x = next;
    }
  }
  free(h->buckets);
  h->buckets = b;
  h->nbuckets = n;
  return 0;
}

void sdh_live_add(sd_http *h, sd_xfer *x) { /* room ensured by the caller */
  size_t k = (size_t)(x->id & (h->nbuckets - 1));
  x->hnext = h->buckets[k];
  h->buckets[k] = x;
  h->nlive++;
}

sd_xfer *sdh_live_find(sd_http *h, uint64_t id) {
  if (!h->nbuckets) return NULL;
  sd_xfer *x = h->buckets[id & (h->nbuckets - 1)];
  while (x && x->id != id) x = x->hnext;
  return x;
}

void sdh_live_remove(sd_http *h, sd_xfer *x) {
  sd_xfer **pp = &h->buckets[x->id & (h->nbuckets - 1)];
  while (*pp && *pp != x) pp = &(*pp)->hnext;
  if (*pp) {
    *pp = x->hnext;
    h->nlive--;
  }
  x->hnext = NULL;
}

static int heap_less(const sd_xfer *a, const sd_xfer *b) {
  return a->retry_at < b->retry_at || (a->retry_at == b->retry_at && a->id < b->id);
}

static void heap_set(sd_http *h, size_t i, sd_xfer *x) {
  h->heap[i] = x;
  x->heap_idx = i;
}

static void heap_up(sd_http *h, size_t i) {
  sd_xfer *x = h->heap[i];
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!heap_less(x, h->heap[p])) break;
    heap_set(h, i, h->heap[p]);
    i = p;
  }
  heap_set(h, i, x);
}

static void heap_down(sd_http *h, size_t i) {
  sd_xfer *x = h->heap[i];
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= h->nheap) break;
    if (c + 1 < h->nheap && heap_less(h->heap[c + 1], h->heap[c])) c++;
    if (!heap_less(h->heap[c], x)) break;
    heap_set(h, i, h->heap[c]);
    i = c;
  }
  heap_set(h, i, x);
}

int sdh_heap_push(sd_http *h, sd_xfer *x) {
  if (h->nheap == h->capheap) {
    size_t n = h->capheap ? h->capheap * 2 : 16;
    sd_xfer **a = realloc(h->heap, n * sizeof *a);
    if (!a) return -1;
    h->heap = a;
    h->capheap = n;
  }
  heap_set(h, h->nheap++, x);
  heap_up(h, h->nheap - 1);
  return 0;
}

void sdh_heap_remove(sd_http *h, sd_xfer *x) {
  size_t i = x->heap_idx;
  sd_xfer *last = h->heap[--h->nheap];
  if (i < h->nheap) {
    heap_set(h, i, last);
    heap_up(h, i);
    heap_down(h, last->heap_idx);
  }
}

/* ---- sockets (CURLMOPT_SOCKETFUNCTION) -------------------------------------------- */

void sdh_sock_forget(sd_http *h, int fd) {
  if (fd < 0 || (size_t)fd >= h->capfdpos || !h->fdpos[fd]) return;
  size_t i = (size_t)h->fdpos[fd] - 1, last = h->npfd - 1;
  if (i != last) {
    h->pfd[i] = h->pfd[last];
    h->fdpos[h->pfd[i].fd] = (int)i + 1;
  }
  h->npfd--;
  h->fdpos[fd] = 0;
}

int sdh_on_socket(CURL *e, curl_socket_t s, int what, void *ud, void *sockp) {
  sd_http *h = ud;
  int fd = (int)s;
  (void)e;
  (void)sockp;
  if (fd < 0) return 0;
  if (what == CURL_POLL_REMOVE) {
    sdh_sock_forget(h, fd);
    return 0;
  }
  short ev = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) | ((what & CURL_POLL_OUT) ? POLLOUT : 0));
  if ((size_t)fd >= h->capfdpos) {
    size_t n = h->capfdpos ? h->capfdpos : 64;
    while (n <= (size_t)fd) n *= 2;
    int *a = realloc(h->fdpos, n * sizeof *a);
    if (!a) return -1;
    memset(a + h->capfdpos, 0, (n - h->capfdpos) * sizeof *a);
    h->fdpos = a;
    h->capfdpos = n;
  }
  if (h->fdpos[fd]) {
    h->pfd[h->fdpos[fd] - 1].events = ev;
    return 0;
  }
  if (h->npfd == h->cappfd) {
    size_t n = h->cappfd ? h->cappfd * 2 : 16;
    struct pollfd *a = realloc(h->pfd, n * sizeof *a);
    if (!a) return -1;
    h->pfd = a;
    h->cappfd = n;
  }
  h->pfd[h->npfd] = (struct pollfd){.fd = fd, .events = ev, .revents = 0};
  h->fdpos[fd] = (int)++h->npfd;
  return 0;
}
