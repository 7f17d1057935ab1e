/* sd_text.h: UTF-8, UUID v4 and base64 helpers. */
#ifndef SD_TEXT_H
#define SD_TEXT_H

#include <stddef.h>

/* Number of code points in s, or -1 if s is not valid UTF-8 (overlongs, surrogates,
 * > U+10FFFF and truncated sequences are invalid). */
long sd_utf8_count(const char *s, size_t len);

/* Writes a fresh random UUID v4 (36 chars + NUL) using libuuid. */
void sd_uuid_v4(char out[37]);
/* 1 if s is a canonical UUID (8-4-4-4-12 hex, any case); sd_uuid_is_v4 also checks the
 * version nibble (4) and the RFC 4122 variant (8, 9, a, b). */
int sd_uuid_is_valid(const char *s, size_t len);
int sd_uuid_is_v4(const char *s, size_t len);

/* Standard base64 (RFC 4648, with padding). */
size_t sd_base64_encoded_len(size_t n);       /* exact output length, without NUL */
/* Encodes n bytes into out (sd_base64_encoded_len(n) bytes, no NUL added); returns that len. */
size_t sd_base64_encode(const unsigned char *in, size_t n, char *out);
/* Decodes; returns bytes written to out (needs at most len/4*3 bytes) or (size_t)-1 when the
 * input is not valid base64 (bad char, bad padding, length not a multiple of 4). */
size_t sd_base64_decode(const char *in, size_t len, unsigned char *out);
/* 1 if s is syntactically valid base64 as above (no decoding buffer needed). */
int sd_base64_is_valid(const char *s, size_t len);

#endif
