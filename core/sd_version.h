/* sd_version.h: the one place the version is written (the User-Agent and seedream.VERSION
 * both come from here). */
#ifndef SD_VERSION_H
#define SD_VERSION_H

#define SD_VERSION "0.1.0"

#endif
