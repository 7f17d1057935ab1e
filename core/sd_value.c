/* sd_value.c: the JSON-shaped value tree (insertion-ordered objects). */
#include "sd_value.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static sd_value *sd_value_new(sd_type t) {
  sd_value *v = calloc(1, sizeof *v);
  if (v) v->type = t;
  return v;
}

sd_value *sd_value_null(void) { return sd_value_new(SD_NULL); }

sd_value *sd_value_bool(int b) {
  sd_value *v = sd_value_new(SD_BOOL);
  if (v) v->u.boolean = b ? 1 : 0;
  return v;
}

sd_value *sd_value_int(long long i) {
  sd_value *v = sd_value_new(SD_NUMBER);
  if (v) {
    v->u.num.n = (double)i;
    v->u.num.is_int = 1;
  }
  return v;
}

sd_value *sd_value_number(double n) {
  sd_value *v = sd_value_new(SD_NUMBER);
  if (v) v->u.num.n = n;
  return v;
}

sd_value *sd_value_string(const char *s, size_t len) {
  sd_value *v = sd_value_new(SD_STRING);
  if (!v) return NULL;
  v->u.str.s = malloc(len + 1);
  if (!v->u.str.s) {
    free(v);
    return NULL;
  }
  if (len) memcpy(v->u.str.s, s, len);
  v->u.str.s[len] = '\0';
  v->u.str.len = len;
  return v;
}

sd_value *sd_value_string_ref(const char *s, size_t len) {
  sd_value *v = sd_value_new(SD_STRING);
  if (!v) return NULL;
  v->u.str.s = (char *)s;
  v->u.str.len = len;
  v->u.str.borrowed = 1;
  return v;
}

sd_value *sd_value_file(const char *path, int kind, int width, int height, long long size) {
  sd_value *v = sd_value_new(SD_FILE);
  size_t n = strlen(path);
  if (!v) return NULL;
  v->u.file.path = malloc(n + 1);
  if (!v->u.file.path) {
    free(v);
    return NULL;
  }
  memcpy(v->u.file.path, path, n + 1);
  v->u.file.kind = kind;
  v->u.file.width = width;
  v->u.file.height = height;
  v->u.file.size = size;
  return v;
}

sd_value *sd_value_array(void) { return sd_value_new(SD_ARRAY); }
sd_value *sd_value_object(void) { return sd_value_new(SD_OBJECT); }

void sd_value_free(sd_value *v) {
  if (!v) return;
  switch (v->type) {
  case SD_STRING:
    if (!v->u.str.borrowed) free(v->u.str.s);
    break;
  case SD_FILE:
    free(v->u.file.path);
    break;
  case SD_ARRAY:
    for (size_t i = 0; i < v->u.arr.n; i++) sd_value_free(v->u.arr.items[i]);
    free(v->u.arr.items);
    break;
  case SD_OBJECT:
    for (size_t i = 0; i < v->u.obj.n; i++) {
      free(v->u.obj.keys[i]);
      sd_value_free(v->u.obj.vals[i]);
    }
    free(v->u.obj.keys);
    free(v->u.obj.vals);
    break;
  default:
    break;
  }
  free(v);
}

int sd_array_push(sd_value *arr, sd_value *item) {
  if (!arr || arr->type != SD_ARRAY || !item) {
    sd_value_free(item);
    return -1;
  }
  if (arr->u.arr.n == arr->u.arr.cap) {
    size_t cap = arr->u.arr.cap ? arr->u.arr.cap * 2 : 4;
    sd_value **items = realloc(arr->u.arr.items, cap * sizeof *items);
    if (!items) {
      sd_value_free(item);
      return -1;
    }
    arr->u.arr.items = items;
    arr->u.arr.cap = cap;
  }
  arr->u.arr.items[arr->u.arr.n++] = item;
  return 0;
}

static long sd_object_index(const sd_value *obj, const char *key) {
  if (!obj || obj->type != SD_OBJECT || !key) return -1;
  for (size_t i = 0; i < obj->u.obj.n; i++) {
    const char *k = obj->u.obj.keys[i];
    if (k[0] == key[0] && strcmp(k, key) == 0) return (long)i;   /* most differ at once */
  }
  return -1;
}

static int sd_object_grow(sd_value *obj) {
  if (obj->u.obj.n < obj->u.obj.cap) return 0;
  size_t cap = obj->u.obj.cap ? obj->u.obj.cap * 2 : 8;
  char **keys = realloc(obj->u.obj.keys, cap * sizeof *keys);
  if (!keys) return -1;
  obj->u.obj.keys = keys;
  sd_value **vals = realloc(obj->u.obj.vals, cap * sizeof *vals);
  if (!vals) return -1;
  obj->u.obj.vals = vals;
  obj->u.obj.cap = cap;
  return 0;
}

int sd_object_insert(sd_value *obj, size_t index, const char *key, sd_value *val) {
  if (!obj || obj->type != SD_OBJECT || !key || !val) {
    sd_value_free(val);
    return -1;
  }
  long at = sd_object_index(obj, key);
  if (at >= 0) { /* replace in place, keeping the key's position */
    sd_value_free(obj->u.obj.vals[at]);
    obj->u.obj.vals[at] = val;
    return 0;
  }
  size_t klen = strlen(key);
  char *k = malloc(klen + 1);
  if (!k || sd_object_grow(obj) != 0) {
    free(k);
    sd_value_free(val);
    return -1;
  }
  memcpy(k, key, klen + 1);
  size_t n = obj->u.obj.n;
  if (index > n) index = n;
  memmove(obj->u.obj.keys + index + 1, obj->u.obj.keys + index, (n - index) * sizeof(char *));
  memmove(obj->u.obj.vals + index + 1, obj->u.obj.vals + index,
          (n - index) * sizeof(sd_value *));
  obj->u.obj.keys[index] = k;
  obj->u.obj.vals[index] = val;
  obj->u.obj.n = n + 1;
  return 0;
}

int sd_object_set(sd_value *obj, const char *key, sd_value *val) {
  return sd_object_insert(obj, (size_t)-1, key, val);
}

sd_value *sd_object_get(const sd_value *obj, const char *key) {
  long i = sd_object_index(obj, key);
  return i < 0 ? NULL : obj->u.obj.vals[i];
}

sd_value *sd_object_take(sd_value *obj, const char *key) {
  long i = sd_object_index(obj, key);
  if (i < 0) return NULL;
  sd_value *v = obj->u.obj.vals[i];
  free(obj->u.obj.keys[i]);
  size_t rest = obj->u.obj.n - (size_t)i - 1;
  memmove(obj->u.obj.keys + i, obj->u.obj.keys + i + 1, rest * sizeof(char *));
  memmove(obj->u.obj.vals + i, obj->u.obj.vals + i + 1, rest * sizeof(sd_value *));
  obj->u.obj.n--;
  return v;
}

int sd_value_is_integer(const sd_value *v) {
  if (!v || v->type != SD_NUMBER) return 0;
  double n = v->u.num.n;
  if (!isfinite(n)) return 0;
  /* [-2^63, 2^63): the range where the cast below is defined. */
  if (!(n >= -9223372036854775808.0 && n < 9223372036854775808.0)) return 0;
  return (double)(long long)n == n;
}
