/*
 * canctl list: one line per CAN interface, in the spirit of ip link.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canctl.h"

static const char *canctl_list_type(const struct cand_iface *i)
{
	if (i->hardware)
		return "hardware";
	if (strcmp(i->kind, "vcan") == 0 || strcmp(i->kind, "vxcan") == 0)
		return "virtual";
	return "other";
}

static int canctl_list(const char *sock, int argc, char **argv)
{
	struct cand_iface *v;
	cand_t *h;
	char mtu[32];
	int i, n, width = 0;

	(void)argv;
	if (argc > 1)
		return canctl_usage_error("list takes no arguments");
	if (canctl_util_connect(sock, &h) != 0)
		return 1;
	if ((n = cand_list(h, &v)) < 0) {
		canctl_util_fail(h, n, "list");
		cand_close(h);
		return 1;
	}
	for (i = 0; i < n; i++) {
		if ((int)strlen(v[i].name) > width)
			width = (int)strlen(v[i].name);
	}
	for (i = 0; i < n; i++) {
		snprintf(mtu, sizeof(mtu), "mtu %u%s", v[i].mtu,
			 v[i].mtu == 72 ? " (FD)" : "");
		printf("%-*s  %-4s  %-11s  %s%s%s\n", width, v[i].name,
		       v[i].up ? "up" : "down", mtu, canctl_list_type(&v[i]),
		       v[i].kind[0] != '\0' ? " " : "", v[i].kind);
	}
	free(v);
	cand_close(h);
	if (fflush(stdout) == EOF)
		return 1;
	return 0;
}

const struct canctl_cmd canctl_list_cmd = {
	"list",
	"",
	"show the CAN interfaces\n",
	canctl_list,
};
