/*
 * Who a caller is, for the policy: a local client's groups as the system
 * knows them now (read at connect and again at every reload, so that a
 * group change takes effect without reconnecting), and the name logs use.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf/conf.h"

/* Beyond this many groups per user something is off; do not chase it. */
#define POLICY_MAX_GROUPS 65536

int policy_load_groups(struct ident *c)
{
	struct passwd pw, *found = NULL;
	long bufsize = sysconf(_SC_GETPW_R_SIZE_MAX);
	char *buf;
	gid_t *g = NULL, *grown;
	int n = 16, i, have_gid = 0;

	if (c->kind != IDENT_LOCAL)
		return 0;
	if (bufsize < 1024)
		bufsize = 16384;
	buf = malloc((size_t)bufsize);
	if (buf == NULL)
		return -ENOMEM;
	if (getpwuid_r(c->uid, &pw, buf, (size_t)bufsize, &found) != 0)
		found = NULL;
	for (;;) {
		/* One spare slot for the peer's own gid. */
		grown = realloc(g, ((size_t)n + 1) * sizeof(*g));
		if (grown == NULL) {
			free(g);
			free(buf);
			return -ENOMEM;
		}
		g = grown;
		if (found == NULL) {
			n = 0;
			break;
		}
		if (getgrouplist(found->pw_name, found->pw_gid, g, &n) >= 0)
			break;
		if (n > POLICY_MAX_GROUPS) {
			n = 0;
			break;
		}
	}
	free(buf);
	for (i = 0; i < n; i++)
		have_gid |= g[i] == c->gid;
	if (!have_gid)
		g[n++] = c->gid;
	free(c->groups);
	c->groups = g;
	c->n_groups = (size_t)n;
	return 0;
}

void policy_who(const struct ident *c, char *buf, size_t size)
{
	char addr[INET6_ADDRSTRLEN];

	if (c->kind == IDENT_PEER) {
		peer_format(&c->peer, addr, sizeof(addr));
		snprintf(buf, size, "peer %s", addr);
	} else {
		snprintf(buf, size, "uid %lu", (unsigned long)c->uid);
	}
}
