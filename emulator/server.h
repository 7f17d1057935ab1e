/* server.h: the HTTP side: libmicrohttpd daemon, routing, delayed answers. */
#ifndef EMU_SERVER_H
#define EMU_SERVER_H

#include "emu.h"

/* Initialises every module of srv (cfg must be set) and starts listening; fills
 * srv->base_url. 0 ok, -1 with a message on stderr (srv is then cleaned up). */
int emu_server_start(emu_server *srv);
/* Stops accepting, answers suspended requests, stops all threads, frees everything. */
void emu_server_stop(emu_server *srv);

#endif
