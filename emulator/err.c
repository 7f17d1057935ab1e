/* err.c: see err.h. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

int emu_err_set(emu_err *e, int status, const char *code, const char *parameter,
                const char *fmt, ...)
{
  va_list ap;
  e->status = status;
  snprintf(e->code, sizeof e->code, "%s", code);
  snprintf(e->parameter, sizeof e->parameter, "%s", parameter ? parameter : "");
  va_start(ap, fmt);
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
  return -1;
}
