/* sd_limits.h: Seedream 5.0 Lite limits, in one place (client and emulator use them).
 *
 * Sources: the API reference (shared/spec/seedream-5.0-lite-api.txt) for counts, prompt
 * length and quality; BytePlus figures as cited by third-party gateways for the pixel range
 * and aspect ratio (one source says 16,777,216 max pixels: if the real API accepts more, a
 * server's answer wins; change SD_MAX_PIXELS here). */
#ifndef SD_LIMITS_H
#define SD_LIMITS_H

#define SD_PROMPT_MIN 1
#define SD_PROMPT_MAX 2000             /* UTF-8 code points */
#define SD_MIN_PIXELS 3686400L         /* 2560 x 1440 ("2K" tier floor) */
#define SD_MAX_PIXELS 10404496L        /* 3072 x 3072 x 1.1025 ("3K" tier ceiling) */
#define SD_MAX_ASPECT 16               /* 1:16 .. 16:1 */
#define SD_QUALITY_MIN 20
#define SD_QUALITY_MAX 99
#define SD_QUALITY_DEFAULT 95
#define SD_RESULTS_MIN 1
#define SD_RESULTS_MAX 20
#define SD_TTL_MIN 60
#define SD_REFS_MIN 1
#define SD_REFS_MAX 14
#define SD_SEQ_MIN 1
#define SD_SEQ_MAX 15
#define SD_REFS_PLUS_SEQ_MAX 15
/* The largest integer a request may carry: 2^53, the last one every JSON reader (doubles)
 * holds exactly. */
#define SD_JSON_INT_MAX 9007199254740992.0
#define SD_COST_PER_IMAGE 0.035        /* USD, from the reference's example responses */

/* Reference image limits (third-party docs, unsettled): sides and aspect ratio. */
#define SD_REF_SIDE_MIN 14
#define SD_REF_SIDE_MAX 6000
#define SD_REF_MAX_ASPECT 16
/* Bytes of one reference image file (BytePlus: "at most 10 MB" per image, third-party). */
#define SD_REF_BYTES_MAX (10LL * 1024 * 1024)

#endif
