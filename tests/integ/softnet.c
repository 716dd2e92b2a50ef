/*
 * The kernel's backlog queues (/proc/net/softnet_stat): what they drop
 * never reaches a socket, so a test that accounts for every frame of a
 * flood counts these apart from the sockets' own drops.
 */
#include <stdio.h>

#include "util.h"

uint64_t softnet_drops(void)
{
	FILE *f = fopen("/proc/net/softnet_stat", "r");
	unsigned long processed, dropped;
	uint64_t sum = 0;
	char line[512];

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%lx %lx", &processed, &dropped) == 2)
			sum += dropped;
	fclose(f);
	return sum;
}
