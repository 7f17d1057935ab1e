/* gzip.h: gzip-encoded answers, as a real API server sends them to clients that ask. */
#ifndef EMU_GZIP_H
#define EMU_GZIP_H

#include <stddef.h>

/* Answers shorter than this go as they are (compressing a few hundred bytes saves nothing). */
#define EMU_GZIP_MIN 1024

/* Whether an Accept-Encoding header value accepts gzip ("gzip", "deflate, gzip;q=1.0", ...;
 * "gzip;q=0" refuses it). */
int emu_gzip_accepted(const char *accept_encoding);

/* The gzip encoding of data (malloc'ed, *out_len set), or NULL when it cannot be made. */
char *emu_gzip(const char *data, size_t len, size_t *out_len);

#endif
