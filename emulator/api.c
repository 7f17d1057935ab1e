/* api.c: see api.h. */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "emu.h"
#include "sd_limits.h"
#include "sd_text.h"

#define JSON "application/json"

/* Runware keeps uploads at most this many pixels a side. */
#define UPLOAD_SIDE_MAX 2048

/* One POST /v1 being answered. */
typedef struct req {
  emu_server *srv;
  cJSON *data, *errors;
  emu_err first;           /* first error, for the status when nothing succeeded */
  int n_errors;
  uint64_t due;
  int polled;
} req;

static const char *str_field(const cJSON *o, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *error_json(const emu_err *e, const char *task_type, const char *task_uuid)
{
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddStringToObject(o, "code", e->code);
  cJSON_AddStringToObject(o, "message", e->message);
  if (e->parameter[0]) cJSON_AddStringToObject(o, "parameter", e->parameter);
  if (task_type) cJSON_AddStringToObject(o, "taskType", task_type);
  if (task_uuid) cJSON_AddStringToObject(o, "taskUUID", task_uuid);
  cJSON_AddStringToObject(o, "documentation", EMU_DOC_URL);
  return o;
}

static void add_error(req *r, const emu_err *e, const char *task_type, const char *task_uuid)
{
  if (r->n_errors++ == 0) r->first = *e;
  cJSON *o = error_json(e, task_type, task_uuid);
  if (o) cJSON_AddItemToArray(r->errors, o);
}

char *emu_api_error_body(const char *code, const char *message, size_t *len)
{
  emu_err e;
  emu_err_set(&e, 0, code, NULL, "%s", message);
  cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "errors");
  cJSON *o = error_json(&e, NULL, NULL);
  if (arr && o) cJSON_AddItemToArray(arr, o); else cJSON_Delete(o);
  char *s = root ? cJSON_PrintUnformatted(root) : NULL;
  cJSON_Delete(root);
  if (s && len) *len = strlen(s);
  return s;
}

/* ---- result items ---- */

static char *base64_of(const emu_blob *b, const char *prefix)
{
  size_t pl = strlen(prefix), n = sd_base64_encoded_len(b->len);
  char *s = malloc(pl + n + 1);
  if (!s) return NULL;
  memcpy(s, prefix, pl);
  sd_base64_encode(b->data, b->len, s + pl);
  s[pl + n] = '\0';
  return s;
}

/* The item of a finished image; NULL when out of memory. */
static cJSON *item_json(emu_server *srv, const emu_image *img, int with_status)
{
  const emu_task *t = img->task;
  const emu_spec *s = &t->spec;
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddStringToObject(o, "taskType", "imageInference");
  cJSON_AddStringToObject(o, "taskUUID", t->uuid);
  if (with_status) cJSON_AddStringToObject(o, "status", "success");
  cJSON_AddStringToObject(o, "imageUUID", img->uuid);
  if (s->out_type == EMU_OUT_URL) {
    char url[192];
    snprintf(url, sizeof url, "%s/image/%s.%s", srv->base_url, img->uuid,
             emu_format_ext(s->format));
    cJSON_AddStringToObject(o, "imageURL", url);
  } else {
    emu_blob *b = emu_image_bytes(srv, img);   /* rendered now, at answer time */
    char prefix[48] = "";
    if (s->out_type == EMU_OUT_DATAURI)
      snprintf(prefix, sizeof prefix, "data:%s;base64,", emu_format_mime(s->format));
    char *text = b ? base64_of(b, prefix) : NULL;
    emu_blob_unref(b);
    if (!text) { cJSON_Delete(o); return NULL; }
    cJSON_AddStringToObject(o, s->out_type == EMU_OUT_DATAURI ? "imageDataURI" : "imageBase64Data",
                            text);
    free(text);
  }
  cJSON_AddNumberToObject(o, "seed", img->seed);
  if (s->check_content) cJSON_AddBoolToObject(o, "NSFWContent", 0);
  if (s->include_cost) cJSON_AddNumberToObject(o, "cost", SD_COST_PER_IMAGE);
  return o;
}

char *emu_api_item_text(emu_server *srv, const emu_image *img, size_t *len)
{
  cJSON *o = item_json(srv, img, 0);
  char *s = o ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  if (s && len) *len = strlen(s);
  return s;
}

static void add_item(req *r, cJSON *item, const char *task_type, const char *task_uuid)
{
  if (item) { cJSON_AddItemToArray(r->data, item); return; }
  emu_err e;
  emu_err_set(&e, 500, "serverError", NULL, "Out of memory while producing the result.");
  add_error(r, &e, task_type, task_uuid);
}

static cJSON *processing_item(const char *task_uuid)
{
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddStringToObject(o, "taskType", "imageInference");
  cJSON_AddStringToObject(o, "taskUUID", task_uuid);
  cJSON_AddStringToObject(o, "status", "processing");
  return o;
}

/* A polled task that failed: an item with status "error" and the error in it, next to the
 * images it made before, if any. */
static cJSON *failed_item(const emu_task *t)
{
  cJSON *o = cJSON_CreateObject(), *e = cJSON_CreateObject();
  if (!o || !e) { cJSON_Delete(o); cJSON_Delete(e); return NULL; }
  cJSON_AddStringToObject(o, "taskType", "imageInference");
  cJSON_AddStringToObject(o, "taskUUID", t->uuid);
  cJSON_AddStringToObject(o, "status", "error");
  cJSON_AddStringToObject(e, "code", t->err_code);
  cJSON_AddStringToObject(e, "message", t->err_message);
  cJSON_AddItemToObject(o, "error", e);
  return o;
}

/* ---- task types ---- */

static void do_inference(req *r, const cJSON *task)
{
  emu_server *srv = r->srv;
  const char *tt = "imageInference", *uuid = str_field(task, "taskUUID");
  emu_spec spec;
  emu_err e;
  EMU_COUNT(srv, inference_tasks, 1);
  if (emu_validate_inference(srv, task, &spec, &e) != 0) {
    EMU_COUNT(srv, validation_errors, 1);
    add_error(r, &e, tt, uuid);
    return;
  }
  if (emu_store_has_task(&srv->store, uuid)) {
    EMU_COUNT(srv, duplicates, 1);
    emu_spec_free(&spec);
    emu_err_set(&e, 400, "conflictTaskUUID", "taskUUID",
                "A task with taskUUID %s already exists: poll it with getResponse.", uuid);
    add_error(r, &e, tt, uuid);
    return;
  }
  emu_fault f;
  const char *fail = NULL;
  int n = emu_images_per_task(&spec);
  if (emu_faults_take_task_error(&srv->faults, &f)) {
    EMU_COUNT(srv, faults_injected, 1);
    fail = f.code;
  } else if (spec.has_max_seq && emu_faults_take_series(&srv->faults, &f)) {
    EMU_COUNT(srv, faults_injected, 1);
    if (f.images < n) n = f.images;   /* "the model may generate fewer images" */
  }
  emu_task *t = emu_task_create(srv, uuid, &spec, n, fail);
  int rc = t ? emu_store_add_task(&srv->store, t) : -1;
  if (rc != 0) {
    emu_spec_free(&spec);
    emu_task_free(t);
    if (rc == 1) {   /* the same UUID raced in from another request */
      EMU_COUNT(srv, duplicates, 1);
      emu_err_set(&e, 400, "conflictTaskUUID", "taskUUID",
                  "A task with taskUUID %s already exists: poll it with getResponse.", uuid);
    } else {
      emu_err_set(&e, 500, "serverError", NULL, "Out of memory.");
    }
    add_error(r, &e, tt, uuid);
    return;
  }
  if (t->n_images > 0) {
    EMU_COUNT(srv, tasks_charged, 1);
    EMU_COUNT(srv, images, t->n_images);
  }
  emu_deliver_task(&srv->deliver, t);
  if (t->spec.async) {
    add_item(r, processing_item(t->uuid), tt, t->uuid);
    return;
  }
  if (t->spec.webhook_url) {
    /* results go to the webhook: the API acknowledges at once, taskType and taskUUID only
     * (Runware's official SDK treats the sync answer of a webhook task this way) */
    cJSON *ack = cJSON_CreateObject();
    if (ack) {
      cJSON_AddStringToObject(ack, "taskType", "imageInference");
      cJSON_AddStringToObject(ack, "taskUUID", t->uuid);
    }
    add_item(r, ack, tt, t->uuid);
    return;
  }
  if (t->finish_at > r->due) r->due = t->finish_at;   /* sync: answer when all are done */
  if (t->failed) {
    emu_err_set(&e, 400, t->err_code, NULL, "%s", t->err_message);
    add_error(r, &e, tt, t->uuid);
    return;
  }
  for (int i = 0; i < t->n_images; i++) add_item(r, item_json(srv, &t->images[i], 0), tt, t->uuid);
}

static void do_poll(req *r, const cJSON *task)
{
  emu_server *srv = r->srv;
  const char *uuid = str_field(task, "taskUUID");
  emu_err e;
  EMU_COUNT(srv, polls, 1);
  r->polled = 1;
  if (emu_validate_task_uuid(task, &e) != 0) { add_error(r, &e, "getResponse", uuid); return; }
  const emu_task *t = emu_store_find_task(&srv->store, uuid);
  if (!t) {
    emu_err_set(&e, 400, srv->cfg.not_found_code ? srv->cfg.not_found_code : "taskNotFound",
                "taskUUID", "No task with taskUUID %s.", uuid);
    add_error(r, &e, "getResponse", uuid);
    return;
  }
  uint64_t now = emu_now_ms();
  if (t->failed && now >= t->finish_at) {
    add_item(r, failed_item(t), "imageInference", t->uuid);
    return;
  }
  int done = 0;
  for (int i = 0; i < t->n_images; i++)   /* cumulative: every finished image, each poll */
    if (t->images[i].done_at <= now) {
      add_item(r, item_json(srv, &t->images[i], 1), "imageInference", t->uuid);
      done++;
    }
  if (t->failed || done < t->n_images)
    add_item(r, processing_item(t->uuid), "imageInference", t->uuid);
}

static void do_upload(req *r, const cJSON *task)
{
  emu_server *srv = r->srv;
  const char *tt = "imageUpload", *uuid = str_field(task, "taskUUID");
  const char *image = str_field(task, "image");
  emu_err e;
  emu_pixmap full;
  if (emu_validate_task_uuid(task, &e) != 0) { add_error(r, &e, tt, uuid); return; }
  if (!image) {
    if (cJSON_GetObjectItemCaseSensitive(task, "image"))
      emu_err_set(&e, 400, "invalidParameter", "image", "Invalid value for 'image': must be a string.");
    else
      emu_err_set(&e, 400, "missingParameter", "image", "Missing required parameter 'image'.");
    add_error(r, &e, tt, uuid);
    return;
  }
  if (emu_url_is_http(image)) {
    emu_err_set(&e, 400, "invalidParameter", "image",
                "The emulator does not fetch URLs: upload a data URI or base64 image.");
    add_error(r, &e, tt, uuid);
    return;
  }
  if (emu_image_decode(image, strlen(image), "image", &full, &e) != 0) {
    add_error(r, &e, tt, uuid);
    return;
  }
  emu_upload *u = calloc(1, sizeof *u);
  int ok = u && emu_pixmap_thumb(&full, EMU_THUMB_MAX, EMU_THUMB_MAX, &u->thumb) == 0;
  if (ok) {
    sd_uuid_v4(u->uuid);
    u->w = full.w;
    u->h = full.h;
    if (u->w > UPLOAD_SIDE_MAX || u->h > UPLOAD_SIDE_MAX) {   /* stored downscaled */
      int big = u->w > u->h ? u->w : u->h;
      u->w = (int)((long)u->w * UPLOAD_SIDE_MAX / big);
      u->h = (int)((long)u->h * UPLOAD_SIDE_MAX / big);
    }
    ok = emu_store_add_upload(&srv->store, u) == 0;
  }
  emu_pixmap_free(&full);
  if (!ok) {
    if (u) emu_pixmap_free(&u->thumb);
    free(u);
    emu_err_set(&e, 500, "serverError", NULL, "Out of memory.");
    add_error(r, &e, tt, uuid);
    return;
  }
  EMU_COUNT(srv, image_uploads, 1);
  cJSON *o = cJSON_CreateObject();
  if (o) {
    cJSON_AddStringToObject(o, "taskType", tt);
    cJSON_AddStringToObject(o, "taskUUID", uuid);
    cJSON_AddStringToObject(o, "imageUUID", u->uuid);
  }
  add_item(r, o, tt, uuid);
}

static void do_task(req *r, const cJSON *task, int index)
{
  emu_err e;
  char path[32];
  EMU_COUNT(r->srv, tasks, 1);
  snprintf(path, sizeof path, "[%d]", index);
  if (!cJSON_IsObject(task)) {
    emu_err_set(&e, 400, "invalidRequestBody", path, "Each task must be a JSON object.");
    add_error(r, &e, NULL, NULL);
    return;
  }
  const cJSON *tt = cJSON_GetObjectItemCaseSensitive(task, "taskType");
  const char *uuid = str_field(task, "taskUUID");
  if (!tt) {
    emu_err_set(&e, 400, "missingParameter", "taskType", "Missing required parameter 'taskType'.");
    add_error(r, &e, NULL, uuid);
  } else if (cJSON_IsString(tt) && strcmp(tt->valuestring, "imageInference") == 0) {
    do_inference(r, task);
  } else if (cJSON_IsString(tt) && strcmp(tt->valuestring, "getResponse") == 0) {
    do_poll(r, task);
  } else if (cJSON_IsString(tt) && strcmp(tt->valuestring, "imageUpload") == 0) {
    do_upload(r, task);
  } else {
    emu_err_set(&e, 400, "invalidParameter", "taskType",
                "Unsupported taskType: this server knows imageInference, getResponse and imageUpload.");
    add_error(r, &e, cJSON_IsString(tt) ? tt->valuestring : NULL, uuid);
  }
}

/* ---- the request ---- */

static void answer_errors(emu_answer *a, unsigned status, const char *code, const char *msg)
{
  a->status = status;
  a->ctype = JSON;
  a->body = emu_api_error_body(code, msg, &a->len);
}

/* 1 when authz is "Bearer <the key>". */
static int check_auth(emu_server *srv, const char *authz, const char **code)
{
  *code = "invalidApiKey"; /* missing or wrong: 401 invalidApiKey, as the real API */
  if (!authz || !*authz) return 0;
  *code = "invalidApiKey";
  if (strncasecmp(authz, "Bearer ", 7) != 0) return 0;
  authz += 7;
  while (*authz == ' ') authz++;
  return strcmp(authz, srv->cfg.api_key) == 0;
}

static int cmp_keys(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One object's own keys, sorted: O(n log n), so that a request of many keys cannot hold a
 * worker for minutes. -1 when out of memory (the request is then refused too). */
static int object_repeats_a_key(const cJSON *o)
{
  size_t n = 0, i;
  for (const cJSON *c = o->child; c; c = c->next) n++;
  if (n < 2) return 0;
  const char **keys = malloc(n * sizeof *keys);
  if (!keys) return -1;
  i = 0;
  for (const cJSON *c = o->child; c; c = c->next) keys[i++] = c->string ? c->string : "";
  qsort(keys, n, sizeof *keys, cmp_keys);
  int dup = 0;
  for (i = 1; i < n && !dup; i++) dup = strcmp(keys[i - 1], keys[i]) == 0;
  free(keys);
  return dup;
}

/* 1 if an object anywhere in v repeats a key (JSON parsers disagree on which one wins:
 * cJSON keeps the first, JavaScript the last; a request should not depend on it). */
static int has_duplicate_keys(const cJSON *v)
{
  if (!v) return 0;
  if (cJSON_IsObject(v) && object_repeats_a_key(v)) return 1;
  for (const cJSON *c = v->child; c; c = c->next)
    if (has_duplicate_keys(c)) return 1;
  return 0;
}

static void process(emu_server *srv, const char *body, size_t len, emu_answer *a)
{
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
  if (root && end) {                      /* nothing but white space after the value */
    while (end < body + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
      end++;
    if (end != body + len) { cJSON_Delete(root); root = NULL; }
  }
  if (!cJSON_IsArray(root) || cJSON_GetArraySize(root) == 0 || has_duplicate_keys(root)) {
    answer_errors(a, 400, "invalidRequestBody",
                  !root ? "The request body is not valid JSON."
                  : cJSON_IsArray(root) && cJSON_GetArraySize(root) > 0
                      ? "The request body repeats a key in an object."
                      : "The request body must be a non-empty JSON array of tasks.");
    cJSON_Delete(root);
    return;
  }
  req r;
  memset(&r, 0, sizeof r);
  r.srv = srv;
  r.data = cJSON_CreateArray();
  r.errors = cJSON_CreateArray();
  int i = 0;
  for (const cJSON *t = root->child; t && r.data && r.errors; t = t->next) do_task(&r, t, i++);
  cJSON_Delete(root);
  if (r.polled) EMU_COUNT(srv, poll_requests, 1);

  cJSON *out = cJSON_CreateObject();
  int n_data = cJSON_GetArraySize(r.data);
  if (out && (n_data > 0 || r.n_errors == 0)) cJSON_AddItemToObject(out, "data", r.data);
  else cJSON_Delete(r.data);
  if (out && r.n_errors > 0) cJSON_AddItemToObject(out, "errors", r.errors);
  else cJSON_Delete(r.errors);
  a->body = out ? cJSON_PrintUnformatted(out) : NULL;
  cJSON_Delete(out);
  if (!a->body) { answer_errors(a, 500, "serverError", "Out of memory."); return; }
  a->len = strlen(a->body);
  a->ctype = JSON;
  a->status = n_data > 0 || r.n_errors == 0 ? 200 : (unsigned)r.first.status;
  a->due = r.due;
}

/* Faults that mangle an answer the tasks were processed for (so they are charged). */
static void mangle(emu_answer *a, const emu_fault *f)
{
  static const char garbage[] = "<html><body>502 Bad Gateway</body></html>";
  switch (f->kind) {
  case EMU_FAULT_DROP_AFTER:
    a->drop = 1;
    break;
  case EMU_FAULT_MALFORMED:
    free(a->body);
    a->body = strdup(garbage);
    a->len = a->body ? strlen(a->body) : 0;
    a->status = (unsigned)f->status;            /* 200 unless the fault says (a proxy's 403) */
    a->ctype = "text/html";
    break;
  case EMU_FAULT_TRUNCATE:
    a->len /= 2;
    a->status = 200;
    break;
  case EMU_FAULT_EMPTY:
    free(a->body);
    a->body = NULL;
    a->len = 0;
    a->status = (unsigned)f->status;            /* 200 unless the fault says */
    break;
  case EMU_FAULT_SLOW: {
    uint64_t now = emu_now_ms();
    a->due = (a->due > now ? a->due : now) + (uint64_t)f->ms;
    break;
  }
  default:
    break;
  }
}

void emu_api_v1(emu_server *srv, const char *body, size_t len, const char *authz,
                emu_answer *a)
{
  const char *auth_code;
  memset(a, 0, sizeof *a);
  EMU_COUNT(srv, requests, 1);
  int authed = check_auth(srv, authz, &auth_code);
  emu_reqlog_add(&srv->reqlog, body, len, authed);

  emu_fault f;
  int faulted = emu_faults_take_request(&srv->faults, &f);
  if (faulted) {
    EMU_COUNT(srv, faults_injected, 1);
    if (f.kind == EMU_FAULT_DROP) { a->drop = 1; return; }
    if (f.kind == EMU_FAULT_STATUS) {
      answer_errors(a, (unsigned)f.status, f.code,
                    f.status == 429 ? "Too many requests: the queue is full, retry later."
                                    : "Temporary server error (injected by the emulator).");
      a->retry_after = f.retry_after;
      return;
    }
  }
  if (!authed) {
    EMU_COUNT(srv, auth_failures, 1);
    answer_errors(a, 401, auth_code, authz && *authz ? "Invalid API key."
                  : "Missing API key: send 'Authorization: Bearer <key>'.");
  } else {
    process(srv, body, len, a);
  }
  if (faulted) mangle(a, &f);
}
