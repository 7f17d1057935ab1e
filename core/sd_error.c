/* sd_error.c: error code names and the bounded error record. */
#include "sd_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const sd_code_names[SD_ERROR_COUNT] = {
#define SD_X_NAME(name, str, retry) str,
    SD_ERROR_LIST(SD_X_NAME)
#undef SD_X_NAME
};

static const unsigned char sd_code_retry[SD_ERROR_COUNT] = {
#define SD_X_RETRY(name, str, retry) retry,
    SD_ERROR_LIST(SD_X_RETRY)
#undef SD_X_RETRY
};

const char *sd_code_name(sd_code code) {
  if ((int)code < 0 || (int)code >= SD_ERROR_COUNT) return "unknown";
  return sd_code_names[code];
}

int sd_code_retryable(sd_code code) {
  if ((int)code < 0 || (int)code >= SD_ERROR_COUNT) return 0;
  return sd_code_retry[code];
}

sd_code sd_error_set(sd_error *err, sd_code code, const char *field, const char *fmt, ...) {
  if (!err) return code;
  err->code = code;
  err->field[0] = '\0';
  if (field) snprintf(err->field, sizeof err->field, "%s", field);
  err->message[0] = '\0';
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return code;
}

void sd_error_clear(sd_error *err) {
  if (!err) return;
  err->code = SD_OK;
  err->field[0] = '\0';
  err->message[0] = '\0';
}
