/* sd_file.c: atomic image writes and header sniffing (no decoding of pixels). */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sd_file.h"
#include "sd_text.h"

static unsigned be16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }
static unsigned long be32(const unsigned char *p) {
  return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
}
static unsigned le16(const unsigned char *p) { return (unsigned)p[1] << 8 | p[0]; }
static unsigned long le24(const unsigned char *p) {
  return (unsigned long)p[2] << 16 | (unsigned long)p[1] << 8 | p[0];
}

/* JPEG: walk the markers up to the first SOFn frame header, which holds the size. */
static void jpeg_size(const unsigned char *p, size_t n, int *w, int *h) {
  size_t i = 2;
  while (i + 9 < n) {
    unsigned marker, len;
    if (p[i] != 0xFF) { i++; continue; }              /* stray bytes: skipped, as libjpeg does */
    marker = p[i + 1];
    if (marker == 0xFF) { i++; continue; }            /* fill byte */
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) { i += 2; continue; }
    len = be16(p + i + 2);
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      *h = (int)be16(p + i + 5);
      *w = (int)be16(p + i + 7);
      return;
    }
    i += 2 + len;
  }
}

static void webp_size(const unsigned char *p, size_t n, int *w, int *h) {
  if (n < 30) return;
  if (!memcmp(p + 12, "VP8 ", 4) && p[23] == 0x9d && p[24] == 0x01 && p[25] == 0x2a) {
    *w = (int)(le16(p + 26) & 0x3fff);
    *h = (int)(le16(p + 28) & 0x3fff);
  } else if (!memcmp(p + 12, "VP8L", 4) && p[20] == 0x2f) {
    unsigned long b = (unsigned long)p[21] | (unsigned long)p[22] << 8 |
                      (unsigned long)p[23] << 16 | (unsigned long)p[24] << 24;
    *w = (int)(b & 0x3fff) + 1;
    *h = (int)((b >> 14) & 0x3fff) + 1;
  } else if (!memcmp(p + 12, "VP8X", 4)) {
    *w = (int)le24(p + 24) + 1;
    *h = (int)le24(p + 27) + 1;
  }
}

sd_image_kind sd_image_sniff(const unsigned char *p, size_t n, int *w, int *h) {
  *w = *h = 0;
  if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) {
    jpeg_size(p, n, w, h);
    return SD_IMG_JPEG;
  }
  if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8)) {
    if (n >= 24 && !memcmp(p + 12, "IHDR", 4)) {
      /* PNG sides are 31-bit; a larger value is a broken header: INT_MAX, so that the
       * size checks refuse it rather than take it for "unknown" */
      unsigned long pw = be32(p + 16), ph = be32(p + 20);
      *w = pw > (unsigned long)INT_MAX ? INT_MAX : (int)pw;
      *h = ph > (unsigned long)INT_MAX ? INT_MAX : (int)ph;
    }
    return SD_IMG_PNG;
  }
  if (n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4)) {
    webp_size(p, n, w, h);
    return SD_IMG_WEBP;
  }
  return SD_IMG_UNKNOWN;
}

const char *sd_image_mime(sd_image_kind k) {
  switch (k) {
  case SD_IMG_JPEG: return "image/jpeg";
  case SD_IMG_PNG: return "image/png";
  case SD_IMG_WEBP: return "image/webp";
  default: return NULL;
  }
}

const char *sd_image_ext(sd_image_kind k) {
  switch (k) {
  case SD_IMG_JPEG: return "jpg";
  case SD_IMG_PNG: return "png";
  case SD_IMG_WEBP: return "webp";
  default: return NULL;
  }
}

/* 0666 less the process's umask, as open(2) would give a new file (mkstemp gives 0600):
 * every file seedream writes gets the same mode. umask() can only be read by setting it,
 * so it is set back at once. */
static mode_t file_mode(void) {
  mode_t mask = umask(022);
  umask(mask);
  return (mode_t)(0666 & ~mask);
}

sd_code sd_file_write_atomic(const char *path, const void *data, size_t len, sd_error *err) {
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 16);
  int fd, saved;
  const char *p = data;
  if (!tmp) return sd_error_set(err, SD_ENOMEM, NULL, "out of memory");
  memcpy(tmp, path, plen);
  memcpy(tmp + plen, ".part-XXXXXX", 13);
  fd = mkstemp(tmp);
  if (fd < 0) {
    saved = errno;
    free(tmp);
    return sd_error_set(err, SD_EIO, NULL, "cannot create a file next to %s: %s", path,
                        strerror(saved));
  }
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) goto fail;
    p += w;
    len -= (size_t)w;
  }
  if (fchmod(fd, file_mode()) != 0 || close(fd) != 0) { fd = -1; goto fail; }
  fd = -1;
  if (rename(tmp, path) != 0) goto fail;
  free(tmp);
  return SD_OK;
fail:
  saved = errno;
  if (fd >= 0) close(fd);
  unlink(tmp);
  free(tmp);
  return sd_error_set(err, SD_EIO, NULL, "cannot write %s: %s", path, strerror(saved));
}

sd_code sd_file_write_base64(const char *path, const char *b64, size_t len,
                             sd_image_kind expect, sd_error *err) {
  unsigned char *bytes = malloc(len / 4 * 3 + 3);
  size_t n;
  sd_code rc;
  int w, h;
  if (!bytes) return sd_error_set(err, SD_ENOMEM, NULL, "out of memory");
  n = sd_base64_decode(b64, len, bytes);
  if (n == (size_t)-1) {
    free(bytes);
    return sd_error_set(err, SD_EPROTOCOL, NULL, "the image data is not valid base64");
  }
  if (expect != SD_IMG_UNKNOWN && sd_image_sniff(bytes, n, &w, &h) != expect) {
    free(bytes);
    return sd_error_set(err, SD_EPROTOCOL, NULL, "the image data is not a %s file",
                        sd_image_ext(expect));
  }
  rc = sd_file_write_atomic(path, bytes, n, err);
  free(bytes);
  return rc;
}

sd_code sd_file_sniff(const char *path, sd_image_kind *kind, int *w, int *h, long long *size,
                      sd_error *err) {
  unsigned char buf[65536];
  size_t n;
  struct stat st;
  FILE *f = fopen(path, "rb");
  if (!f) return sd_error_set(err, SD_EIO, NULL, "cannot open %s: %s", path, strerror(errno));
  if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) { /* fopen takes one, fread fails */
    fclose(f);
    return sd_error_set(err, SD_EIO, NULL, "cannot read %s: it is a directory", path);
  }
  n = fread(buf, 1, sizeof buf, f);
  if (size) *size = fstat(fileno(f), &st) == 0 ? (long long)st.st_size : -1;
  fclose(f);
  *kind = sd_image_sniff(buf, n, w, h);
  return SD_OK;
}

int sd_file_whole(const char *path, sd_image_kind kind) {
  static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
  unsigned char tail[64];
  struct stat st;
  int ok = 0, fd;
  if (kind == SD_IMG_UNKNOWN) return 1;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  if (fstat(fd, &st) == 0 && st.st_size >= 12) {
    off_t size = st.st_size;
    size_t n = size < (off_t)sizeof tail ? (size_t)size : sizeof tail;
    if (kind == SD_IMG_WEBP) {
      /* "RIFF" <little-endian length of what follows> "WEBP" */
      if (pread(fd, tail, 12, 0) == 12 && memcmp(tail, "RIFF", 4) == 0) {
        unsigned long riff = (unsigned long)tail[4] | (unsigned long)tail[5] << 8 |
                             (unsigned long)tail[6] << 16 | (unsigned long)tail[7] << 24;
        ok = (unsigned long long)size >= (unsigned long long)riff + 8;
      }
    } else if (pread(fd, tail, n, size - (off_t)n) == (ssize_t)n) {
      if (kind == SD_IMG_PNG) {      /* IEND, maybe followed by a few stray bytes */
        for (size_t i = 0; i + sizeof iend <= n && !ok; i++)
          ok = memcmp(tail + i, iend, sizeof iend) == 0;
      } else {                       /* JPEG: EOI, maybe followed by a few padding bytes */
        for (size_t i = 0; i + 1 < n && !ok; i++) ok = tail[i] == 0xFF && tail[i + 1] == 0xD9;
      }
    }
  }
  close(fd);
  return ok;
}

int sd_file_is_whole_image(const char *path) {
  unsigned char head[32];
  int w, h;
  size_t n = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  n = fread(head, 1, sizeof head, f);
  fclose(f);
  sd_image_kind k = sd_image_sniff(head, n, &w, &h);
  return k != SD_IMG_UNKNOWN && sd_file_whole(path, k);
}

sd_code sd_file_lock(const char *path, int *fd, sd_error *err) {
  int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (f < 0) return sd_error_set(err, SD_EIO, NULL, "cannot open %s: %s", path, strerror(errno));
  if (flock(f, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    char pid[24] = "";
    ssize_t n = pread(f, pid, sizeof pid - 1, 0);
    close(f);
    if (e != EWOULDBLOCK)
      return sd_error_set(err, SD_EIO, NULL, "cannot lock %s: %s", path, strerror(e));
    pid[n > 0 ? n : 0] = '\0';
    pid[strcspn(pid, "\n")] = '\0';
    if (pid[0] && strtol(pid, NULL, 10) == (long)getpid())
      return sd_error_set(err, SD_ELOCKED, NULL,
                          "%s is held by this process (not released yet)", path);
    return sd_error_set(err, SD_ELOCKED, NULL, "%s is held by another process%s%s%s", path,
                        pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "");
  }
  char line[24];
  int len = snprintf(line, sizeof line, "%ld\n", (long)getpid());
  if (ftruncate(f, 0) != 0 || pwrite(f, line, (size_t)len, 0) != len) { /* only informative */ }
  *fd = f;
  return SD_OK;
}
