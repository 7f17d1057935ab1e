/* gzip.c: gzip-encoded answers (zlib's deflate with the gzip wrapper). */
#include "gzip.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

int emu_gzip_accepted(const char *v)
{
  while (v && *v) {
    while (*v == ' ' || *v == ',') v++;
    size_t n = strcspn(v, ",");
    size_t name = strcspn(v, ";, ");
    if (name == 4 && strncasecmp(v, "gzip", 4) == 0) {
      const char *q = v + name;
      const char *end = v + n;
      while (q < end && (*q == ' ' || *q == ';')) q++;
      /* "q=0", "q=0.0", ... refuse it; any other weight accepts */
      if (end - q >= 3 && strncmp(q, "q=0", 3) == 0 && strspn(q + 3, ".0") == (size_t)(end - q - 3))
        return 0;
      return 1;
    }
    v += n;
  }
  return 0;
}

char *emu_gzip(const char *data, size_t len, size_t *out_len)
{
  z_stream z;
  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return NULL;
  uLong cap = deflateBound(&z, (uLong)len);
  char *out = malloc(cap);
  if (!out) {
    deflateEnd(&z);
    return NULL;
  }
  z.next_in = (Bytef *)data;
  z.avail_in = (uInt)len;
  z.next_out = (Bytef *)out;
  z.avail_out = (uInt)cap;
  int rc = deflate(&z, Z_FINISH);
  *out_len = z.total_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) {
    free(out);
    return NULL;
  }
  return out;
}
