/* faults.h: fault injection, configured with POST /faults and cleared with DELETE /faults.
 *
 * Request faults (status, drop, drop_after_processing, malformed, truncate, slow, empty)
 * apply to the next `count` POST /v1 requests, in the order they were queued. Task faults
 * apply to the next `count` imageInference tasks: task_error to any, short_series to those
 * that ask for maxSequentialImages. */
#ifndef EMU_FAULTS_H
#define EMU_FAULTS_H

#include <pthread.h>
#include <stddef.h>

typedef enum {
  EMU_FAULT_STATUS, EMU_FAULT_DROP, EMU_FAULT_DROP_AFTER, EMU_FAULT_MALFORMED,
  EMU_FAULT_TRUNCATE, EMU_FAULT_SLOW, EMU_FAULT_EMPTY, EMU_FAULT_SHORT_SERIES,
  EMU_FAULT_TASK_ERROR
} emu_fault_kind;

typedef struct emu_fault {
  emu_fault_kind kind;
  int status;          /* status; malformed, empty: the answer's status (default 200) */
  int retry_after;     /* status: seconds, 0 = no Retry-After header */
  long ms;             /* slow */
  int images;          /* short_series */
  char code[48];       /* task_error (default "contentModerated"); status: error code */
  int count;           /* applications left */
  struct emu_fault *next;
} emu_fault;

typedef struct emu_faults {
  pthread_mutex_t lock;
  emu_fault *request, *series, *task_error;   /* FIFO queues */
} emu_faults;

int emu_faults_init(emu_faults *f);
void emu_faults_free(emu_faults *f);
void emu_faults_clear(emu_faults *f);
/* Queues the fault described by a JSON object. 0 ok, -1 with msg (size n) set. */
int emu_faults_add_json(emu_faults *f, const char *body, size_t len, char *msg, size_t n);
/* Takes one application of the front fault of a queue into *out; 1 if there was one. */
int emu_faults_take_request(emu_faults *f, emu_fault *out);
int emu_faults_take_series(emu_faults *f, emu_fault *out);
int emu_faults_take_task_error(emu_faults *f, emu_fault *out);
/* JSON array describing what is queued (GET /faults). */
char *emu_faults_json(emu_faults *f, size_t *len);

#endif
