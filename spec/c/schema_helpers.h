/* schema_helpers.h: what the schema test programs share (test_schema.c: the field rules;
 * test_schema_prepare.c: prepare, max_images and the reference's example requests;
 * test_files.c: request keys). A tiny JSON reader, so that cases can be written as JSON,
 * the JSON writer's output as a string, and the base request the cases extend. Static
 * functions: each test program includes this once, and each uses every one of them. */
#ifndef SCHEMA_HELPERS_H
#define SCHEMA_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_json.h"
#include "sd_value.h"

/* ---- a tiny JSON reader, so cases can be written as JSON (tests only) --------------- */

typedef struct { const char *p; int bad; } rd;

static void rd_ws(rd *r) {
  while (*r->p == ' ' || *r->p == '\n' || *r->p == '\t' || *r->p == '\r') r->p++;
}

static void rd_utf8(sd_buf *b, unsigned cp) {
  if (cp < 0x80) {
    sd_buf_putc(b, (char)cp);
  } else if (cp < 0x800) {
    sd_buf_putc(b, (char)(0xC0 | cp >> 6));
    sd_buf_putc(b, (char)(0x80 | (cp & 63)));
  } else if (cp < 0x10000) {
    sd_buf_putc(b, (char)(0xE0 | cp >> 12));
    sd_buf_putc(b, (char)(0x80 | ((cp >> 6) & 63)));
    sd_buf_putc(b, (char)(0x80 | (cp & 63)));
  } else {
    sd_buf_putc(b, (char)(0xF0 | cp >> 18));
    sd_buf_putc(b, (char)(0x80 | ((cp >> 12) & 63)));
    sd_buf_putc(b, (char)(0x80 | ((cp >> 6) & 63)));
    sd_buf_putc(b, (char)(0x80 | (cp & 63)));
  }
}

static char *rd_string(rd *r, size_t *len) {
  sd_buf b;
  sd_buf_init(&b);
  r->p++; /* opening quote */
  while (*r->p && *r->p != '"') {
    if (*r->p == '\\') {
      r->p++;
      char c = *r->p++;
      switch (c) {
      case 'n': sd_buf_putc(&b, '\n'); break;
      case 't': sd_buf_putc(&b, '\t'); break;
      case 'r': sd_buf_putc(&b, '\r'); break;
      case 'b': sd_buf_putc(&b, '\b'); break;
      case 'f': sd_buf_putc(&b, '\f'); break;
      case 'u': {
        unsigned cp = (unsigned)strtoul((char[5]){r->p[0], r->p[1], r->p[2], r->p[3], 0}, NULL, 16);
        r->p += 4;
        rd_utf8(&b, cp);
        break;
      }
      default: sd_buf_putc(&b, c);
      }
    } else {
      sd_buf_putc(&b, *r->p++);
    }
  }
  if (*r->p != '"') r->bad = 1; else r->p++;
  return sd_buf_detach(&b, len);
}

static sd_value *rd_value(rd *r) {
  rd_ws(r);
  const char *p = r->p;
  if (*p == '{') {
    sd_value *o = sd_value_object();
    r->p++;
    rd_ws(r);
    if (*r->p == '}') { r->p++; return o; }
    for (;;) {
      rd_ws(r);
      if (*r->p != '"') { r->bad = 1; return o; }
      char *k = rd_string(r, NULL);
      rd_ws(r);
      if (*r->p++ != ':') r->bad = 1;
      sd_object_set(o, k, rd_value(r));
      free(k);
      rd_ws(r);
      if (*r->p == ',') { r->p++; continue; }
      if (*r->p == '}') { r->p++; return o; }
      r->bad = 1;
      return o;
    }
  }
  if (*p == '[') {
    sd_value *a = sd_value_array();
    r->p++;
    rd_ws(r);
    if (*r->p == ']') { r->p++; return a; }
    for (;;) {
      sd_array_push(a, rd_value(r));
      rd_ws(r);
      if (*r->p == ',') { r->p++; continue; }
      if (*r->p == ']') { r->p++; return a; }
      r->bad = 1;
      return a;
    }
  }
  if (*p == '"') {
    size_t len;
    char *s = rd_string(r, &len);
    sd_value *v = sd_value_string(s, len);
    free(s);
    return v;
  }
  if (!strncmp(p, "true", 4)) { r->p += 4; return sd_value_bool(1); }
  if (!strncmp(p, "false", 5)) { r->p += 5; return sd_value_bool(0); }
  if (!strncmp(p, "null", 4)) { r->p += 4; return sd_value_null(); }
  char *end;
  double d = strtod(p, &end);
  if (end == p) { r->bad = 1; r->p++; return sd_value_null(); }
  int is_float = 0;
  for (const char *q = p; q < end; q++) if (*q == '.' || *q == 'e' || *q == 'E') is_float = 1;
  r->p = end;
  return is_float ? sd_value_number(d) : sd_value_int(strtoll(p, NULL, 10));
}

static sd_value *parse(const char *json) {
  rd r = {json, 0};
  sd_value *v = rd_value(&r);
  rd_ws(&r);
  if (r.bad || *r.p) {
    fprintf(stderr, "test bug: bad JSON: %s\n", json);
    exit(2);
  }
  return v;
}

static char *to_json(const sd_value *v) {
  sd_buf b;
  sd_buf_init(&b);
  sd_json_write(&b, v);
  return sd_buf_detach(&b, NULL);
}

/* ---- requests --------------------------------------------------------------------- */

/* A valid base request; REQ(", \"x\":1") adds fields. */
#define REQ(extra) "{\"positivePrompt\":\"a cat\",\"width\":2048,\"height\":2048" extra "}"
#define PS(inner) REQ(",\"providerSettings\":{\"bytedance\":{" inner "}}")
#define URL1 "\"https://assets.runware.ai/assets/inputs/a.jpg\""

#endif
