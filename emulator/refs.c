/* refs.c: see refs.h. */
#include "refs.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <stb/stb_image.h>
#include <webp/decode.h>

#include "emu.h"
#include "sd_limits.h"
#include "sd_text.h"

void emu_ref_free(emu_ref *r)
{
  emu_pixmap_free(&r->thumb);
  memset(r, 0, sizeof *r);
}

static int check_dims(int w, int h, const char *param, emu_err *e)
{
  if (w < SD_REF_SIDE_MIN || h < SD_REF_SIDE_MIN || w > SD_REF_SIDE_MAX || h > SD_REF_SIDE_MAX)
    return emu_err_set(e, 400, "invalidParameter", param,
                       "Invalid reference image '%s': %dx%d, each side must be between %d and "
                       "%d pixels.", param, w, h, SD_REF_SIDE_MIN, SD_REF_SIDE_MAX);
  int lo = w < h ? w : h, hi = w < h ? h : w;
  if (hi > (long)lo * SD_REF_MAX_ASPECT)
    return emu_err_set(e, 400, "invalidParameter", param,
                       "Invalid reference image '%s': %dx%d, aspect ratio must be between 1:%d "
                       "and %d:1.", param, w, h, SD_REF_MAX_ASPECT, SD_REF_MAX_ASPECT);
  return 0;
}

/* JPEG/PNG/... through stb_image, WEBP (which stb cannot read) through libwebp. The header
 * is read first: a huge image must not be decoded just to be refused. */
static int decode_pixels(const unsigned char *bytes, size_t n, const char *param,
                         emu_pixmap *out, emu_err *e)
{
  int w = 0, h = 0, comp, webp = n > 12 && memcmp(bytes, "RIFF", 4) == 0 &&
                                 memcmp(bytes + 8, "WEBP", 4) == 0;
  int ok = webp ? WebPGetInfo(bytes, n, &w, &h) : stbi_info_from_memory(bytes, (int)n, &w, &h, &comp);
  if (!ok)
    return emu_err_set(e, 400, "invalidParameter", param,
                       "Invalid image '%s': the data is not a decodable image.", param);
  if (check_dims(w, h, param, e)) return -1;
  unsigned char *px = webp ? WebPDecodeRGB(bytes, n, &w, &h)
                           : stbi_load_from_memory(bytes, (int)n, &w, &h, &comp, 3);
  if (!px)
    return emu_err_set(e, 400, "invalidParameter", param,
                       "Invalid image '%s': the data is not a decodable image.", param);
  /* Copy into malloc'ed memory so every pixmap is freed one way. */
  int rc = emu_pixmap_alloc(out, w, h);
  if (rc == 0) memcpy(out->rgb, px, (size_t)w * h * 3);
  if (webp) WebPFree(px); else stbi_image_free(px);
  if (rc != 0) {
    memset(out, 0, sizeof *out);
    return emu_err_set(e, 500, "serverError", param, "Out of memory.");
  }
  return 0;
}

int emu_image_decode(const char *s, size_t len, const char *param, emu_pixmap *out,
                     emu_err *e)
{
  memset(out, 0, sizeof *out);
  if (len > 5 && strncasecmp(s, "data:", 5) == 0) {
    const char *comma = memchr(s, ',', len);
    if (!comma || comma - s < 12 || strncasecmp(comma - 7, ";base64", 7) != 0)
      return emu_err_set(e, 400, "invalidParameter", param,
                         "Invalid image '%s': data URIs must be base64 encoded.", param);
    len -= (size_t)(comma + 1 - s);
    s = comma + 1;
  }
  unsigned char *bytes = malloc(len / 4 * 3 + 1);
  if (!bytes) return emu_err_set(e, 500, "serverError", param, "Out of memory.");
  size_t n = sd_base64_decode(s, len, bytes);
  if (n == (size_t)-1 || n == 0) {
    free(bytes);
    return emu_err_set(e, 400, "invalidParameter", param,
                       "Invalid image '%s': not a data URI, base64 image, UUID or URL.", param);
  }
  int rc = decode_pixels(bytes, n, param, out, e);
  free(bytes);
  return rc;
}

/* The UUID in this emulator's own image URL (".../image/<uuid>.<ext>"), or NULL. */
static const char *own_image_uuid(const char *s, size_t len, char uuid[37])
{
  if (!emu_url_is_loopback(s)) return NULL;
  const char *p = strstr(s, "/image/");
  if (!p || (size_t)(p - s) + 7 + 36 > len) return NULL;
  p += 7;
  if (!sd_uuid_is_valid(p, 36) || p[36] != '.') return NULL;
  memcpy(uuid, p, 36);
  uuid[36] = '\0';
  return uuid;
}

static int by_uuid(emu_server *srv, const char *uuid, const char *param, emu_ref *out,
                   emu_err *e)
{
  const emu_image *im = emu_store_find_image(&srv->store, uuid);
  if (im) {
    out->kind = EMU_REF_IMAGE;
    out->image = im;
    return check_dims(im->task->spec.width, im->task->spec.height, param, e);
  }
  const emu_upload *up = emu_store_find_upload(&srv->store, uuid);
  if (up) {
    out->kind = EMU_REF_UPLOAD;
    out->upload = up;
    return check_dims(up->w, up->h, param, e);
  }
  return emu_err_set(e, 400, "invalidParameter", param,
                     "Invalid reference image '%s': no image with UUID %s.", param, uuid);
}

int emu_ref_parse(emu_server *srv, const char *s, size_t len, const char *param,
                  emu_ref *out, emu_err *e)
{
  memset(out, 0, sizeof *out);
  char uuid[37];
  if (len == 36 && sd_uuid_is_valid(s, len)) return by_uuid(srv, s, param, out, e);
  if (emu_url_is_http(s)) {
    if (own_image_uuid(s, len, uuid) && emu_store_find_image(&srv->store, uuid))
      return by_uuid(srv, uuid, param, out, e);
    out->kind = EMU_REF_REMOTE;   /* never fetched: drawn as a placeholder */
    return 0;
  }
  emu_pixmap full;
  if (emu_image_decode(s, len, param, &full, e)) return -1;
  out->kind = EMU_REF_PIXELS;
  int rc = emu_pixmap_thumb(&full, EMU_THUMB_MAX, EMU_THUMB_MAX, &out->thumb);
  emu_pixmap_free(&full);
  if (rc) return emu_err_set(e, 500, "serverError", param, "Out of memory.");
  return 0;
}
