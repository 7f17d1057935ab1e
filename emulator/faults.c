/* faults.c: see faults.h. */
#include "faults.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static const char *const kind_names[] = {
  "status", "drop", "drop_after_processing", "malformed", "truncate", "slow", "empty",
  "short_series", "task_error", NULL
};

int emu_faults_init(emu_faults *f)
{
  memset(f, 0, sizeof *f);
  return pthread_mutex_init(&f->lock, NULL) == 0 ? 0 : -1;
}

static void free_list(emu_fault *q)
{
  while (q) {
    emu_fault *n = q->next;
    free(q);
    q = n;
  }
}

void emu_faults_clear(emu_faults *f)
{
  pthread_mutex_lock(&f->lock);
  free_list(f->request);
  free_list(f->series);
  free_list(f->task_error);
  f->request = f->series = f->task_error = NULL;
  pthread_mutex_unlock(&f->lock);
}

void emu_faults_free(emu_faults *f)
{
  emu_faults_clear(f);
  pthread_mutex_destroy(&f->lock);
}

static int num(const cJSON *o, const char *key, long lo, long hi, long def, long *out)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!v) { *out = def; return 0; }
  if (!cJSON_IsNumber(v) || v->valuedouble < (double)lo || v->valuedouble > (double)hi) return -1;
  *out = (long)v->valuedouble;
  return 0;
}

int emu_faults_add_json(emu_faults *f, const char *body, size_t len, char *msg, size_t n)
{
  cJSON *o = cJSON_ParseWithLength(body, len);
  const cJSON *k = o ? cJSON_GetObjectItemCaseSensitive(o, "kind") : NULL;
  int kind = -1;
  for (int i = 0; cJSON_IsString(k) && kind_names[i]; i++)
    if (strcmp(k->valuestring, kind_names[i]) == 0) kind = i;
  if (!cJSON_IsObject(o) || kind < 0) {
    snprintf(msg, n, "expected a JSON object with \"kind\" one of status, drop, "
             "drop_after_processing, malformed, truncate, slow, empty, short_series, task_error");
    cJSON_Delete(o);
    return -1;
  }
  emu_fault *ft = calloc(1, sizeof *ft);
  long count, status, retry, ms, images;
  if (!ft || num(o, "count", 1, 1000000, 1, &count) || num(o, "status", 100, 599, 503, &status) ||
      num(o, "retry_after", 0, 86400, 0, &retry) || num(o, "ms", 0, 600000, 1000, &ms) ||
      num(o, "images", 1, 300, 1, &images)) {
    snprintf(msg, n, ft ? "count, status, retry_after, ms or images out of range" : "out of memory");
    free(ft);
    cJSON_Delete(o);
    return -1;
  }
  ft->kind = (emu_fault_kind)kind;
  ft->count = (int)count;
  ft->status = (int)status;
  if ((kind == EMU_FAULT_MALFORMED || kind == EMU_FAULT_EMPTY) &&
      !cJSON_GetObjectItemCaseSensitive(o, "status"))
    ft->status = 200;
  ft->retry_after = (int)retry;
  ft->ms = ms;
  ft->images = (int)images;
  const cJSON *code = cJSON_GetObjectItemCaseSensitive(o, "code");
  const char *def = kind == EMU_FAULT_TASK_ERROR ? "contentModerated"
                    : status == 429 ? "rateLimitExceeded" : "serverError";
  snprintf(ft->code, sizeof ft->code, "%s", cJSON_IsString(code) ? code->valuestring : def);
  cJSON_Delete(o);

  pthread_mutex_lock(&f->lock);
  emu_fault **q = kind == EMU_FAULT_SHORT_SERIES ? &f->series
                  : kind == EMU_FAULT_TASK_ERROR ? &f->task_error : &f->request;
  while (*q) q = &(*q)->next;
  *q = ft;
  pthread_mutex_unlock(&f->lock);
  return 0;
}

static int take(emu_faults *f, emu_fault **q, emu_fault *out)
{
  pthread_mutex_lock(&f->lock);
  emu_fault *h = *q;
  if (h) {
    *out = *h;
    out->next = NULL;
    if (--h->count <= 0) {
      *q = h->next;
      free(h);
    }
  }
  pthread_mutex_unlock(&f->lock);
  return h != NULL;
}

int emu_faults_take_request(emu_faults *f, emu_fault *out) { return take(f, &f->request, out); }
int emu_faults_take_series(emu_faults *f, emu_fault *out) { return take(f, &f->series, out); }
int emu_faults_take_task_error(emu_faults *f, emu_fault *out) { return take(f, &f->task_error, out); }

char *emu_faults_json(emu_faults *f, size_t *len)
{
  cJSON *arr = cJSON_CreateArray();
  if (!arr) return NULL;
  pthread_mutex_lock(&f->lock);
  emu_fault *qs[3] = { f->request, f->series, f->task_error };
  for (int i = 0; i < 3; i++)
    for (emu_fault *ft = qs[i]; ft; ft = ft->next) {
      cJSON *o = cJSON_CreateObject();
      if (!o) continue;
      cJSON_AddStringToObject(o, "kind", kind_names[ft->kind]);
      cJSON_AddNumberToObject(o, "count", ft->count);
      if (ft->kind == EMU_FAULT_STATUS) {
        cJSON_AddNumberToObject(o, "status", ft->status);
        cJSON_AddNumberToObject(o, "retry_after", ft->retry_after);
      }
      if (ft->kind == EMU_FAULT_SLOW) cJSON_AddNumberToObject(o, "ms", (double)ft->ms);
      if (ft->kind == EMU_FAULT_SHORT_SERIES) cJSON_AddNumberToObject(o, "images", ft->images);
      if (ft->kind == EMU_FAULT_STATUS || ft->kind == EMU_FAULT_TASK_ERROR)
        cJSON_AddStringToObject(o, "code", ft->code);
      cJSON_AddItemToArray(arr, o);
    }
  pthread_mutex_unlock(&f->lock);
  char *s = cJSON_PrintUnformatted(arr);
  cJSON_Delete(arr);
  if (s && len) *len = strlen(s);
  return s;
}
