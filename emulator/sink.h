/* sink.h: a built-in receiver for webhooks and uploadEndpoint PUTs, so tests and demos need
 * no server of their own: POST/PUT /sink/<anything> answers 200 (or N for
 * /sink/status/<N>, to test retries); GET /sink lists what arrived; DELETE /sink clears. */
#ifndef EMU_SINK_H
#define EMU_SINK_H

#include <pthread.h>
#include <stddef.h>

#define EMU_SINK_SIZE 128

typedef struct emu_sink_entry {
  char method[8];
  char path[160];
  char ctype[64];
  char magic[9];      /* first 4 bytes in hex: tells JPG / PNG / WEBP apart */
  int auth;           /* an Authorization header came along (it never should) */
  size_t len;
  char *json;         /* the body when it is JSON, else NULL */
} emu_sink_entry;

typedef struct emu_sink {
  pthread_mutex_t lock;
  emu_sink_entry ring[EMU_SINK_SIZE];
  size_t next;        /* total received; slot = next % size */
} emu_sink;

int emu_sink_init(emu_sink *s);
void emu_sink_free(emu_sink *s);
void emu_sink_clear(emu_sink *s);
void emu_sink_add(emu_sink *s, const char *method, const char *path, const char *ctype,
                  int auth, const char *body, size_t len);
/* {"received": N, "items": [oldest..newest]} */
char *emu_sink_json(emu_sink *s, size_t *len);

#endif
