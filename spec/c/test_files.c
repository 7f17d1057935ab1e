/* test_files.c: image header sniffing, atomic writes, base64 straight to files (sd_file.c),
 * file references streamed into request bodies (sd_json.c), and request keys (sd_key.c). */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "minitest.h"
#include "schema_helpers.h"
#include "sd_file.h"
#include "sd_key.h"
#include "sd_schema.h"
#include "sd_text.h"

static char dir[] = "/tmp/sd_test_files_XXXXXX";

static int count_entries(void) {
  int n = 0;
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL)
    if (e->d_name[0] != '.') n++;
  if (d) closedir(d);
  return n;
}

static void be32(unsigned char *p, unsigned v) {
  p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}

static void test_sniff(void) {
  int w, h;
  unsigned char png[33] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
                           'I', 'H', 'D', 'R'};
  be32(png + 16, 2304);
  be32(png + 20, 1728);
  CHECK_EQ_INT(sd_image_sniff(png, sizeof png, &w, &h), SD_IMG_PNG);
  CHECK_EQ_INT(w, 2304);
  CHECK_EQ_INT(h, 1728);
  CHECK_EQ_INT(sd_image_sniff(png, 8, &w, &h), SD_IMG_PNG);   /* short: kind, no size */
  CHECK_EQ_INT(w, 0);
  be32(png + 16, 0x80000000u); /* beyond PNG's 31 bits: huge, never "unknown" (<= 0) */
  CHECK_EQ_INT(sd_image_sniff(png, sizeof png, &w, &h), SD_IMG_PNG);
  CHECK(w == INT_MAX);
  be32(png + 16, 2304);

  /* JPEG: SOI, an APP0 segment to skip, then SOF0 with height 3000 and width 4000 */
  unsigned char jpg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1,
                         0, 1, 0, 0, 0xFF, 0xC0, 0, 17, 8, 0x0B, 0xB8, 0x0F, 0xA0, 3,
                         1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0};
  CHECK_EQ_INT(sd_image_sniff(jpg, sizeof jpg, &w, &h), SD_IMG_JPEG);
  CHECK_EQ_INT(w, 4000);
  CHECK_EQ_INT(h, 3000);
  /* a stray byte between two segments is skipped, as libjpeg does */
  unsigned char stray[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0x00, 0xFF, 0xC0, 0, 11, 8,
                           0x01, 0x10, 0x00, 0x10, 1, 1, 0x11, 0, 0xFF, 0xD9};
  CHECK_EQ_INT(sd_image_sniff(stray, sizeof stray, &w, &h), SD_IMG_JPEG);
  CHECK_EQ_INT(w, 16);
  CHECK_EQ_INT(h, 272);

  /* WEBP lossless (VP8L): 14-bit width-1 and height-1 packed after the 0x2f signature */
  unsigned char webp[30] = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P',
                            'V', 'P', '8', 'L', 0, 0, 0, 0, 0x2f};
  unsigned bits = (640 - 1) | ((480 - 1) << 14);
  webp[21] = (unsigned char)bits; webp[22] = (unsigned char)(bits >> 8);
  webp[23] = (unsigned char)(bits >> 16); webp[24] = (unsigned char)(bits >> 24);
  CHECK_EQ_INT(sd_image_sniff(webp, sizeof webp, &w, &h), SD_IMG_WEBP);
  CHECK_EQ_INT(w, 640);
  CHECK_EQ_INT(h, 480);

  CHECK_EQ_INT(sd_image_sniff((const unsigned char *)"GIF89a....", 10, &w, &h), SD_IMG_UNKNOWN);
  CHECK_STR(sd_image_mime(SD_IMG_WEBP), "image/webp");
  CHECK_STR(sd_image_ext(SD_IMG_JPEG), "jpg");
  CHECK(sd_image_mime(SD_IMG_UNKNOWN) == NULL);
}

static void test_atomic_writes(void) {
  char path[256], bad[256];
  sd_error err;
  snprintf(path, sizeof path, "%s/a.png", dir);
  CHECK_EQ_INT(sd_file_write_atomic(path, "hello", 5, &err), SD_OK);
  CHECK_EQ_INT(count_entries(), 1);                 /* the file, no temporary left */
  snprintf(bad, sizeof bad, "%s/no/such/dir/x.png", dir);
  CHECK_EQ_INT(sd_file_write_atomic(bad, "x", 1, &err), SD_EIO);
  CHECK_CONTAINS(err.message, "no/such/dir");
  CHECK_EQ_INT(count_entries(), 1);

  /* base64 straight to a file, checked against the expected format */
  const char *png16 = "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAEElEQVR4nGNgGAWjYBTAAAADEAABPywr7AAAAABJRU5ErkJggg==";
  snprintf(path, sizeof path, "%s/b.png", dir);
  CHECK_EQ_INT(sd_file_write_base64(path, png16, strlen(png16), SD_IMG_PNG, &err), SD_OK);
  sd_image_kind k;
  int w, h;
  long long size;
  CHECK_EQ_INT(sd_file_sniff(path, &k, &w, &h, &size, &err), SD_OK);
  CHECK_EQ_INT(k, SD_IMG_PNG);
  CHECK_EQ_INT(w, 16);
  snprintf(path, sizeof path, "%s/c.jpg", dir);
  CHECK_EQ_INT(sd_file_write_base64(path, png16, strlen(png16), SD_IMG_JPEG, &err), SD_EPROTOCOL);
  CHECK_EQ_INT(sd_file_write_base64(path, "@@@@", 4, SD_IMG_UNKNOWN, &err), SD_EPROTOCOL);
  CHECK(access(path, F_OK) != 0);                   /* nothing written for either */
  CHECK_EQ_INT(count_entries(), 2);
  CHECK_EQ_INT(sd_file_sniff("/nonexistent/x.png", &k, &w, &h, &size, &err), SD_EIO);
}

/* Whole or cut short: each kind's end, and the same bytes without it. */
static void test_whole(void) {
  static const unsigned char png_end[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
  unsigned char buf[200];
  char path[256];
  memset(buf, 0x11, sizeof buf);
  snprintf(path, sizeof path, "%s/w.img", dir);
  /* PNG: IEND last */
  memcpy(buf, "\x89PNG\r\n\x1a\n", 8);
  memcpy(buf + 100 - 12, png_end, 12);
  CHECK_EQ_INT(sd_file_write_atomic(path, buf, 100, NULL), SD_OK);
  CHECK(sd_file_whole(path, SD_IMG_PNG));
  CHECK_EQ_INT(sd_file_write_atomic(path, buf, 110, NULL), SD_OK);     /* a few bytes after IEND */
  CHECK(sd_file_whole(path, SD_IMG_PNG));
  CHECK(sd_file_is_whole_image(path));                                  /* the kind from its start */
  CHECK_EQ_INT(sd_file_write_atomic(path, buf, 60, NULL), SD_OK);      /* cut */
  CHECK(!sd_file_whole(path, SD_IMG_PNG));
  CHECK(!sd_file_is_whole_image(path));
  CHECK_EQ_INT(sd_file_write_atomic(path, "", 0, NULL), SD_OK);        /* empty: no kind */
  CHECK(!sd_file_is_whole_image(path));
  CHECK(!sd_file_is_whole_image("/nonexistent/x.png"));
  /* JPEG: EOI at the end, or a few bytes before it */
  memset(buf, 0x11, sizeof buf);
  buf[0] = 0xFF; buf[1] = 0xD8; buf[98] = 0xFF; buf[99] = 0xD9;
  CHECK_EQ_INT(sd_file_write_atomic(path, buf, 100, NULL), SD_OK);
  CHECK(sd_file_whole(path, SD_IMG_JPEG));
  CHECK_EQ_INT(sd_file_write_atomic(path, buf, 104, NULL), SD_OK);     /* padding after EOI */
  CHECK(sd_file_whole(path, SD_IMG_JPEG));
  CHECK_EQ_INT(sd_file_write_atomic(path, buf, 60, NULL), SD_OK);
  CHECK(!sd_file_whole(path, SD_IMG_JPEG));
  /* WEBP: as long as its RIFF header says (8 + the length field) */
  memset(buf, 0x11, sizeof buf);
  memcpy(buf, "RIFF\x5c\x00\x00\x00WEBP", 12);                      /* 92 + 8 = 100 */
  CHECK_EQ_INT(sd_file_write_atomic(path, buf, 100, NULL), SD_OK);
  CHECK(sd_file_whole(path, SD_IMG_WEBP));
  CHECK_EQ_INT(sd_file_write_atomic(path, buf, 99, NULL), SD_OK);
  CHECK(!sd_file_whole(path, SD_IMG_WEBP));
  /* unknown kinds are not judged; a missing file is not whole */
  CHECK(sd_file_whole(path, SD_IMG_UNKNOWN));
  CHECK(!sd_file_whole("/nonexistent/x.png", SD_IMG_PNG));
  unlink(path);
}

/* A file reference is streamed into the body as a data URI of exactly its bytes. */
static void test_file_in_body(void) {
  char path[256];
  unsigned char bytes[5000];
  sd_error err;
  for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = (unsigned char)(i * 7 + 3);
  bytes[0] = 0xFF; bytes[1] = 0xD8; bytes[2] = 0xFF;           /* a JPEG, as far as sniffing goes */
  snprintf(path, sizeof path, "%s/ref.jpg", dir);
  CHECK_EQ_INT(sd_file_write_atomic(path, bytes, sizeof bytes, &err), SD_OK);

  sd_value *arr = sd_value_array();
  sd_array_push(arr, sd_value_file(path, SD_IMG_JPEG, 0, 0, (long long)sizeof bytes));
  sd_buf b;
  sd_buf_init(&b);
  CHECK_EQ_INT(sd_json_write(&b, arr), 0);
  size_t len;
  char *json = sd_buf_detach(&b, &len);
  const char *prefix = "[\"data:image/jpeg;base64,";
  CHECK(json && strncmp(json, prefix, strlen(prefix)) == 0);
  size_t enc = sd_base64_encoded_len(sizeof bytes);
  CHECK_EQ_INT(len, strlen(prefix) + enc + 2);
  unsigned char *back = malloc(sizeof bytes + 3);
  CHECK_EQ_INT(sd_base64_decode(json + strlen(prefix), enc, back), sizeof bytes);
  CHECK(memcmp(back, bytes, sizeof bytes) == 0);
  CHECK(sd_json_size_hint(arr) >= len);
  free(back);
  free(json);

  /* a file that vanished since it was checked fails the buffer, naming the file */
  unlink(path);
  sd_buf_init(&b);
  CHECK_EQ_INT(sd_json_write(&b, arr), -1);
  CHECK(b.fail_path && strstr(b.fail_path, "ref.jpg") != NULL);
  sd_buf_free(&b);
  sd_value_free(arr);
}

static void key_of(const char *json, char out[33]) {
  sd_value *v = parse(json);
  sd_error err;
  CHECK(v != NULL);
  CHECK_EQ_INT(sd_request_prepare(v, &err), SD_OK);
  CHECK_EQ_INT(sd_request_key(v, out), 0);
  char *wire = to_json(v);             /* keys are taken from the prepared, wire shape */
  CHECK_CONTAINS(wire, "\"inputs\":{\"referenceImages\":[");
  free(wire);
  sd_value_free(v);
}

static void test_request_key(void) {
  char a[33], b[33], c[33], d[33];
  key_of("{\"positivePrompt\":\"k\",\"width\":2048,\"height\":2048,"
         "\"referenceImages\":[\"https://x/y.jpg\"]}", a);
  key_of("{\"height\":2048,\"taskUUID\":\"f71dc58d-1961-4aa2-ae5c-4f35532f2baf\","
         "\"inputs\":{\"referenceImages\":[\"https://x/y.jpg\"]},\"width\":2048,"
         "\"positivePrompt\":\"k\"}", b);
  key_of("{\"positivePrompt\":\"K\",\"width\":2048,\"height\":2048,"
         "\"referenceImages\":[\"https://x/y.jpg\"]}", c);
  key_of("{\"positivePrompt\":\"k\",\"width\":2048,\"height\":2048,"
         "\"referenceImages\":[\"https://x/z.jpg\"]}", d);
  CHECK_EQ_INT(strlen(a), 32);
  CHECK_STR(a, b);                   /* field order, taskUUID and spelling do not matter */
  CHECK(strcmp(a, c) != 0);          /* the prompt does */
  CHECK(strcmp(a, d) != 0);          /* and so do the references */
}

/* The key of a request whose one reference is the file at path (as seedream.file sends it). */
static void file_key(const char *path, char out[33]) {
  sd_value *v = parse("{\"positivePrompt\":\"k\",\"width\":2048,\"height\":2048}");
  sd_value *inputs = sd_value_object(), *refs = sd_value_array();
  struct stat st;
  CHECK(stat(path, &st) == 0);
  sd_array_push(refs, sd_value_file(path, SD_IMG_PNG, 0, 0, (long long)st.st_size));
  sd_object_set(inputs, "referenceImages", refs);
  sd_object_set(v, "inputs", inputs);
  CHECK_EQ_INT(sd_request_key(v, out), 0);
  sd_value_free(v);
}

/* A local reference counts by its bytes: the same path with other bytes of the same size is
 * another request (a resumed run must not reuse the old result); the same bytes elsewhere
 * are the same request. */
static void test_file_key(void) {
  char p1[600], p2[600], a[33], b[33], c[33];
  snprintf(p1, sizeof p1, "%s/ref.png", dir);
  snprintf(p2, sizeof p2, "%s/moved.png", dir);
  CHECK_EQ_INT(sd_file_write_atomic(p1, "\x89PNG red....", 13, NULL), SD_OK);
  file_key(p1, a);
  CHECK_EQ_INT(sd_file_write_atomic(p1, "\x89PNG blue...", 13, NULL), SD_OK);
  file_key(p1, b);
  CHECK_EQ_INT(sd_file_write_atomic(p2, "\x89PNG blue...", 13, NULL), SD_OK);
  file_key(p2, c);
  CHECK(strcmp(a, b) != 0);
  CHECK_STR(b, c);
  unlink(p1);
  unlink(p2);
}

int main(void) {
  if (!mkdtemp(dir)) return 1;
  test_file_key();
  test_sniff();
  test_atomic_writes();
  test_whole();
  test_file_in_body();
  test_request_key();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return MT_SUMMARY();
}
