/* sd_schema.h: the Seedream 5.0 Lite request schema, validation and normalisation.
 *
 * One table in sd_schema.c describes every field of the API reference; validation, defaults
 * and error messages are driven by it. Model limits (pixel range, aspect, counts) live in
 * sd_limits.h so that the emulator uses the same numbers. */
#ifndef SD_SCHEMA_H
#define SD_SCHEMA_H

#include "sd_error.h"
#include "sd_value.h"

#define SD_MODEL_ID "bytedance:seedream@5.0-lite"
#define SD_TASK_TYPE "imageInference"

/* Validates req (an SD_OBJECT) and normalises it in place so that it is exactly the wire
 * shape of one imageInference task:
 *  - a top-level referenceImages array moves to inputs.referenceImages (error if both);
 *  - taskType and model are filled in (if given they must have the documented values);
 *  - taskUUID is generated with libuuid unless given (then it must be a UUID v4);
 *  - integral floats in integer fields become integers;
 *  - defaults are NOT written (the server applies them), but they are used for the rules
 *    that depend on them (ttl needs outputType URL, which is the default).
 * On failure returns the code (SD_EINVALID) with err->field the path of the offending field
 * ("inputs.referenceImages[3]") and err->message one sentence; req is then unspecified. */
sd_code sd_request_prepare(sd_value *req, sd_error *err);

/* Same checks without changing req (for seedream.validate). */
sd_code sd_request_check(const sd_value *req, sd_error *err);

/* How many images the task can produce at most: numberResults x maxSequentialImages
 * (defaults 1). Used for cost budgets and to know when a task has all its results. */
int sd_request_max_images(const sd_value *req);

/* The closest known field name to key at its nesting level (for "did you mean"), or NULL. */
const char *sd_schema_suggest(const char *parent_path, const char *key);

#endif
