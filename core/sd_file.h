/* sd_file.h: image files: atomic writes, base64 straight to disk, format sniffing. */
#ifndef SD_FILE_H
#define SD_FILE_H

#include <stddef.h>
#include "sd_error.h"

typedef enum { SD_IMG_UNKNOWN = 0, SD_IMG_JPEG, SD_IMG_PNG, SD_IMG_WEBP } sd_image_kind;

/* What the first bytes say: kind, and the pixel size when the header holds it (PNG IHDR,
 * JPEG SOFn, WEBP VP8/VP8L/VP8X); *w = *h = 0 when unknown. n may be short (then what fits). */
sd_image_kind sd_image_sniff(const unsigned char *p, size_t n, int *w, int *h);
const char *sd_image_mime(sd_image_kind k);  /* "image/jpeg", ...; NULL for unknown */
const char *sd_image_ext(sd_image_kind k);   /* "jpg", "png", "webp"; NULL for unknown */

/* Writes data to path atomically: a temporary file in the same directory, then rename();
 * on failure nothing is left behind. */
sd_code sd_file_write_atomic(const char *path, const void *data, size_t len, sd_error *err);

/* Decodes base64 text and writes the bytes atomically to path (no copy through a scripting
 * language). If expect != SD_IMG_UNKNOWN, the decoded bytes must be that kind of image. */
sd_code sd_file_write_base64(const char *path, const char *b64, size_t len,
                             sd_image_kind expect, sd_error *err);

/* Reads the first up-to-64 KiB of a file and sniffs it (for reference images and checks of
 * downloads). Returns SD_OK with *kind set (maybe SD_IMG_UNKNOWN), or SD_EIO. */
sd_code sd_file_sniff(const char *path, sd_image_kind *kind, int *w, int *h, long long *size,
                      sd_error *err);

/* Whether the file at path ends as a whole image of that kind: a PNG with its IEND chunk, a
 * JPEG with its EOI marker, each in its last 64 bytes (decoders ignore a few bytes after), a WEBP as long as its RIFF header
 * says. A download cut short without the transport noticing (no Content-Length, the
 * connection closed) fails this. 1 for SD_IMG_UNKNOWN; 0 when the file cannot be read. */
int sd_file_whole(const char *path, sd_image_kind kind);

/* Whether the file at path is a known kind of image (from its first bytes) and whole as
 * sd_file_whole says: reads a few bytes at each end, not the whole header. */
int sd_file_is_whole_image(const char *path);

/* An exclusive advisory lock (flock) on path, created if needed, for one process at a
 * time on a directory. On success *fd holds it until close(*fd) (or the process ends) and
 * the file holds this process's id. SD_EIO with the holder's pid in the message when
 * another process has it. */
sd_code sd_file_lock(const char *path, int *fd, sd_error *err);

#endif
