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
#include "filtertext.h"

/* A filter, or one of candump's filter forms cand has no use for. */
static int canctl_dumpargs_is_filter(const char *s)
{
	return strpbrk(s, ":~") != NULL || s[0] == '#' ||
	       ((s[0] == 'j' || s[0] == 'J') && s[1] == '\0');
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
	if (filtertext_parse(s, &v[di->n_filters], &why) < 0)
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
