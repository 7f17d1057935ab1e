/* render.c: see render.h.
 *
 * The picture: a plasma built from three sine waves (table lookups, integer maths, so a
 * 10 MP image renders in a few tens of ms) coloured by a palette derived from a hash of
 * (prompt, seed); the prompt's first words in large type; the image index for series; and
 * every reference as a labelled thumbnail along the bottom edge. Everything is relative to
 * the image size, so a thumbnail rendering looks like the full one. */
#include "render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "font.h"
#include "util.h"

int emu_pixmap_alloc(emu_pixmap *p, int w, int h)
{
  p->w = w;
  p->h = h;
  p->rgb = malloc((size_t)w * (size_t)h * 3);
  return p->rgb ? 0 : -1;
}

void emu_pixmap_free(emu_pixmap *p)
{
  if (!p) return;
  free(p->rgb);
  memset(p, 0, sizeof *p);
}

int emu_pixmap_thumb(const emu_pixmap *src, int max_w, int max_h, emu_pixmap *out)
{
  int w = src->w, h = src->h;
  if (w > max_w) { h = (int)((long)h * max_w / w); w = max_w; }
  if (h > max_h) { w = (int)((long)w * max_h / h); h = max_h; }
  if (w < 1) w = 1;
  if (h < 1) h = 1;
  if (emu_pixmap_alloc(out, w, h) != 0) return -1;
  for (int y = 0; y < h; y++) {
    int sy0 = (int)((long)y * src->h / h), sy1 = (int)((long)(y + 1) * src->h / h);
    if (sy1 <= sy0) sy1 = sy0 + 1;
    for (int x = 0; x < w; x++) {
      int sx0 = (int)((long)x * src->w / w), sx1 = (int)((long)(x + 1) * src->w / w);
      if (sx1 <= sx0) sx1 = sx0 + 1;
      unsigned long acc[3] = { 0, 0, 0 }, n = 0;
      for (int sy = sy0; sy < sy1; sy++) {
        const unsigned char *s = src->rgb + ((size_t)sy * src->w + sx0) * 3;
        for (int sx = sx0; sx < sx1; sx++, s += 3, n++) {
          acc[0] += s[0]; acc[1] += s[1]; acc[2] += s[2];
        }
      }
      unsigned char *d = out->rgb + ((size_t)y * w + x) * 3;
      for (int c = 0; c < 3; c++) d[c] = (unsigned char)(acc[c] / n);
    }
  }
  return 0;
}

/* ---- background ---- */

static void make_palette(uint64_t h, unsigned char pal[256][3])
{
  unsigned char key[4][3];
  for (int k = 0; k < 4; k++) {
    h = emu_mix64(h + (uint64_t)k);
    for (int c = 0; c < 3; c++) key[k][c] = (unsigned char)(40 + ((h >> (c * 8)) & 0xff) * 200 / 255);
  }
  /* Four key colours, blended cyclically so the palette wraps without a seam. */
  for (int i = 0; i < 256; i++) {
    int seg = i / 64, t = i % 64;
    const unsigned char *a = key[seg], *b = key[(seg + 1) % 4];
    for (int c = 0; c < 3; c++) pal[i][c] = (unsigned char)((a[c] * (64 - t) + b[c] * t) / 64);
  }
}

static int plasma(emu_pixmap *p, uint64_t h)
{
  int w = p->w, ht = p->h;
  unsigned char pal[256][3];
  make_palette(h, pal);
  int sine[256];
  for (int i = 0; i < 256; i++) sine[i] = (int)lrint(127.5 + 127.5 * sin(i * 2 * M_PI / 256));

  uint64_t r = emu_mix64(h ^ 0x5eedull);
  /* Periods across the image (1..3 per axis), phases: fixed point 16.16 steps per pixel. */
  uint32_t fx = (uint32_t)((((r & 3) + 1) << 24) / (uint32_t)w);
  uint32_t fy = (uint32_t)(((((r >> 2) & 3) + 1) << 24) / (uint32_t)ht);
  uint32_t fd = (uint32_t)(((((r >> 4) & 1) + 1) << 24) / (uint32_t)(w + ht));
  uint32_t px = (uint32_t)(r >> 8) & 255, py = (uint32_t)(r >> 16) & 255, pd = (uint32_t)(r >> 24) & 255;

  int *col = malloc(sizeof(int) * (size_t)w);
  if (!col) return -1;
  for (int x = 0; x < w; x++) col[x] = sine[(((uint32_t)x * fx >> 16) + px) & 255];
  for (int y = 0; y < ht; y++) {
    int row = sine[(((uint32_t)y * fy >> 16) + py) & 255];
    uint32_t d = (uint32_t)y * fd;
    unsigned char *o = p->rgb + (size_t)y * w * 3;
    for (int x = 0; x < w; x++, d += fd, o += 3) {
      int v = col[x] + row + sine[((d >> 16) + pd) & 255];   /* 0..765 */
      const unsigned char *c = pal[(v * 85 >> 8) & 255];
      o[0] = c[0]; o[1] = c[1]; o[2] = c[2];
    }
  }
  free(col);
  return 0;
}

/* ---- overlays ---- */

/* The first words of the prompt, up to about `max` characters, as one line. */
static void first_words(const char *prompt, size_t max, char *out, size_t outsz)
{
  size_t n = 0, last_space = 0;
  while (*prompt == ' ') prompt++;
  for (const char *s = prompt; *s && n + 1 < outsz; s++) {
    char c = (*s == '\n' || *s == '\t') ? ' ' : *s;
    if (c == ' ' && n && out[n - 1] == ' ') continue;
    if (n >= max) break;
    if (c == ' ') last_space = n;
    out[n++] = c;
  }
  if (prompt[0] && n < strlen(prompt) && last_space > max / 2) n = last_space;   /* whole words */
  while (n && out[n - 1] == ' ') n--;
  out[n] = '\0';
}

void emu_render_ref_box(int w, int h, int n, int *box_w, int *box_h)
{
  int margin = w / 64 + 1;
  int bh = h / 6, bw = bh * 4 / 3;
  if (n > 0 && bw * n + margin * (n + 1) > w) {
    bw = (w - margin * (n + 1)) / n;
    if (bw < 1) bw = 1;
  }
  *box_w = bw;
  *box_h = bh;
}

static void blit_fit(emu_pixmap *dst, const emu_pixmap *src, int x0, int y0, int bw, int bh)
{
  int w = bw, h = (int)((long)src->h * bw / src->w);
  if (h > bh) { h = bh; w = (int)((long)src->w * bh / src->h); }
  if (w < 1 || h < 1) return;
  x0 += (bw - w) / 2;
  y0 += bh - h;   /* bottom-aligned */
  for (int y = 0; y < h; y++) {
    int dy = y0 + y;
    if (dy < 0 || dy >= dst->h) continue;
    const unsigned char *srow = src->rgb + (size_t)((long)y * src->h / h) * src->w * 3;
    for (int x = 0; x < w; x++) {
      int dx = x0 + x;
      if (dx < 0 || dx >= dst->w) continue;
      const unsigned char *s = srow + (size_t)((long)x * src->w / w) * 3;
      unsigned char *d = dst->rgb + ((size_t)dy * dst->w + dx) * 3;
      d[0] = s[0]; d[1] = s[1]; d[2] = s[2];
    }
  }
}

static void frame(emu_pixmap *p, int x0, int y0, int w, int h, int t)
{
  static const unsigned char white[3] = { 255, 255, 255 };
  for (int y = y0 - t; y < y0 + h + t; y++) {
    if (y < 0 || y >= p->h) continue;
    for (int x = x0 - t; x < x0 + w + t; x++) {
      if (x < 0 || x >= p->w) continue;
      if (y >= y0 && y < y0 + h && x >= x0 && x < x0 + w) continue;
      memcpy(p->rgb + ((size_t)y * p->w + x) * 3, white, 3);
    }
  }
}

static void draw_refs(emu_pixmap *p, const emu_render_job *job)
{
  static const unsigned char white[3] = { 255, 255, 255 };
  int bw, bh, margin = p->w / 64 + 1;
  emu_render_ref_box(p->w, p->h, job->n_refs, &bw, &bh);
  int y0 = p->h - margin - bh;
  int ls = bh / 5 / EMU_FONT_HEIGHT;   /* label scale */
  for (int i = 0; i < job->n_refs; i++) {
    int x0 = margin + i * (bw + margin);
    const emu_render_ref *r = &job->refs[i];
    if (r->pix && r->pix->w > 0 && r->pix->h > 0) {
      blit_fit(p, r->pix, x0, y0, bw, bh);
    } else {   /* placeholder tile */
      for (int y = y0; y < y0 + bh && y < p->h; y++)
        memset(p->rgb + ((size_t)y * p->w + x0) * 3, 96, (size_t)bw * 3);
      const char *tag = r->tag ? r->tag : "?";
      int units = emu_font_width(tag);
      int ts = bw / (units + 2);
      if (ts > bh / (2 * EMU_FONT_HEIGHT)) ts = bh / (2 * EMU_FONT_HEIGHT);
      if (ts >= 1)
        emu_font_draw(p, x0 + (bw - units * ts) / 2, y0 + bh / 2 - ts * EMU_FONT_HEIGHT / 2,
                      ts, tag, white);
    }
    frame(p, x0, y0, bw, bh, bw / 100 + 1);
    if (ls >= 1) {
      char label[16];
      snprintf(label, sizeof label, "ref %d", i + 1);
      emu_font_draw(p, x0 + ls, y0 - (EMU_FONT_HEIGHT + 2) * ls, ls, label, white);
    }
  }
}

int emu_render(const emu_render_job *job, emu_pixmap *out)
{
  static const unsigned char white[3] = { 255, 255, 255 };
  static const unsigned char pale[3] = { 255, 240, 180 };
  if (emu_pixmap_alloc(out, job->width, job->height) != 0) return -1;
  uint64_t h = emu_fnv1a(job->prompt, strlen(job->prompt), EMU_FNV_INIT);
  h = emu_mix64((h << 32) ^ job->seed);
  if (plasma(out, h) != 0) { emu_pixmap_free(out); return -1; }

  int w = out->w, ht = out->h, margin = w / 32 + 1;
  char title[64];
  first_words(job->prompt, 24, title, sizeof title);
  int units = emu_font_width(title);
  int scale = units ? (w * 3 / 4) / units : 1;
  if (scale > ht / (5 * EMU_FONT_HEIGHT)) scale = ht / (5 * EMU_FONT_HEIGHT);
  if (scale < 1) scale = 1;
  emu_font_draw(out, margin, margin, scale, title, white);

  int small = scale / 3 > 0 ? scale / 3 : 1;
  char info[96];
  snprintf(info, sizeof info, "seed %u  %dx%d", (unsigned)job->seed, job->info_w, job->info_h);
  emu_font_draw(out, margin, margin + (EMU_FONT_HEIGHT + 3) * scale, small, info, pale);

  if (job->count > 1) {
    char idx[32];
    snprintf(idx, sizeof idx, "%d/%d", job->index + 1, job->count);
    int s2 = scale * 2 / 3 > 0 ? scale * 2 / 3 : 1;
    int iw = emu_font_width(idx) * s2;
    emu_font_draw(out, w - margin - iw, margin, s2, idx, pale);
  }
  if (job->n_refs > 0) draw_refs(out, job);
  return 0;
}
