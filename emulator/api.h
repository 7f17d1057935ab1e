/* api.h: the Runware wire protocol on POST /v1: auth, request faults,
 * imageInference, getResponse and imageUpload tasks, and the result items. */
#ifndef EMU_API_H
#define EMU_API_H

#include <stddef.h>
#include <stdint.h>

struct emu_server;
struct emu_image;

/* What to answer, and when. */
typedef struct emu_answer {
  unsigned status;
  char *body;              /* malloc'ed; NULL = empty body */
  size_t len;
  const char *ctype;       /* static string */
  uint64_t due;            /* monotonic ms before which it must not be sent; 0 = now */
  int retry_after;         /* seconds; > 0 adds a Retry-After header */
  int drop;                /* close the connection without an answer */
} emu_answer;

void emu_api_v1(struct emu_server *srv, const char *body, size_t len, const char *authz,
                emu_answer *out);

/* The flat result item of a finished image as JSON text (webhooks post it). */
char *emu_api_item_text(struct emu_server *srv, const struct emu_image *img, size_t *len);

/* {"errors":[{"code":..,"message":..}]} for control endpoints and image GETs. */
char *emu_api_error_body(const char *code, const char *message, size_t *len);

#endif
