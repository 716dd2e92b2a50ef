/*
 * candump's interface and filter words for canctl dump. Interface names
 * can hold neither ':' nor '~' (the kernel refuses them), so a word with
 * one is a filter, and anything else is one more interface.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canctl.h"
#include "canctl_dump.h"

#define CANCTL_DUMPARGS_EFF  0x80000000u
#define CANCTL_DUMPARGS_ERR  0x20000000u
#define CANCTL_DUMPARGS_MASK 0x1fffffffu

/* A filter, or one of candump's filter forms cand has no use for. */
static int canctl_dumpargs_is_filter(const char *s)
{
	return strpbrk(s, ":~") != NULL || s[0] == '#' ||
	       ((s[0] == 'j' || s[0] == 'J') && s[1] == '\0');
}

/*
 * candump's filter rules: the id and mask are raw SocketCAN values, an
 * 8-digit id gets CAN_EFF_FLAG, and only a mask holding CAN_EFF_FLAG makes
 * the frame format matter. The RTR bit of a mask has no cand equivalent.
 */
static int canctl_dumpargs_filter(const char *s, struct cand_filter *f,
				  const char **why)
{
	const char *sep;
	uint32_t id, mask;

	memset(f, 0, sizeof(*f));
	if (s[0] == '#') {
		*why = "error mask filters (#mask) are not supported; error "
		       "frames come unless -E";
		return -1;
	}
	if ((s[0] == 'j' || s[0] == 'J') && s[1] == '\0') {
		*why = "joined filters (j) are not supported";
		return -1;
	}
	sep = s + strcspn(s, ":~");
	if (canctl_util_hex32(s, sep, &id) < 0 ||
	    canctl_util_hex32(sep + 1, sep + 1 + strlen(sep + 1), &mask) < 0) {
		*why = "id and mask are 1 to 8 hex digits";
		return -1;
	}
	mask &= ~CANCTL_DUMPARGS_ERR;
	if (sep - s == 8)
		id |= CANCTL_DUMPARGS_EFF;
	f->id = id & CANCTL_DUMPARGS_MASK;
	f->mask = mask & CANCTL_DUMPARGS_MASK;
	if (mask & CANCTL_DUMPARGS_EFF)
		f->kind = (id & CANCTL_DUMPARGS_EFF) ? CAND_FILTER_EXTENDED
						     : CAND_FILTER_STANDARD;
	else
		f->kind = CAND_FILTER_ANY;
	f->invert = *sep == '~';
	return 0;
}

static int canctl_dumpargs_add_if(struct canctl_dump_ifs *ifs, const char *s,
				  size_t len)
{
	struct canctl_dump_if *di;

	if (len == 0)
		return canctl_usage_error("an empty interface name");
	if (len >= CAND_IFNAMSIZ)
		return canctl_usage_error("interface name '%.*s' is too long",
					  (int)len, s);
	if (ifs->n == CANCTL_DUMP_MAX_IFS)
		return canctl_usage_error("more than %d interfaces",
					  CANCTL_DUMP_MAX_IFS);
	di = &ifs->v[ifs->n++];
	memcpy(di->name, s, len);
	di->name[len] = '\0';
	if ((int)len > ifs->width)
		ifs->width = (int)len;
	return 0;
}

static int canctl_dumpargs_add_filter(struct canctl_dump_ifs *ifs,
				      const char *s)
{
	struct canctl_dump_if *di = &ifs->v[ifs->n - 1];
	struct cand_filter *v;
	const char *why;

	v = realloc(di->filters, (di->n_filters + 1) * sizeof(*v));
	if (v == NULL) {
		fprintf(stderr, "canctl: out of memory\n");
		return 1;
	}
	di->filters = v;
	if (canctl_dumpargs_filter(s, &v[di->n_filters], &why) < 0)
		return canctl_usage_error("bad filter '%s': %s", s, why);
	di->n_filters++;
	return 0;
}

/* One word: its comma-separated parts, each a filter or an interface. */
static int canctl_dumpargs_word(struct canctl_dump_ifs *ifs, char *word)
{
	char *tok, *save;
	int rc;

	for (tok = strtok_r(word, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!canctl_dumpargs_is_filter(tok))
			rc = canctl_dumpargs_add_if(ifs, tok, strlen(tok));
		else if (ifs->n == 0)
			rc = canctl_usage_error("filter '%s' before any "
						"interface",
						tok);
		else
			rc = canctl_dumpargs_add_filter(ifs, tok);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int canctl_dumpargs_parse(struct canctl_dump_ifs *ifs, int argc, char **argv)
{
	char *word;
	int i, rc = 0;

	memset(ifs, 0, sizeof(*ifs));
	if (argc < 1)
		return canctl_usage_error("dump needs an interface or 'any'");
	for (i = 0; i < argc && rc == 0; i++) {
		if (argv[i][0] == '\0' || argv[i][0] == ',')
			rc = canctl_usage_error("an empty interface name");
		else if ((word = strdup(argv[i])) == NULL) {
			fprintf(stderr, "canctl: out of memory\n");
			rc = 1;
		} else {
			rc = canctl_dumpargs_word(ifs, word);
			free(word);
		}
	}
	if (rc != 0)
		canctl_dumpargs_free(ifs);
	return rc;
}

void canctl_dumpargs_free(struct canctl_dump_ifs *ifs)
{
	int i;

	for (i = 0; i < ifs->n; i++) {
		free(ifs->v[i].filters);
		ifs->v[i].filters = NULL;
		if (ifs->v[i].h != NULL)
			cand_close(ifs->v[i].h);
		ifs->v[i].h = NULL;
	}
	ifs->n = 0;
}
