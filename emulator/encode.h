/* encode.h: pixmaps to JPG / PNG / WEBP bytes. */
#ifndef EMU_ENCODE_H
#define EMU_ENCODE_H

#include <stddef.h>
#include "render.h"

typedef enum { EMU_FMT_JPG = 0, EMU_FMT_PNG, EMU_FMT_WEBP } emu_format;

const char *emu_format_ext(emu_format f);    /* "jpg", "png", "webp" */
const char *emu_format_mime(emu_format f);   /* "image/jpeg", ... */

/* Encodes p; *out is malloc'ed (caller frees). quality 1..100 (ignored by PNG).
 * 0 ok, -1 failure. */
int emu_encode(const emu_pixmap *p, emu_format f, int quality, unsigned char **out,
               size_t *len);

/* Process-wide encoder settings; call once at startup before any thread encodes. */
void emu_encode_init(void);

#endif
