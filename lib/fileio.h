/* Files that survive kill -9 and power loss: write to a temporary name, fsync, rename, fsync dir. */
#pragma once
#include <stddef.h>

/* Atomically replace path with data.  The temporary file lives in the same directory. */
int file_write_atomic(const char *path, const void *data, size_t len, int mode);
/* The same without fdatasync/fsync: atomic against a crash of the process (rename is), not against
 * power loss.  For records of state that cannot outlive a reboot anyway (veths in network
 * namespaces), where the syncs would only cost time. */
int file_replace(const char *path, const void *data, size_t len, int mode);
/* Read a whole file of at most max bytes into a NUL-terminated malloc'ed buffer. */
int file_read_all(const char *path, size_t max, char **ret_data, size_t *ret_len);
/* Read everything from fd up to max bytes (NUL-terminated).  -EFBIG when there is more. */
int fd_read_all(int fd, size_t max, char **ret_data, size_t *ret_len);
/* mkdir -p with mode for every created component. */
int mkdir_p(const char *path, int mode);
int fsync_dir(const char *dir);
