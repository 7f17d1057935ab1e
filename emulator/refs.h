/* refs.h: reference images (inputs.referenceImages) and imageUpload payloads.
 *
 * A reference is a data URI, raw base64, a UUID (an imageUpload or an image this emulator
 * made), this emulator's own /image/ URL, or a remote URL. Inline images are decoded at
 * once (that is how the limits are checked) and kept only as a thumbnail; images known by
 * UUID are drawn when the referencing image is rendered; remote URLs are never fetched. */
#ifndef EMU_REFS_H
#define EMU_REFS_H

#include <stddef.h>

#include "err.h"
#include "render.h"

struct emu_server;
struct emu_image;
struct emu_upload;

typedef enum {
  EMU_REF_PIXELS,   /* decoded inline image: thumb */
  EMU_REF_IMAGE,    /* an image this emulator produced: image */
  EMU_REF_UPLOAD,   /* an imageUpload: upload */
  EMU_REF_REMOTE    /* any other URL: drawn as a placeholder */
} emu_ref_kind;

typedef struct emu_ref {
  emu_ref_kind kind;
  emu_pixmap thumb;                  /* EMU_REF_PIXELS only (owned) */
  const struct emu_image *image;     /* EMU_REF_IMAGE (owned by the store) */
  const struct emu_upload *upload;   /* EMU_REF_UPLOAD (owned by the store) */
} emu_ref;

/* Largest side of thumbnails kept for inline references and uploads. */
#define EMU_THUMB_MAX 384

/* Classifies and checks one reference; param is its path for errors
 * ("inputs.referenceImages[0]"). 0 ok, -1 with err set. */
int emu_ref_parse(struct emu_server *srv, const char *s, size_t len, const char *param,
                  emu_ref *out, emu_err *err);
void emu_ref_free(emu_ref *r);

/* Decodes a data URI or raw base64 image into RGB pixels. 0 ok, -1 with err set. */
int emu_image_decode(const char *s, size_t len, const char *param, emu_pixmap *out,
                     emu_err *err);

#endif
