/* err.h: the Runware-shaped error record every task-level failure is reported with. */
#ifndef EMU_ERR_H
#define EMU_ERR_H

typedef struct emu_err {
  int status;            /* HTTP status the error implies when nothing else succeeded */
  char code[48];         /* Runware-style camelCase code */
  char parameter[128];   /* field path, "" when not about one field */
  char message[256];
} emu_err;

/* Fills e; returns -1 so validators can `return emu_err_set(...)`. */
int emu_err_set(emu_err *e, int status, const char *code, const char *parameter,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define EMU_DOC_URL "https://runware.ai/docs/en/image-inference/api-reference"

#endif
