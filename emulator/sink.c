/* sink.c: see sink.h. */
#include "sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

int emu_sink_init(emu_sink *s)
{
  memset(s, 0, sizeof *s);
  return pthread_mutex_init(&s->lock, NULL) == 0 ? 0 : -1;
}

void emu_sink_clear(emu_sink *s)
{
  pthread_mutex_lock(&s->lock);
  for (int i = 0; i < EMU_SINK_SIZE; i++) {
    free(s->ring[i].json);
    memset(&s->ring[i], 0, sizeof s->ring[i]);
  }
  s->next = 0;
  pthread_mutex_unlock(&s->lock);
}

void emu_sink_free(emu_sink *s)
{
  emu_sink_clear(s);
  pthread_mutex_destroy(&s->lock);
}

void emu_sink_add(emu_sink *s, const char *method, const char *path, const char *ctype,
                  int auth, const char *body, size_t len)
{
  char *json = NULL;
  if (ctype && strstr(ctype, "json") && (json = malloc(len + 1))) {
    memcpy(json, body, len);
    json[len] = '\0';
  }
  pthread_mutex_lock(&s->lock);
  emu_sink_entry *e = &s->ring[s->next++ % EMU_SINK_SIZE];
  free(e->json);
  snprintf(e->method, sizeof e->method, "%s", method);
  snprintf(e->path, sizeof e->path, "%s", path);
  snprintf(e->ctype, sizeof e->ctype, "%s", ctype ? ctype : "");
  e->magic[0] = '\0';
  for (size_t i = 0; i < len && i < 4; i++)
    snprintf(e->magic + 2 * i, 3, "%02x", (unsigned char)body[i]);
  e->auth = auth;
  e->len = len;
  e->json = json;
  pthread_mutex_unlock(&s->lock);
}

char *emu_sink_json(emu_sink *s, size_t *len)
{
  cJSON *root = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(root, "items");
  if (!items) { cJSON_Delete(root); return NULL; }
  pthread_mutex_lock(&s->lock);
  cJSON_AddNumberToObject(root, "received", (double)s->next);
  size_t have = s->next < EMU_SINK_SIZE ? s->next : EMU_SINK_SIZE;
  for (size_t i = s->next - have; i < s->next; i++) {
    const emu_sink_entry *e = &s->ring[i % EMU_SINK_SIZE];
    cJSON *o = cJSON_CreateObject();
    if (!o) continue;
    cJSON_AddStringToObject(o, "method", e->method);
    cJSON_AddStringToObject(o, "path", e->path);
    cJSON_AddStringToObject(o, "content_type", e->ctype);
    cJSON_AddStringToObject(o, "magic", e->magic);
    cJSON_AddBoolToObject(o, "auth", e->auth);
    cJSON_AddNumberToObject(o, "bytes", (double)e->len);
    cJSON *body = e->json ? cJSON_Parse(e->json) : NULL;
    if (body) cJSON_AddItemToObject(o, "body", body);
    cJSON_AddItemToArray(items, o);
  }
  pthread_mutex_unlock(&s->lock);
  char *out = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  if (out && len) *len = strlen(out);
  return out;
}
