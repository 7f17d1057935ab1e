/* validate.h: imageInference request validation, following the API reference and the
 * limits in core/sd_limits.h, with Runware-shaped errors. */
#ifndef EMU_VALIDATE_H
#define EMU_VALIDATE_H

#include <cjson/cJSON.h>

#include "encode.h"
#include "err.h"
#include "refs.h"

struct emu_server;

typedef enum { EMU_OUT_URL = 0, EMU_OUT_DATAURI, EMU_OUT_BASE64 } emu_out_type;

/* A validated imageInference task with defaults applied. Owns its strings and refs. */
typedef struct emu_spec {
  char *prompt;
  int width, height;
  emu_out_type out_type;
  emu_format format;
  int quality;
  char *webhook_url, *upload_url;   /* NULL when absent */
  int async;
  int check_content;                /* NSFWContent is reported */
  int include_cost;
  long ttl;                         /* seconds, 0 = none */
  int number_results;
  int max_seq, has_max_seq;         /* providerSettings.bytedance.maxSequentialImages */
  emu_ref *refs;
  int n_refs;
} emu_spec;

/* Validates one task object (taskType already known to be imageInference). On success fills
 * spec (free with emu_spec_free) and returns 0; else -1 with err set. */
int emu_validate_inference(struct emu_server *srv, const cJSON *task, emu_spec *spec,
                           emu_err *err);
void emu_spec_free(emu_spec *spec);

/* The taskUUID check shared by every task type: 0 ok, -1 with err set. */
int emu_validate_task_uuid(const cJSON *task, emu_err *err);

#endif
