/* lsd_answer.c: core.answer(body), a Runware answer decoded and sorted by task in one pass.
 *
 * Every finished API request ends here, so the hot path (a sync answer with one image)
 * should cost a few tables, not a general decode followed by a walk in Lua. The JSON is
 * read straight into Lua values (RFC 8259: strict grammar, \u escapes with surrogate pairs
 * become UTF-8, integers stay integers as in lua_stringtonumber), and the top-level "data"
 * and "errors" arrays are sorted while they are read:
 *
 *   core.answer(body [, keep]) -> { items = { [taskUUID] = {item, ...} },
 *                          errors = { [taskUUID] = raw error item },
 *                          common = { raw error item without a taskUUID, ... },
 *                          has_data = bool, has_errors = bool }
 *                      | nil, "why it is not JSON"
 *
 * A data item with status "error" counts as its task's error unless the "errors" array
 * names that task too (that one wins, whichever comes first in the text). The singular
 * {"error": {...}} form counts as a one-item errors array. null members of objects are left
 * out (an image never carries a null field); a null inside an array is core.null (a light
 * userdata NULL, the same value as cjson.null). With keep (a set: { imageUUID = true, ... })
 * the members of data items are only those it names; the rest are read and dropped, so an
 * image table is ready as it comes out. A top level that is not an object gives
 * empty tables and has_data = has_errors = false. */
#include <string.h>
#include "lsd.h"

#define ANSWER_MAX_DEPTH 64

typedef struct reader {
  lua_State *L;
  int keep;                 /* stack index of the set of item fields to keep, 0: all */
  const char *p, *end, *start;
  const char *why;          /* set on the first syntax error */
} reader;

static int fail(reader *r, const char *why) {
  if (!r->why) r->why = why;
  return 0;
}

static void skip_ws(reader *r) {
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
    r->p++;
}

static int hex4(const char *s, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return 0;
  }
  *out = v;
  return 1;
}

static void add_utf8(luaL_Buffer *b, unsigned cp) {
  char u[4];
  size_t n;
  if (cp < 0x80) { u[0] = (char)cp; n = 1; }
  else if (cp < 0x800) { u[0] = (char)(0xC0 | cp >> 6); u[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
  else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | cp >> 12); u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
  } else {
    u[0] = (char)(0xF0 | cp >> 18); u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
  }
  luaL_addlstring(b, u, n);
}

/* One escape after the backslash at r->p; appends its bytes to b. */
static int read_escape(reader *r, luaL_Buffer *b) {
  unsigned cp, lo;
  if (r->end - r->p < 2) return fail(r, "an unfinished escape");
  char c = r->p[1];
  r->p += 2;
  switch (c) {
  case '"': luaL_addchar(b, '"'); return 1;
  case '\\': luaL_addchar(b, '\\'); return 1;
  case '/': luaL_addchar(b, '/'); return 1;
  case 'b': luaL_addchar(b, '\b'); return 1;
  case 'f': luaL_addchar(b, '\f'); return 1;
  case 'n': luaL_addchar(b, '\n'); return 1;
  case 'r': luaL_addchar(b, '\r'); return 1;
  case 't': luaL_addchar(b, '\t'); return 1;
  case 'u': break;
  default: return fail(r, "an unknown escape");
  }
  if (r->end - r->p < 4 || !hex4(r->p, &cp)) return fail(r, "a bad \\u escape");
  r->p += 4;
  if (cp >= 0xD800 && cp <= 0xDBFF) {            /* a high surrogate needs its low half */
    if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' || !hex4(r->p + 2, &lo) ||
        lo < 0xDC00 || lo > 0xDFFF)
      return fail(r, "a lone UTF-16 surrogate");
    r->p += 6;
    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
  } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
    return fail(r, "a lone UTF-16 surrogate");
  }
  add_utf8(b, cp);
  return 1;
}

/* 1 for the bytes a string copies as they are: not '"', '\\' or a control character. */
static const unsigned char plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* A string at r->p (the opening quote); pushes it. Without escapes it is one
 * lua_pushlstring straight from the body. */
static int read_string(reader *r) {
  const char *s = ++r->p, *q = s;
  while (q < r->end && plain[(unsigned char)*q]) q++;
  if (q < r->end && *q == '"') {
    lua_pushlstring(r->L, s, (size_t)(q - s));
    r->p = q + 1;
    return 1;
  }
  luaL_Buffer b;
  luaL_buffinit(r->L, &b);
  luaL_addlstring(&b, s, (size_t)(q - s));
  r->p = q;
  while (r->p < r->end) {
    unsigned char c = (unsigned char)*r->p;
    if (c == '"') {
      r->p++;
      luaL_pushresult(&b);
      return 1;
    }
    if (c < 0x20) return fail(r, "a control character in a string");
    if (c == '\\') {
      if (!read_escape(r, &b)) return 0;
    } else {
      luaL_addchar(&b, (char)c);
      r->p++;
    }
  }
  return fail(r, "an unterminated string");
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* A number (JSON grammar checked here, converted by Lua: integers stay integers). */
static int read_number(reader *r) {
  const char *s = r->p, *q = s;
  char tmp[64];
  if (q < r->end && *q == '-') q++;
  if (q < r->end && *q == '0') q++;
  else if (q < r->end && is_digit(*q)) while (q < r->end && is_digit(*q)) q++;
  else return fail(r, "a bad number");
  if (q < r->end && *q == '.') {
    q++;
    if (q >= r->end || !is_digit(*q)) return fail(r, "a bad number");
    while (q < r->end && is_digit(*q)) q++;
  }
  if (q < r->end && (*q == 'e' || *q == 'E')) {
    q++;
    if (q < r->end && (*q == '+' || *q == '-')) q++;
    if (q >= r->end || !is_digit(*q)) return fail(r, "a bad number");
    while (q < r->end && is_digit(*q)) q++;
  }
  if ((size_t)(q - s) >= sizeof tmp) return fail(r, "a number too long");
  memcpy(tmp, s, (size_t)(q - s));
  tmp[q - s] = '\0';
  if (lua_stringtonumber(r->L, tmp) == 0) return fail(r, "a bad number");
  r->p = q;
  return 1;
}

static int literal(reader *r, const char *word, size_t n) {
  if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
    return fail(r, "an unexpected character");
  r->p += n;
  return 1;
}

static int read_value(reader *r, int depth);

/* Whether the key on top is in the set at index keep. */
static int is_kept(lua_State *L, int keep) {
  lua_pushvalue(L, -1);
  int found = lua_rawget(L, keep) != LUA_TNIL;
  lua_pop(L, 1);
  return found;
}

/* An object; members whose value is null are left out, and so are those not in the set at
 * stack index keep (when keep is not 0). */
static int read_object(reader *r, int depth, int keep) {
  lua_State *L = r->L;
  r->p++;
  lua_createtable(L, 0, 8);
  skip_ws(r);
  if (r->p < r->end && *r->p == '}') { r->p++; return 1; }
  for (;;) {
    skip_ws(r);
    if (r->p >= r->end || *r->p != '"') return fail(r, "an object key that is not a string");
    if (!read_string(r)) return 0;
    skip_ws(r);
    if (r->p >= r->end || *r->p != ':') return fail(r, "a missing ':'");
    r->p++;
    skip_ws(r);
    if (r->p < r->end && *r->p == 'n') {           /* null: the member is left out */
      if (!literal(r, "null", 4)) return 0;
      lua_pop(L, 1);
    } else if (keep && !is_kept(L, keep)) {        /* read, then dropped */
      if (!read_value(r, depth + 1)) return 0;
      lua_pop(L, 2);
    } else {
      if (!read_value(r, depth + 1)) return 0;
      lua_rawset(L, -3);
    }
    skip_ws(r);
    if (r->p < r->end && *r->p == ',') { r->p++; continue; }
    if (r->p < r->end && *r->p == '}') { r->p++; return 1; }
    return fail(r, "a missing ',' or '}'");
  }
}

static int read_array(reader *r, int depth) {
  lua_State *L = r->L;
  lua_Integer n = 0;
  r->p++;
  lua_createtable(L, 4, 0);
  skip_ws(r);
  if (r->p < r->end && *r->p == ']') { r->p++; return 1; }
  for (;;) {
    if (!read_value(r, depth + 1)) return 0;
    lua_rawseti(L, -2, ++n);
    skip_ws(r);
    if (r->p < r->end && *r->p == ',') { r->p++; continue; }
    if (r->p < r->end && *r->p == ']') { r->p++; return 1; }
    return fail(r, "a missing ',' or ']'");
  }
}

/* Any value at r->p (after white space); pushes it. */
static int read_value(reader *r, int depth) {
  skip_ws(r);
  if (r->p >= r->end) return fail(r, "an unexpected end");
  if (depth > ANSWER_MAX_DEPTH) return fail(r, "nesting too deep");
  luaL_checkstack(r->L, 4, "seedream: nested answer");
  switch (*r->p) {
  case '{': return read_object(r, depth, 0);
  case '[': return read_array(r, depth);
  case '"': return read_string(r);
  case 't': lua_pushboolean(r->L, 1); return literal(r, "true", 4);
  case 'f': lua_pushboolean(r->L, 0); return literal(r, "false", 5);
  case 'n': lua_pushlightuserdata(r->L, NULL); return literal(r, "null", 4);
  default: return read_number(r);
  }
}

/* Stack slots of the result while the top level is read. FAILED and COMMON stay nil
 * until something goes there (most answers have neither). */
/* S_SINGLE: a top-level "error" object, filed once the whole top level is read; S_TOP: the
 * top level's own "taskUUID", which names that error's task when it does not itself */
enum { S_ITEMS = 1, S_ERRORS, S_FAILED, S_COMMON, S_SINGLE, S_TOP };

static void need_table(lua_State *L, int at) {
  if (lua_isnil(L, at)) {
    lua_createtable(L, 0, 0);
    lua_replace(L, at);
  }
}

/* The taskUUID of the table on top, pushed (or nil pushed when it has none). */
static int push_task_uuid(lua_State *L) {
  if (lua_getfield(L, -1, "taskUUID") == LUA_TSTRING) return 1;
  lua_pop(L, 1);
  /* an error may name its task only in its context (the legacy SDK reads it there) */
  if (lua_getfield(L, -1, "context") == LUA_TTABLE) {
    if (lua_getfield(L, -1, "taskUUID") == LUA_TSTRING) {
      lua_remove(L, -2);
      return 1;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_pushnil(L);
  return 0;
}

/* Files the table on top (popped) under its taskUUID in the map at slot, unless one is
 * there already (the first one wins); one without a taskUUID goes to common, or is dropped
 * when common is 0. */
static void file_first(reader *r, int base, int slot, int common) {
  lua_State *L = r->L;
  need_table(L, base + slot);
  if (!push_task_uuid(L)) {
    lua_pop(L, 1);
    if (common) {
      need_table(L, base + S_COMMON);
      lua_rawseti(L, base + S_COMMON, (lua_Integer)lua_rawlen(L, base + S_COMMON) + 1);
    } else {
      lua_pop(L, 1);
    }
    return;
  }
  lua_pushvalue(L, -1);
  if (lua_rawget(L, base + slot) != LUA_TNIL) {
    lua_pop(L, 3);
    return;
  }
  lua_pop(L, 1);
  lua_insert(L, -2);                  /* uuid, item */
  lua_rawset(L, base + slot);
}

/* A data item (on top, popped): an image or a status, listed under its task; a failed one
 * is kept aside as that task's error. Items that are not objects with a taskUUID go. */
static void file_item(reader *r, int base) {
  lua_State *L = r->L;
  if (!lua_istable(L, -1)) { lua_pop(L, 1); return; }
  if (lua_getfield(L, -1, "status") == LUA_TSTRING &&
      strcmp(lua_tostring(L, -1), "error") == 0) {
    lua_pop(L, 1);
    file_first(r, base, S_FAILED, 0);
    return;
  }
  lua_pop(L, 1);
  if (!push_task_uuid(L)) { lua_pop(L, 2); return; }
  lua_pushvalue(L, -1);
  if (lua_rawget(L, base + S_ITEMS) == LUA_TNIL) {   /* uuid -> a new list */
    lua_pop(L, 1);
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, -2);
    lua_pushvalue(L, -2);
    lua_rawset(L, base + S_ITEMS);
  }
  lua_pushvalue(L, -3);
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  lua_pop(L, 3);
}

/* The array of "data" or "errors" at r->p, each element filed as it is read. */
static int read_sorted(reader *r, int base, int is_data) {
  lua_State *L = r->L;
  r->p++;
  skip_ws(r);
  if (r->p < r->end && *r->p == ']') { r->p++; return 1; }
  for (;;) {
    skip_ws(r);
    if (is_data && r->keep && r->p < r->end && *r->p == '{') {
      luaL_checkstack(L, 4, "seedream: answer");
      if (!read_object(r, 2, r->keep)) return 0;
    } else if (!read_value(r, 2)) {
      return 0;
    }
    if (is_data) file_item(r, base);
    else if (lua_istable(L, -1)) file_first(r, base, S_ERRORS, 1);
    else lua_pop(L, 1);
    skip_ws(r);
    if (r->p < r->end && *r->p == ',') { r->p++; continue; }
    if (r->p < r->end && *r->p == ']') { r->p++; return 1; }
    return fail(r, "a missing ',' or ']'");
  }
}

/* The top-level object: data/errors/error sorted, every other member read and dropped. */
static int read_top(reader *r, int base, int *has_data, int *has_errors) {
  lua_State *L = r->L;
  r->p++;
  skip_ws(r);
  if (r->p < r->end && *r->p == '}') { r->p++; return 1; }
  for (;;) {
    size_t klen;
    const char *key;
    skip_ws(r);
    if (r->p >= r->end || *r->p != '"') return fail(r, "an object key that is not a string");
    if (!read_string(r)) return 0;
    key = lua_tolstring(L, -1, &klen);
    skip_ws(r);
    if (r->p >= r->end || *r->p != ':') return fail(r, "a missing ':'");
    r->p++;
    skip_ws(r);
    if (r->p < r->end && *r->p == '[' && klen == 4 && memcmp(key, "data", 4) == 0) {
      *has_data = 1;
      if (!read_sorted(r, base, 1)) return 0;
    } else if (r->p < r->end && *r->p == '[' && klen == 6 && memcmp(key, "errors", 6) == 0) {
      *has_errors = 1;
      if (!read_sorted(r, base, 0)) return 0;
    } else if (r->p < r->end && *r->p == '{' && klen == 5 && memcmp(key, "error", 5) == 0) {
      *has_errors = 1;
      if (!read_value(r, 1)) return 0;
      lua_replace(L, base + S_SINGLE);
    } else if (r->p < r->end && *r->p == '"' && klen == 8 && memcmp(key, "taskUUID", 8) == 0) {
      if (!read_string(r)) return 0;
      lua_replace(L, base + S_TOP);
    } else {
      if (!read_value(r, 1)) return 0;
      lua_pop(L, 1);
    }
    lua_pop(L, 1);                                  /* the key */
    skip_ws(r);
    if (r->p < r->end && *r->p == ',') { r->p++; continue; }
    if (r->p < r->end && *r->p == '}') { r->p++; break; }
    return fail(r, "a missing ',' or '}'");
  }
  if (lua_istable(L, base + S_SINGLE)) {
    /* {"error": {...}, "taskUUID": ...}: the task is named beside the error */
    lua_pushvalue(L, base + S_SINGLE);
    if (lua_isstring(L, base + S_TOP)) {
      if (push_task_uuid(L)) {
        lua_pop(L, 1);
      } else {
        lua_pop(L, 1);
        lua_pushvalue(L, base + S_TOP);
        lua_setfield(L, -2, "taskUUID");
      }
    }
    file_first(r, base, S_ERRORS, 1);
  }
  return 1;
}

int lsd_answer(lua_State *L) {
  size_t len;
  const char *body = luaL_checklstring(L, 1, &len);
  reader r = {L, 0, body, body + len, body, NULL};
  int has_data = 0, has_errors = 0, ok, base;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    r.keep = 2;
  }
  lua_settop(L, 2);
  base = lua_gettop(L);
  lua_createtable(L, 0, 1);                         /* S_ITEMS */
  lua_createtable(L, 0, 0);                         /* S_ERRORS */
  lua_pushnil(L);                                   /* S_FAILED */
  lua_pushnil(L);                                   /* S_COMMON */
  lua_pushnil(L);                                   /* S_SINGLE */
  lua_pushnil(L);                                   /* S_TOP */
  skip_ws(&r);
  if (r.p < r.end && *r.p == '{') {
    ok = read_top(&r, base, &has_data, &has_errors);
  } else {
    ok = read_value(&r, 0);
    if (ok) lua_pop(L, 1);                          /* valid JSON, but not an answer */
  }
  if (ok) {
    skip_ws(&r);
    if (r.p != r.end) ok = fail(&r, "text after the JSON value");
  }
  if (!ok) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s at byte %d", r.why ? r.why : "bad JSON", (int)(r.p - r.start) + 1);
    return 2;
  }
  lua_settop(L, base + S_COMMON);
  /* failed data items become errors of tasks the errors array did not name */
  if (!lua_isnil(L, base + S_FAILED)) lua_pushnil(L);
  while (!lua_isnil(L, base + S_FAILED) && lua_next(L, base + S_FAILED)) {
    lua_pushvalue(L, -2);
    if (lua_rawget(L, base + S_ERRORS) == LUA_TNIL) {
      lua_pop(L, 1);
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, base + S_ERRORS);
    } else {
      lua_pop(L, 2);
    }
  }
  lua_createtable(L, 0, 5);
  lua_pushvalue(L, base + S_ITEMS);
  lua_setfield(L, -2, "items");
  lua_pushvalue(L, base + S_ERRORS);
  lua_setfield(L, -2, "errors");
  if (!lua_isnil(L, base + S_COMMON)) {
    lua_pushvalue(L, base + S_COMMON);
    lua_setfield(L, -2, "common");
  }
  lua_pushboolean(L, has_data);
  lua_setfield(L, -2, "has_data");
  lua_pushboolean(L, has_errors);
  lua_setfield(L, -2, "has_errors");
  return 1;
}
