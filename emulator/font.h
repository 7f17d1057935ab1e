/* font.h: big, readable text on pixmaps using stb_easy_font's segment glyphs. */
#ifndef EMU_FONT_H
#define EMU_FONT_H

#include "render.h"

/* Width and height in font units (one unit = `scale` pixels when drawn) of one line of text.
 * Characters outside printable ASCII count as '?'. */
int emu_font_width(const char *text);
#define EMU_FONT_HEIGHT 9   /* glyph cell height in units incl. descenders */

/* Draws text with its top-left corner at (x, y), each font unit a scale x scale square, in
 * rgb, over a darkened box with a margin of one unit, clipped to the pixmap. */
void emu_font_draw(emu_pixmap *p, int x, int y, int scale, const char *text,
                   const unsigned char rgb[3]);

#endif
