/* encode.c: see encode.h.
 *
 * Default codecs: stb_image_write (implementation from Debian's libstb) for JPG and PNG,
 * libwebp for WEBP. stb is portable but slow on 4-10 MP images (JPG and PNG ~200 ms),
 * so with -DEMU_HAVE_LIBJPEG (link -ljpeg: libjpeg-turbo) JPG, the default format, is
 * encoded by libjpeg-turbo instead (~20 ms for 4 MP). */
#include "encode.h"

#include <stdlib.h>
#include <string.h>

#include <stb/stb_image_write.h>
#include <webp/encode.h>
#ifdef EMU_HAVE_LIBJPEG
#include <setjmp.h>
#include <stdio.h>
#include <jpeglib.h>
#endif

#include "util.h"

const char *emu_format_ext(emu_format f)
{
  return f == EMU_FMT_PNG ? "png" : f == EMU_FMT_WEBP ? "webp" : "jpg";
}

const char *emu_format_mime(emu_format f)
{
  return f == EMU_FMT_PNG ? "image/png" : f == EMU_FMT_WEBP ? "image/webp" : "image/jpeg";
}

void emu_encode_init(void)
{
  /* stb's defaults (level 8, all five filters tried per row) take seconds on 10 MP; test
   * images need speed more than size. */
  stbi_write_png_compression_level = 1;
  stbi_write_force_png_filter = 0;
}

static int encode_webp(const emu_pixmap *p, int quality, unsigned char **out, size_t *len)
{
  WebPConfig cfg;
  WebPPicture pic;
  WebPMemoryWriter wr;
  if (!WebPConfigPreset(&cfg, WEBP_PRESET_DEFAULT, (float)quality)) return -1;
  cfg.method = 0;   /* fastest: the default (4) is several times slower on 10 MP */
  if (!WebPPictureInit(&pic)) return -1;
  pic.width = p->w;
  pic.height = p->h;
  if (!WebPPictureImportRGB(&pic, p->rgb, p->w * 3)) { WebPPictureFree(&pic); return -1; }
  WebPMemoryWriterInit(&wr);
  pic.writer = WebPMemoryWrite;
  pic.custom_ptr = &wr;
  int ok = WebPEncode(&cfg, &pic);
  WebPPictureFree(&pic);
  if (!ok) { WebPMemoryWriterClear(&wr); return -1; }
  /* Hand out malloc'ed memory so every format is freed the same way. */
  *out = malloc(wr.size ? wr.size : 1);
  if (!*out) { WebPMemoryWriterClear(&wr); return -1; }
  memcpy(*out, wr.mem, wr.size);
  *len = wr.size;
  WebPMemoryWriterClear(&wr);
  return 0;
}

#ifdef EMU_HAVE_LIBJPEG
typedef struct jerr { struct jpeg_error_mgr mgr; jmp_buf jb; } jerr;

static void jpeg_fail(j_common_ptr c)
{
  longjmp(((jerr *)c->err)->jb, 1);   /* libjpeg's default handler would exit() */
}

static int encode_jpg(const emu_pixmap *p, int quality, unsigned char **out, size_t *len)
{
  struct jpeg_compress_struct c;
  jerr e;
  /* volatile: read after longjmp */
  unsigned char *volatile mem = NULL;
  unsigned long volatile size = 0;
  c.err = jpeg_std_error(&e.mgr);
  e.mgr.error_exit = jpeg_fail;
  if (setjmp(e.jb)) {
    jpeg_destroy_compress(&c);
    free(mem);
    return -1;
  }
  jpeg_create_compress(&c);
  jpeg_mem_dest(&c, (unsigned char **)&mem, (unsigned long *)&size);
  c.image_width = (JDIMENSION)p->w;
  c.image_height = (JDIMENSION)p->h;
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  c.dct_method = JDCT_IFAST;
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = p->rgb + (size_t)c.next_scanline * p->w * 3;
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  *out = mem;   /* jpeg_mem_dest allocates with malloc */
  *len = size;
  return 0;
}
#endif


static void to_buf(void *ctx, void *data, int size)
{
  emu_buf_append(ctx, data, (size_t)size);
}

int emu_encode(const emu_pixmap *p, emu_format f, int quality, unsigned char **out,
               size_t *len)
{
  if (f == EMU_FMT_WEBP) return encode_webp(p, quality, out, len);
#ifdef EMU_HAVE_LIBJPEG
  if (f == EMU_FMT_JPG) return encode_jpg(p, quality, out, len);
#endif
  emu_buf b;
  emu_buf_init(&b);
  int ok = f == EMU_FMT_PNG
    ? stbi_write_png_to_func(to_buf, &b, p->w, p->h, 3, p->rgb, p->w * 3)
    : stbi_write_jpg_to_func(to_buf, &b, p->w, p->h, 3, p->rgb, quality);
  if (!ok || b.failed) { emu_buf_free(&b); return -1; }
  *out = (unsigned char *)emu_buf_detach(&b, len);
  return *out ? 0 : -1;
}
