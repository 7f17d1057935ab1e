/* render.h: deterministic test images (pixels only; encoding is encode.c's job). */
#ifndef EMU_RENDER_H
#define EMU_RENDER_H

#include <stdint.h>

/* Packed RGB, 3 bytes a pixel, rows without padding. */
typedef struct emu_pixmap { int w, h; unsigned char *rgb; } emu_pixmap;

int emu_pixmap_alloc(emu_pixmap *p, int w, int h);   /* 0 ok, -1 nomem */
void emu_pixmap_free(emu_pixmap *p);                 /* NULL-safe, leaves p zeroed */
/* Box-filter downscale of src into a fresh pixmap fitting max_w x max_h (never upscales). */
int emu_pixmap_thumb(const emu_pixmap *src, int max_w, int max_h, emu_pixmap *out);

/* One reference as the renderer sees it: pixels, or NULL pixels for a placeholder tile that
 * shows `tag` (e.g. "URL" for a remote reference the emulator never fetches). */
typedef struct emu_render_ref { const emu_pixmap *pix; const char *tag; } emu_render_ref;

typedef struct emu_render_job {
  const char *prompt;
  uint32_t seed;
  int width, height;          /* output size */
  int info_w, info_h;         /* size printed on the image (differs for thumbnails) */
  int index, count;           /* 0-based image index in its task and the task's total */
  const emu_render_ref *refs; /* drawn as labelled thumbnails along the bottom edge */
  int n_refs;
} emu_render_job;

/* Renders into a fresh pixmap (caller frees). 0 ok, -1 nomem. */
int emu_render(const emu_render_job *job, emu_pixmap *out);

/* The size thumbnails of references get in an image of w x h with n references (so callers
 * can prepare them at the right size). */
void emu_render_ref_box(int w, int h, int n, int *box_w, int *box_h);

#endif
