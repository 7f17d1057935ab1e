/* sd_value.h: a small JSON-shaped value tree.
 *
 * The binding builds one from a Lua table (a C host can build one directly); the schema
 * validates and normalises it in place and the JSON writer serialises it. Objects keep their
 * keys in insertion order so requests are written in a stable, readable order. */
#ifndef SD_VALUE_H
#define SD_VALUE_H

#include <stddef.h>

/* SD_FILE is a local image file that the JSON writer streams as a base64 data URI (so a
 * 10 MB reference is read and encoded once, straight into the request body). */
typedef enum { SD_NULL, SD_BOOL, SD_NUMBER, SD_STRING, SD_ARRAY, SD_OBJECT, SD_FILE } sd_type;

typedef struct sd_value sd_value;

struct sd_value {
  sd_type type;
  union {
    int boolean;
    struct { double n; int is_int; } num;  /* is_int: came from an integer (Lua 5.4 int) */
    struct { char *s; size_t len; int borrowed; } str; /* NUL-terminated, len excludes the NUL;
                                                           borrowed: not ours to free */
    struct { sd_value **items; size_t n, cap; } arr;
    struct { char **keys; sd_value **vals; size_t n, cap; } obj;
    struct { char *path; int kind, width, height; long long size; } file; /* kind: sd_image_kind */
  } u;
};

/* Constructors return NULL on allocation failure. Strings are copied. */
sd_value *sd_value_null(void);
sd_value *sd_value_bool(int b);
sd_value *sd_value_int(long long i);
sd_value *sd_value_number(double n);
sd_value *sd_value_string(const char *s, size_t len);
/* Borrows s (which must be NUL-terminated at len and outlive the value): no copy. The
 * binding uses it for Lua strings, which stay anchored while a request is prepared. */
sd_value *sd_value_string_ref(const char *s, size_t len);
/* A local image file, already sniffed (see sd_file.h); the path is copied. */
sd_value *sd_value_file(const char *path, int kind, int width, int height, long long size);
sd_value *sd_value_array(void);
sd_value *sd_value_object(void);
void sd_value_free(sd_value *v);          /* frees the whole tree; NULL is fine */

/* Containers take ownership of the child, also on failure (it is freed then). 0 ok, -1 nomem.
 * sd_object_set replaces an existing key's value. */
int sd_array_push(sd_value *arr, sd_value *item);
int sd_object_set(sd_value *obj, const char *key, sd_value *val);
/* Like sd_object_set, but a new key goes at position index (0 = first; an index past the
 * end appends). An existing key keeps its position and gets the new value. */
int sd_object_insert(sd_value *obj, size_t index, const char *key, sd_value *val);

sd_value *sd_object_get(const sd_value *obj, const char *key);  /* NULL if absent */
/* Removes the key and returns its value (caller owns it), NULL if absent. */
sd_value *sd_object_take(sd_value *obj, const char *key);

/* True when the number is integral and fits in a long long. */
int sd_value_is_integer(const sd_value *v);

#endif
