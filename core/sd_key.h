/* sd_key.h: a stable key for a request, for resuming runs: the same request (whatever its
 * taskUUID and the order of its fields) gives the same key in every process. */
#ifndef SD_KEY_H
#define SD_KEY_H

#include "sd_value.h"

/* Writes 32 hex digits + NUL: two 64-bit FNV-1a hashes of the canonical form of req
 * (object keys sorted, "taskUUID" left out at the top level, files as their size and
 * content, read here; as their path if they cannot be read). Call it on a prepared request (sd_request_prepare), whose shape is canonical
 * (referenceImages under inputs). Returns 0, or -1 on nomem. */
int sd_request_key(const sd_value *req, char out[33]);

#endif
