/* font.c: see font.h. stb_easy_font emits axis-aligned quads in font units; we fill them
 * as scaled rectangles, which is all its segment glyphs need. */
#include "font.h"

#include <stdlib.h>
#include <string.h>

/* The header defines only static functions (Debian ships no implementation for it); not all
 * of them are used here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb/stb_easy_font.h>
#pragma GCC diagnostic pop

#define TEXT_MAX 160

/* stb_easy_font indexes a table by (c - 32): anything outside 32..126 would read out of it. */
static void sanitize(const char *in, char out[TEXT_MAX + 1])
{
  size_t n = 0;
  for (const unsigned char *s = (const unsigned char *)in; *s && n < TEXT_MAX; s++) {
    if (*s >= 0x80 && (*s & 0xc0) == 0x80) continue;   /* one '?' per UTF-8 character */
    out[n++] = (*s >= 32 && *s < 127) ? (char)*s : '?';
  }
  out[n] = '\0';
}

int emu_font_width(const char *text)
{
  char t[TEXT_MAX + 1];
  sanitize(text, t);
  return stb_easy_font_width(t);
}

static void fill(emu_pixmap *p, int x0, int y0, int x1, int y1, const unsigned char rgb[3])
{
  if (x0 < 0) x0 = 0;
  if (y0 < 0) y0 = 0;
  if (x1 > p->w) x1 = p->w;
  if (y1 > p->h) y1 = p->h;
  for (int y = y0; y < y1; y++) {
    unsigned char *d = p->rgb + ((size_t)y * p->w + x0) * 3;
    for (int x = x0; x < x1; x++, d += 3) { d[0] = rgb[0]; d[1] = rgb[1]; d[2] = rgb[2]; }
  }
}

static void darken(emu_pixmap *p, int x0, int y0, int x1, int y1)
{
  if (x0 < 0) x0 = 0;
  if (y0 < 0) y0 = 0;
  if (x1 > p->w) x1 = p->w;
  if (y1 > p->h) y1 = p->h;
  for (int y = y0; y < y1; y++) {
    unsigned char *d = p->rgb + ((size_t)y * p->w + x0) * 3;
    for (int x = x0; x < x1; x++, d += 3) {
      d[0] = (unsigned char)(d[0] >> 2);
      d[1] = (unsigned char)(d[1] >> 2);
      d[2] = (unsigned char)(d[2] >> 2);
    }
  }
}

void emu_font_draw(emu_pixmap *p, int x, int y, int scale, const char *text,
                   const unsigned char rgb[3])
{
  char t[TEXT_MAX + 1];
  sanitize(text, t);
  if (!t[0] || scale < 1) return;
  int w = stb_easy_font_width(t);
  darken(p, x - scale, y - scale, x + (w + 1) * scale, y + (EMU_FONT_HEIGHT + 1) * scale);

  /* At most ~20 segments a glyph, 64 bytes each. */
  size_t cap = (strlen(t) * 24 + 1) * 64;
  float *v = malloc(cap);
  if (!v) return;
  int quads = stb_easy_font_print(0, 0, t, NULL, v, (int)cap);
  static const unsigned char shadow[3] = { 0, 0, 0 };
  int off = scale / 3 > 0 ? scale / 3 : 1;
  for (int pass = 0; pass < 2; pass++) {
    const unsigned char *c = pass ? rgb : shadow;
    int d = pass ? 0 : off;
    for (int q = 0; q < quads; q++) {
      const float *a = v + q * 16;        /* 4 vertices of 4 floats (x, y, z, colour) */
      int x0 = (int)a[0], y0 = (int)a[1], x1 = (int)a[8], y1 = (int)a[9];
      fill(p, x + x0 * scale + d, y + y0 * scale + d, x + x1 * scale + d, y + y1 * scale + d, c);
    }
  }
  free(v);
}
