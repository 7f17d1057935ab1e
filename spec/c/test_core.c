/* test_core.c: unit tests of sd_error, sd_text (UTF-8, UUID, base64), sd_value, sd_json. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "minitest.h"
#include "sd_error.h"
#include "sd_json.h"
#include "sd_limits.h"
#include "sd_text.h"
#include "sd_value.h"

/* ---- sd_error --------------------------------------------------------------------- */

static void test_error(void) {
  sd_error e;
  CHECK_STR(sd_code_name(SD_OK), "ok");
  CHECK_STR(sd_code_name(SD_EINVALID), "invalid");
  CHECK_STR(sd_code_name(SD_ENOKEY), "missing_key");
  CHECK_STR(sd_code_name(SD_EPROTOCOL), "bad_response");
  CHECK_STR(sd_code_name(SD_EBUDGET), "budget");
  CHECK_STR(sd_code_name(SD_ERROR_COUNT), "unknown");
  CHECK_STR(sd_code_name((sd_code)-1), "unknown");
  CHECK_EQ_INT(sd_code_retryable(SD_ENETWORK), 1);
  CHECK_EQ_INT(sd_code_retryable(SD_ETIMEOUT), 1);
  CHECK_EQ_INT(sd_code_retryable(SD_EINVALID), 0);
  CHECK_EQ_INT(sd_code_retryable(SD_ERROR_COUNT), 0);

  CHECK_EQ_INT(sd_error_set(&e, SD_EINVALID, "width", "width: %d is bad", 7), SD_EINVALID);
  CHECK_EQ_INT(e.code, SD_EINVALID);
  CHECK_STR(e.field, "width");
  CHECK_STR(e.message, "width: 7 is bad");
  sd_error_set(&e, SD_EIO, NULL, "no file");
  CHECK_STR(e.field, "");
  CHECK_STR(e.message, "no file");
  /* long text is truncated, never overflows */
  char big[2000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  sd_error_set(&e, SD_EHTTP, big, "%s", big);
  CHECK_EQ_INT(strlen(e.field), SD_FIELD_MAX - 1);
  CHECK_EQ_INT(strlen(e.message), SD_MESSAGE_MAX - 1);
  sd_error_clear(&e);
  CHECK_EQ_INT(e.code, SD_OK);
  CHECK_STR(e.field, "");
  CHECK_STR(e.message, "");
  CHECK_EQ_INT(sd_error_set(NULL, SD_ENOMEM, NULL, "x"), SD_ENOMEM);
}

/* ---- UTF-8 ------------------------------------------------------------------------ */

#define U8(s) sd_utf8_count(s, sizeof(s) - 1)

static void test_utf8(void) {
  CHECK_EQ_INT(U8(""), 0);
  CHECK_EQ_INT(sd_utf8_count(NULL, 0), 0);
  CHECK_EQ_INT(U8("hello"), 5);
  CHECK_EQ_INT(U8("h\xC3\xA9llo"), 5);                 /* é */
  CHECK_EQ_INT(U8("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"), 3); /* 日本語 */
  CHECK_EQ_INT(U8("\xF0\x9F\x98\x80"), 1);             /* U+1F600 */
  CHECK_EQ_INT(U8("\xF4\x8F\xBF\xBF"), 1);             /* U+10FFFF */
  CHECK_EQ_INT(U8("\xEF\xBF\xBF"), 1);                 /* U+FFFF */
  CHECK_EQ_INT(U8("\xED\x9F\xBF"), 1);                 /* U+D7FF */
  CHECK_EQ_INT(U8("\xEE\x80\x80"), 1);                 /* U+E000 */
  CHECK_EQ_INT(U8("\xC2\x80"), 1);                     /* U+0080 */
  CHECK_EQ_INT(U8("\xE0\xA0\x80"), 1);                 /* U+0800 */
  CHECK_EQ_INT(U8("\xF0\x90\x80\x80"), 1);             /* U+10000 */
  CHECK_EQ_INT(sd_utf8_count("a\0b", 3), 3);           /* NUL is a code point */
  /* ASCII fast path boundaries: multi-byte chars at every offset of a 16-byte run */
  for (int at = 0; at < 16; at++) {
    char buf[20];
    memset(buf, 'a', sizeof buf);
    buf[at] = (char)0xC3;
    buf[at + 1] = (char)0xA9;
    CHECK_EQ_INT(sd_utf8_count(buf, 18), 17);
    buf[at + 1] = 'a'; /* truncated sequence */
    CHECK_EQ_INT(sd_utf8_count(buf, 18), -1);
  }
  /* invalid */
  CHECK_EQ_INT(U8("\x80"), -1);                 /* lone continuation */
  CHECK_EQ_INT(U8("a\xBF"), -1);
  CHECK_EQ_INT(U8("\xC0\x80"), -1);             /* overlong NUL */
  CHECK_EQ_INT(U8("\xC1\xBF"), -1);             /* overlong */
  CHECK_EQ_INT(U8("\xE0\x80\x80"), -1);         /* overlong 3-byte */
  CHECK_EQ_INT(U8("\xE0\x9F\xBF"), -1);         /* overlong 3-byte */
  CHECK_EQ_INT(U8("\xF0\x80\x80\x80"), -1);     /* overlong 4-byte */
  CHECK_EQ_INT(U8("\xF0\x8F\xBF\xBF"), -1);     /* overlong 4-byte */
  CHECK_EQ_INT(U8("\xED\xA0\x80"), -1);         /* U+D800 surrogate */
  CHECK_EQ_INT(U8("\xED\xBF\xBF"), -1);         /* U+DFFF surrogate */
  CHECK_EQ_INT(U8("\xF4\x90\x80\x80"), -1);     /* U+110000 */
  CHECK_EQ_INT(U8("\xF5\x80\x80\x80"), -1);
  CHECK_EQ_INT(U8("\xFE"), -1);
  CHECK_EQ_INT(U8("\xFF"), -1);
  CHECK_EQ_INT(U8("\xE6\x97"), -1);             /* truncated at end */
  CHECK_EQ_INT(U8("\xF0\x9F\x98"), -1);
  CHECK_EQ_INT(U8("\xC3"), -1);
  CHECK_EQ_INT(U8("\xE6\x41\xA5"), -1);         /* bad continuation */
  CHECK_EQ_INT(U8("\xF0\x9F\x41\x80"), -1);
  CHECK_EQ_INT(U8("\xF0\x9F\x98\x41"), -1);
  /* truncation inside the length: the byte after len is not read */
  CHECK_EQ_INT(sd_utf8_count("\xC3\xA9", 1), -1);
  /* 2000 three-byte characters */
  char *big = malloc(3 * 2001);
  for (int i = 0; i < 2001; i++) memcpy(big + 3 * i, "\xE6\x97\xA5", 3);
  CHECK_EQ_INT(sd_utf8_count(big, 3 * 2000), 2000);
  CHECK_EQ_INT(sd_utf8_count(big, 3 * 2001), 2001);
  free(big);
}

/* ---- UUID ------------------------------------------------------------------------- */

static int cmp_uuid(const void *a, const void *b) { return memcmp(a, b, 37); }

static void test_uuid(void) {
  enum { N = 10000 };
  char(*ids)[37] = malloc(sizeof(*ids) * N);
  int all_v4 = 1, all_lower = 1;
  for (int i = 0; i < N; i++) {
    sd_uuid_v4(ids[i]);
    if (strlen(ids[i]) != 36 || !sd_uuid_is_v4(ids[i], 36)) all_v4 = 0;
    for (int k = 0; k < 36; k++)
      if (ids[i][k] >= 'A' && ids[i][k] <= 'F') all_lower = 0;
  }
  CHECK(all_v4);
  CHECK(all_lower);
  qsort(ids, N, sizeof ids[0], cmp_uuid);
  int dups = 0;
  for (int i = 1; i < N; i++)
    if (memcmp(ids[i - 1], ids[i], 37) == 0) dups++;
  CHECK_EQ_INT(dups, 0);
  free(ids);

  const char *v4 = "f71dc58d-1961-4aa2-ae5c-4f35532f2baf";
  CHECK(sd_uuid_is_valid(v4, 36));
  CHECK(sd_uuid_is_v4(v4, 36));
  CHECK(sd_uuid_is_v4("F71DC58D-1961-4AA2-AE5C-4F35532F2BAF", 36));
  CHECK(sd_uuid_is_v4("f71dc58d-1961-4aa2-8e5c-4f35532f2baf", 36));
  CHECK(sd_uuid_is_v4("f71dc58d-1961-4aa2-9e5c-4f35532f2baf", 36));
  CHECK(sd_uuid_is_v4("f71dc58d-1961-4aa2-be5c-4f35532f2baf", 36));
  CHECK(sd_uuid_is_v4("f71dc58d-1961-4aa2-Be5c-4f35532f2baf", 36));
  CHECK(!sd_uuid_is_v4("f71dc58d-1961-4aa2-ce5c-4f35532f2baf", 36)); /* variant */
  CHECK(!sd_uuid_is_v4("f71dc58d-1961-4aa2-7e5c-4f35532f2baf", 36));
  const char *v1 = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"; /* RFC 4122 namespace, v1 */
  CHECK(sd_uuid_is_valid(v1, 36));
  CHECK(!sd_uuid_is_v4(v1, 36));
  CHECK(sd_uuid_is_valid("00000000-0000-0000-0000-000000000000", 36));
  CHECK(!sd_uuid_is_valid(v4, 35));
  CHECK(!sd_uuid_is_valid("f71dc58d-1961-4aa2-ae5c-4f35532f2baf0", 37));
  CHECK(!sd_uuid_is_valid("f71dc58d1961-4aa2-ae5c-4f35532f2baf-", 36));
  CHECK(!sd_uuid_is_valid("g71dc58d-1961-4aa2-ae5c-4f35532f2baf", 36));
  CHECK(!sd_uuid_is_valid("f71dc58d-1961-4aa2-ae5c-4f35532f2ba ", 36));
  CHECK(!sd_uuid_is_valid("{71dc58d-1961-4aa2-ae5c-4f35532f2ba}", 36));
  CHECK(!sd_uuid_is_valid("", 0));
  CHECK(!sd_uuid_is_valid(NULL, 36));
}

/* ---- base64 ----------------------------------------------------------------------- */

/* Bit-by-bit reference encoder, independent of the table-driven one. */
static size_t ref_b64(const unsigned char *in, size_t n, char *out) {
  const char *al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0, bits = 0;
  unsigned acc = 0;
  for (size_t i = 0; i < n; i++) {
    acc = (acc << 8) | in[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out[o++] = al[(acc >> bits) & 63];
    }
  }
  if (bits) out[o++] = al[(acc << (6 - bits)) & 63];
  while (o % 4) out[o++] = '=';
  return o;
}

static void check_vector(const char *plain, const char *enc) {
  size_t n = strlen(plain), m = strlen(enc);
  char out[64];
  unsigned char back[64];
  CHECK_EQ_INT(sd_base64_encoded_len(n), m);
  CHECK_EQ_INT(sd_base64_encode((const unsigned char *)plain, n, out), m);
  out[m] = '\0';
  CHECK_STR(out, enc);
  CHECK(sd_base64_is_valid(enc, m));
  CHECK_EQ_INT(sd_base64_decode(enc, m, back), n);
  back[n] = '\0';
  CHECK_STR((char *)back, plain);
}

#define B64_BAD(s) sd_base64_decode(s, sizeof(s) - 1, buf)

static void test_base64(void) {
  /* RFC 4648 section 10 */
  check_vector("", "");
  check_vector("f", "Zg==");
  check_vector("fo", "Zm8=");
  check_vector("foo", "Zm9v");
  check_vector("foob", "Zm9vYg==");
  check_vector("fooba", "Zm9vYmE=");
  check_vector("foobar", "Zm9vYmFy");
  check_vector("foobarfoobarfoobar", "Zm9vYmFyZm9vYmFyZm9vYmFy");

  unsigned char in[101], back[101];
  char enc[140], ref[140];
  for (int i = 0; i <= 100; i++) in[i] = (unsigned char)(i * 37 + 11 + (i & 1 ? 200 : 0));
  int all_ok = 1;
  for (size_t n = 0; n <= 100; n++) {
    size_t m = sd_base64_encode(in, n, enc);
    size_t r = ref_b64(in, n, ref);
    if (m != r || m != sd_base64_encoded_len(n) || memcmp(enc, ref, m) != 0) all_ok = 0;
    if (!sd_base64_is_valid(enc, m)) all_ok = 0;
    memset(back, 0xAA, sizeof back);
    if (sd_base64_decode(enc, m, back) != n || memcmp(back, in, n) != 0) all_ok = 0;
  }
  CHECK(all_ok);
  /* a larger pseudo-random buffer against the reference encoder */
  {
    size_t big = 100003;
    unsigned char *raw = malloc(big), *dec = malloc(big);
    char *e1 = malloc(sd_base64_encoded_len(big)), *e2 = malloc(sd_base64_encoded_len(big));
    unsigned x = 12345;
    for (size_t i = 0; i < big; i++) { x = x * 1103515245u + 12345u; raw[i] = (unsigned char)(x >> 16); }
    size_t m1 = sd_base64_encode(raw, big, e1), m2 = ref_b64(raw, big, e2);
    CHECK_EQ_INT(m1, m2);
    CHECK(memcmp(e1, e2, m1) == 0);
    CHECK_EQ_INT(sd_base64_decode(e1, m1, dec), big);
    CHECK(memcmp(raw, dec, big) == 0);
    e1[m1 / 2] = '.';
    CHECK(!sd_base64_is_valid(e1, m1));
    free(raw); free(dec); free(e1); free(e2);
  }
  /* every byte value round trips */
  unsigned char all[256], all_back[256];
  char all_enc[344];
  for (int i = 0; i < 256; i++) all[i] = (unsigned char)i;
  size_t m = sd_base64_encode(all, 256, all_enc);
  CHECK_EQ_INT(m, 344);
  CHECK_EQ_INT(sd_base64_decode(all_enc, m, all_back), 256);
  CHECK(memcmp(all, all_back, 256) == 0);
  CHECK(memcmp(all_enc + 340, "/w==", 4) == 0);
  CHECK(memcmp(all_enc, "AAECAwQF", 8) == 0);

  unsigned char buf[64];
  const size_t bad = (size_t)-1;
  CHECK_EQ_INT(B64_BAD("Zg="), bad);        /* length not a multiple of 4 */
  CHECK_EQ_INT(B64_BAD("Zg"), bad);
  CHECK_EQ_INT(B64_BAD("Z"), bad);
  CHECK_EQ_INT(B64_BAD("Zg=a"), bad);       /* bad padding */
  CHECK_EQ_INT(B64_BAD("Z==="), bad);
  CHECK_EQ_INT(B64_BAD("===="), bad);
  CHECK_EQ_INT(B64_BAD("Zg==Zm8="), bad);   /* padding in the middle */
  CHECK_EQ_INT(B64_BAD("Zm9v Zm9v"), bad);  /* space */
  CHECK_EQ_INT(B64_BAD("Zm9vZm9\n"), bad);
  CHECK_EQ_INT(B64_BAD("Zm9-"), bad);       /* base64url is not base64 */
  CHECK_EQ_INT(B64_BAD("Zm9_"), bad);
  CHECK_EQ_INT(B64_BAD("Zm9\xC3"), bad);
  CHECK_EQ_INT(sd_base64_decode("Zm9v\0\0\0\0", 8, buf), bad);
  CHECK(!sd_base64_is_valid("Zg=", 3));
  CHECK(!sd_base64_is_valid("Zm9v!m9v", 8));
  CHECK(!sd_base64_is_valid("Zm9vZm9vZm9vZm9vZ===", 20));
  CHECK(sd_base64_is_valid("", 0));
  CHECK(sd_base64_is_valid("Zm9vYmFy", 8));
  CHECK(sd_base64_is_valid("+/+/", 4));
}

/* ---- sd_value --------------------------------------------------------------------- */

static void test_value(void) {
  sd_value *o = sd_value_object();
  CHECK(o && o->type == SD_OBJECT);
  CHECK_EQ_INT(sd_object_set(o, "b", sd_value_int(1)), 0);
  CHECK_EQ_INT(sd_object_set(o, "a", sd_value_int(2)), 0);
  CHECK_EQ_INT(sd_object_set(o, "c", sd_value_int(3)), 0);
  CHECK_EQ_INT(o->u.obj.n, 3);
  CHECK_STR(o->u.obj.keys[0], "b");
  CHECK_STR(o->u.obj.keys[1], "a");
  CHECK_EQ_INT(sd_object_set(o, "b", sd_value_string("x", 1)), 0); /* replace keeps place */
  CHECK_EQ_INT(o->u.obj.n, 3);
  CHECK_STR(o->u.obj.keys[0], "b");
  CHECK_STR(sd_object_get(o, "b")->u.str.s, "x");
  CHECK(sd_object_get(o, "zz") == NULL);
  CHECK_EQ_INT(sd_object_insert(o, 0, "first", sd_value_bool(1)), 0);
  CHECK_STR(o->u.obj.keys[0], "first");
  CHECK_EQ_INT(sd_object_insert(o, 2, "mid", sd_value_null()), 0);
  CHECK_STR(o->u.obj.keys[2], "mid");
  CHECK_STR(o->u.obj.keys[3], "a");
  CHECK_EQ_INT(sd_object_insert(o, 99, "last", sd_value_null()), 0);
  CHECK_STR(o->u.obj.keys[o->u.obj.n - 1], "last");
  sd_value *a = sd_object_take(o, "a");
  CHECK(a && a->type == SD_NUMBER && a->u.num.n == 2);
  sd_value_free(a);
  CHECK(sd_object_get(o, "a") == NULL);
  CHECK(sd_object_take(o, "a") == NULL);
  CHECK_STR(o->u.obj.keys[3], "c");
  /* many keys: growth */
  for (int i = 0; i < 100; i++) {
    char k[16];
    snprintf(k, sizeof k, "k%d", i);
    sd_object_set(o, k, sd_value_int(i));
  }
  CHECK_EQ_INT(sd_object_get(o, "k77")->u.num.n, 77);
  /* containers take ownership also on failure */
  sd_value *arr = sd_value_array();
  CHECK_EQ_INT(sd_object_set(arr, "x", sd_value_int(1)), -1); /* not an object */
  CHECK_EQ_INT(sd_array_push(o, sd_value_int(1)), -1);        /* not an array */
  CHECK_EQ_INT(sd_array_push(arr, NULL), -1);
  CHECK_EQ_INT(sd_object_set(o, "nul", NULL), -1);
  for (int i = 0; i < 50; i++) CHECK_EQ_INT(sd_array_push(arr, sd_value_int(i)), 0);
  CHECK_EQ_INT(arr->u.arr.n, 50);
  sd_value_free(arr);
  sd_value_free(o);
  sd_value_free(NULL);

  sd_value *s = sd_value_string("ab\0c", 4);
  CHECK_EQ_INT(s->u.str.len, 4);
  CHECK_EQ_INT(s->u.str.s[4], 0);
  sd_value_free(s);
  s = sd_value_string(NULL, 0);
  CHECK(s && s->u.str.len == 0 && s->u.str.s[0] == 0);
  sd_value_free(s);

  sd_value *n;
  n = sd_value_number(2304.0); CHECK(sd_value_is_integer(n)); CHECK_EQ_INT(n->u.num.is_int, 0); sd_value_free(n);
  n = sd_value_number(2304.5); CHECK(!sd_value_is_integer(n)); sd_value_free(n);
  n = sd_value_number(-7.0); CHECK(sd_value_is_integer(n)); sd_value_free(n);
  n = sd_value_number(1e19); CHECK(!sd_value_is_integer(n)); sd_value_free(n);
  n = sd_value_number(-9223372036854775808.0); CHECK(sd_value_is_integer(n)); sd_value_free(n);
  n = sd_value_number(9223372036854775808.0); CHECK(!sd_value_is_integer(n)); sd_value_free(n);
  n = sd_value_number(0.0 / 0.0); CHECK(!sd_value_is_integer(n)); sd_value_free(n);
  n = sd_value_number(1.0 / 0.0); CHECK(!sd_value_is_integer(n)); sd_value_free(n);
  n = sd_value_int(42); CHECK(sd_value_is_integer(n)); CHECK_EQ_INT(n->u.num.is_int, 1); sd_value_free(n);
  n = sd_value_string("1", 1); CHECK(!sd_value_is_integer(n)); sd_value_free(n);
  CHECK(!sd_value_is_integer(NULL));
}

/* ---- JSON writer ------------------------------------------------------------------ */

static char *to_json(const sd_value *v) {
  sd_buf b;
  sd_buf_init(&b);
  if (sd_json_write(&b, v) != 0) {
    sd_buf_free(&b);
    return NULL;
  }
  return sd_buf_detach(&b, NULL);
}

static void check_json(sd_value *v, const char *expected) {
  char *s = to_json(v);
  CHECK_STR(s, expected);
  free(s);
  sd_value_free(v);
}

static void check_string(const char *in, size_t len, const char *expected) {
  sd_buf b;
  sd_buf_init(&b);
  sd_json_write_string(&b, in, len);
  size_t n = 0;
  char *s = sd_buf_detach(&b, &n);
  CHECK_STR(s, expected);
  CHECK_EQ_INT(n, strlen(expected));
  free(s);
}

static void test_json(void) {
  check_string("", 0, "\"\"");
  check_string("plain", 5, "\"plain\"");
  check_string("say \"hi\"", 8, "\"say \\\"hi\\\"\"");
  check_string("a\\b", 3, "\"a\\\\b\"");
  check_string("l1\nl2\r\t", 7, "\"l1\\nl2\\r\\t\"");
  check_string("\b\f", 2, "\"\\b\\f\"");
  check_string("\x01\x1f", 2, "\"\\u0001\\u001f\"");
  check_string("a\0b", 3, "\"a\\u0000b\"");
  check_string("/ \x7f", 3, "\"/ \x7f\"");
  check_string("h\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x98\x80", 12,
               "\"h\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x98\x80\"");

  check_json(sd_value_null(), "null");
  check_json(sd_value_bool(1), "true");
  check_json(sd_value_bool(0), "false");
  check_json(sd_value_int(0), "0");
  check_json(sd_value_int(2304), "2304");
  check_json(sd_value_int(-42), "-42");
  check_json(sd_value_int(1LL << 40), "1099511627776");
  check_json(sd_value_int(-9007199254740991LL), "-9007199254740991");
  check_json(sd_value_int(9007199254740992LL), "9007199254740992");
  check_json(sd_value_int(10), "10");
  check_json(sd_value_number(2.5), "2.5");
  check_json(sd_value_number(0.1), "0.1");
  check_json(sd_value_number(0.035), "0.035");
  check_json(sd_value_number(-1.25e-7), "-1.25e-07");
  check_json(sd_value_number(1e20), "1e+20");
  check_json(sd_value_number(1.0 / 3.0), "0.3333333333333333");
  check_json(sd_value_number(2304.0), "2304");
  check_json(sd_value_number(0.0 / 0.0), "null");
  check_json(sd_value_number(1.0 / 0.0), "null");
  check_json(sd_value_number(-1.0 / 0.0), "null");
  check_json(sd_value_array(), "[]");
  check_json(sd_value_object(), "{}");

  sd_value *root = sd_value_object();
  sd_object_set(root, "z", sd_value_int(1));
  sd_object_set(root, "a\"k", sd_value_string("v", 1));
  sd_value *arr = sd_value_array();
  sd_array_push(arr, sd_value_int(1));
  sd_array_push(arr, sd_value_number(1.5));
  sd_array_push(arr, sd_value_string("x", 1));
  sd_array_push(arr, sd_value_null());
  sd_value *inner = sd_value_object();
  sd_object_set(inner, "deep", sd_value_array());
  sd_array_push(arr, inner);
  sd_object_set(root, "list", arr);
  sd_value *o2 = sd_value_object();
  sd_value *o3 = sd_value_object();
  sd_object_set(o3, "b", sd_value_bool(0));
  sd_object_set(o2, "o3", o3);
  sd_object_set(root, "o2", o2);
  check_json(root, "{\"z\":1,\"a\\\"k\":\"v\",\"list\":[1,1.5,\"x\",null,{\"deep\":[]}],"
                   "\"o2\":{\"o3\":{\"b\":false}}}");

  /* buffer basics */
  sd_buf b;
  sd_buf_init(&b);
  sd_buf_puts(&b, "ab");
  sd_buf_putc(&b, 'c');
  sd_buf_append(&b, "defg", 2);
  sd_buf_append(&b, NULL, 0);
  size_t n = 0;
  char *s = sd_buf_detach(&b, &n);
  CHECK_STR(s, "abcde");
  CHECK_EQ_INT(n, 5);
  CHECK(b.data == NULL && b.len == 0);
  free(s);
  s = sd_buf_detach(&b, &n); /* empty buffer detaches as "" */
  CHECK_STR(s, "");
  free(s);
  for (int i = 0; i < 10000; i++) sd_buf_puts(&b, "0123456789");
  CHECK_EQ_INT(b.len, 100000);
  CHECK_EQ_INT(sd_buf_reserve(&b, (size_t)-1), -1); /* impossible size fails cleanly */
  CHECK_EQ_INT(b.failed, 1);
  CHECK(sd_buf_detach(&b, &n) == NULL);
  CHECK_EQ_INT(n, 0);
  sd_buf_free(&b);
}

/* The UUID pool is per process: a child forked after the parent drew from it must not
 * produce the parent's next UUIDs. */
static void test_uuid_fork(void) {
  char parent[37], child[37] = "", first[37];
  int fds[2];
  sd_uuid_v4(first);                    /* the pool is filled before the fork */
  CHECK(pipe(fds) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    char u[37];
    sd_uuid_v4(u);
    ssize_t w = write(fds[1], u, 37);
    _exit(w == 37 ? 0 : 1);
  }
  sd_uuid_v4(parent);
  CHECK(read(fds[0], child, 37) == 37);
  close(fds[0]);
  close(fds[1]);
  int status = 1;
  waitpid(pid, &status, 0);
  CHECK(status == 0);
  CHECK(sd_uuid_is_v4(child, 36));
  CHECK(strcmp(parent, child) != 0);
  CHECK(strcmp(first, child) != 0);
}

int main(void) {
  test_error();
  test_uuid_fork();
  test_utf8();
  test_uuid();
  test_base64();
  test_value();
  test_json();
  return MT_SUMMARY();
}
