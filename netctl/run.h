/* netctl's commands: ask shoald (lib/ipc.h), print the answer, choose the exit code. */
#pragma once
#include <stdio.h>

#include "netctl/args.h"

/* Run parsed arguments; returns the process exit code (NETCTL_EXIT_*). */
int netctl_run(const struct netctl_args *args, FILE *out, FILE *err);
/* The whole program: parse argv (with $SHOAL_SOCKET as env_socket), run, exit code. */
int netctl_main(int argc, char *const *argv, const char *env_socket, FILE *out, FILE *err);
