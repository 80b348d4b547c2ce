/* netctl: the operator's command line for shoal (docs/netctl.md). */
#include <stdio.h>
#include <stdlib.h>

#include "netctl/run.h"

int main(int argc, char **argv)
{
	return netctl_main(argc, argv, getenv("SHOAL_SOCKET"), stdout, stderr);
}
