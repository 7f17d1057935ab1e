/* sd_error.h: the one list of client-side error codes, and the error record.
 *
 * Runware's own codes (invalidApiKey, conflictTaskUUID, ...) are strings that pass through
 * untouched at the Lua level; the codes below are the few the client adds itself. They are
 * lower-case so a user can tell them from Runware's camelCase ones. */
#ifndef SD_ERROR_H
#define SD_ERROR_H

#include <stddef.h>

/* X(enum name, code string shown to users, retryable by default) */
#define SD_ERROR_LIST(X)                                   \
  X(SD_OK,           "ok",           0)                    \
  X(SD_EINVALID,     "invalid",      0) /* request failed validation; field is set */ \
  X(SD_ENOKEY,       "missing_key",  0) /* no API key configured */               \
  X(SD_ENETWORK,     "network",      1) /* connect/DNS/TLS/reset errors */         \
  X(SD_ETIMEOUT,     "timeout",      1) /* transfer or task timed out */           \
  X(SD_EHTTP,        "http",         0) /* non-2xx without a Runware error body */ \
  X(SD_EPROTOCOL,    "bad_response", 0) /* body is not the documented shape */     \
  X(SD_EIO,          "io",           0) /* local file error */                     \
  X(SD_ENOMEM,       "nomem",        0)                                            \
  X(SD_ECANCELLED,   "cancelled",    0)                                            \
  X(SD_EBUDGET,      "budget",       0) /* would exceed the client's cost budget */  \
  X(SD_ECALLBACK,    "callback",     0) /* a caller's function raised (map, refine) */ \
  X(SD_ELOCKED,      "locked",       0) /* another run holds the run directory */

typedef enum {
#define SD_X_ENUM(name, str, retry) name,
  SD_ERROR_LIST(SD_X_ENUM)
#undef SD_X_ENUM
  SD_ERROR_COUNT
} sd_code;

/* Field paths are short (inputs.referenceImages[13]); messages are one sentence. */
#define SD_FIELD_MAX 128
#define SD_MESSAGE_MAX 512

typedef struct sd_error {
  sd_code code;
  char field[SD_FIELD_MAX];     /* "" when the error is not about one field */
  char message[SD_MESSAGE_MAX]; /* human text, never contains the API key */
} sd_error;

const char *sd_code_name(sd_code code);   /* "invalid", ...; "unknown" if out of range */
int sd_code_retryable(sd_code code);

/* Sets all three parts; fmt is printf-style. field may be NULL. Returns code. */
sd_code sd_error_set(sd_error *err, sd_code code, const char *field, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
void sd_error_clear(sd_error *err);

#endif
