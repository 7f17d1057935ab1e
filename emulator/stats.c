/* stats.c: see stats.h. */
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sd_limits.h"
#include "util.h"

void emu_stats_init(emu_stats *s)
{
#define EMU_X_ZERO(name) atomic_store(&s->name, 0);
  EMU_STATS_LIST(EMU_X_ZERO)
#undef EMU_X_ZERO
}

char *emu_stats_json(const emu_stats *s, long in_flight, size_t *len)
{
  emu_buf b;
  char tmp[96];
  emu_buf_init(&b);
  emu_buf_puts(&b, "{");
#define EMU_X_JSON(name)                                                        \
  snprintf(tmp, sizeof tmp, "\"%s\":%ld,", #name, atomic_load(&s->name));       \
  emu_buf_puts(&b, tmp);
  EMU_STATS_LIST(EMU_X_JSON)
#undef EMU_X_JSON
  /* Every produced image is charged, whether or not the client asked to see the cost. */
  snprintf(tmp, sizeof tmp, "\"cost\":%.6f,\"in_flight\":%ld}",
           (double)atomic_load(&s->images) * SD_COST_PER_IMAGE, in_flight);
  emu_buf_puts(&b, tmp);
  return emu_buf_detach(&b, len);
}

int emu_reqlog_init(emu_reqlog *l)
{
  memset(l, 0, sizeof *l);
  return pthread_mutex_init(&l->lock, NULL) == 0 ? 0 : -1;
}

static void clear_log(emu_reqlog *l)
{
  pthread_mutex_lock(&l->lock);
  for (int i = 0; i < EMU_REQLOG_SIZE; i++) { free(l->bodies[i]); l->bodies[i] = NULL; }
  l->next = 0;
  l->bytes = 0;
  pthread_mutex_unlock(&l->lock);
}

void emu_reqlog_free(emu_reqlog *l)
{
  clear_log(l);
  pthread_mutex_destroy(&l->lock);
}

void emu_reqlog_add(emu_reqlog *l, const char *body, size_t len, int auth)
{
  char note[96];
  if (len > EMU_REQLOG_BODY_MAX) { /* kept as a JSON string saying what it was */
    len = (size_t)snprintf(note, sizeof note, "\"(a body of %zu bytes, not kept)\"", len);
    body = note;
  }
  char *copy = malloc(len + 1);
  if (!copy) return;
  memcpy(copy, body, len);
  copy[len] = '\0';
  pthread_mutex_lock(&l->lock);
  size_t slot = l->next % EMU_REQLOG_SIZE;
  if (l->bodies[slot]) l->bytes -= l->lens[slot];
  free(l->bodies[slot]);
  l->bodies[slot] = copy;
  l->lens[slot] = len;
  l->auth[slot] = auth;
  l->bytes += len;
  l->next++;
  /* over the byte cap: drop the oldest bodies (never the one just added) */
  size_t have = l->next < EMU_REQLOG_SIZE ? l->next : EMU_REQLOG_SIZE;
  for (size_t i = l->next - have; l->bytes > EMU_REQLOG_BYTES && i + 1 < l->next; i++) {
    size_t s = i % EMU_REQLOG_SIZE;
    if (!l->bodies[s]) continue;
    l->bytes -= l->lens[s];
    free(l->bodies[s]);
    l->bodies[s] = NULL;
    l->lens[s] = 0;
  }
  pthread_mutex_unlock(&l->lock);
}

char *emu_reqlog_json(emu_reqlog *l, int n, size_t *len)
{
  cJSON *arr = cJSON_CreateArray();
  if (!arr) return NULL;
  pthread_mutex_lock(&l->lock);
  size_t have = l->next < EMU_REQLOG_SIZE ? l->next : EMU_REQLOG_SIZE;
  if (n < 0) n = 0;
  if ((size_t)n > have) n = (int)have;
  for (size_t i = l->next - (size_t)n; i < l->next; i++) {
    size_t slot = i % EMU_REQLOG_SIZE;
    if (!l->bodies[slot]) continue;                          /* dropped (the byte cap) */
    cJSON *o = cJSON_CreateObject(), *body = cJSON_ParseWithLength(l->bodies[slot], l->lens[slot]);
    if (!body) body = cJSON_CreateString(l->bodies[slot]);   /* malformed: show it raw */
    if (!o || !body) { cJSON_Delete(o); cJSON_Delete(body); continue; }
    cJSON_AddItemToObject(o, "body", body);
    cJSON_AddBoolToObject(o, "auth", l->auth[slot]);
    cJSON_AddItemToArray(arr, o);
  }
  pthread_mutex_unlock(&l->lock);
  char *s = cJSON_PrintUnformatted(arr);
  cJSON_Delete(arr);
  if (s && len) *len = strlen(s);
  return s;
}
