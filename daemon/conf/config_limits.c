/*
 * [limits]: daemon-wide limits, one table line per key with its bounds.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/can/raw.h>

#include "conf/config_parse.h"
#include "wire.h"

enum config_type { CONFIG_SIZE_T, CONFIG_UNSIGNED, CONFIG_INT };

static const struct config_limit {
	const char *key;
	size_t off;
	enum config_type type;
	int sizes; /* takes K/M */
	unsigned long long min, max;
} config_limits[] = {
	{"max_clients", offsetof(struct cand_limits, max_clients),
	 CONFIG_UNSIGNED, 0, 1, 1000000},
	{"max_message_size", offsetof(struct cand_limits, max_msg),
	 CONFIG_SIZE_T, 1, 128, CAND_MAX_MSG},
	{"max_filters", offsetof(struct cand_limits, max_filters),
	 CONFIG_UNSIGNED, 0, 0, CAN_RAW_FILTER_MAX},
	{"max_periodic_tasks", offsetof(struct cand_limits, max_periodic),
	 CONFIG_UNSIGNED, 0, 0, 100000},
	{"max_monitors", offsetof(struct cand_limits, max_monitors),
	 CONFIG_UNSIGNED, 0, 0, 100000},
	{"output_high_watermark", offsetof(struct cand_limits, out_high),
	 CONFIG_SIZE_T, 1, 4096, 1ull << 30},
	{"output_low_watermark", offsetof(struct cand_limits, out_low),
	 CONFIG_SIZE_T, 1, 0, 1ull << 30},
	{"can_receive_buffer", offsetof(struct cand_limits, rcvbuf), CONFIG_INT,
	 1, 4096, 256u << 20},
	{"receive_rest_us", offsetof(struct cand_limits, rest_us),
	 CONFIG_UNSIGNED, 0, 0, 100000},
};

int config_limits_key(struct config_parse *p, const char *key,
		      const char *value)
{
	const struct config_limit *l = NULL;
	unsigned long long v;
	char *field;
	size_t i;

	for (i = 0; i < sizeof(config_limits) / sizeof(config_limits[0]); i++)
		if (strcmp(key, config_limits[i].key) == 0)
			l = &config_limits[i];
	if (l == NULL) {
		config_error(p, "[limits]: unknown key '%s' (known:", key);
		for (i = 0;
		     i < sizeof(config_limits) / sizeof(config_limits[0]); i++)
			snprintf(p->err + strlen(p->err),
				 sizeof(p->err) - strlen(p->err), " %s",
				 config_limits[i].key);
		snprintf(p->err + strlen(p->err),
			 sizeof(p->err) - strlen(p->err), ")");
		return 0;
	}
	i = (size_t)(l - config_limits);
	if (p->limits_seen & (1u << i))
		return config_error(p, "[limits]: %s is given twice", key);
	p->limits_seen |= 1u << i;
	if (config_number(value, l->sizes, &v) < 0)
		return config_error(p, "%s: '%s' is not a number%s", key, value,
				    l->sizes ? " (suffix K or M allowed)" : "");
	if (v < l->min || v > l->max)
		return config_error(p, "%s: %llu is outside %llu..%llu", key, v,
				    l->min, l->max);
	field = (char *)&p->cfg->limits + l->off;
	switch (l->type) {
	case CONFIG_SIZE_T:
		*(size_t *)(void *)field = (size_t)v;
		break;
	case CONFIG_UNSIGNED:
		*(unsigned *)(void *)field = (unsigned)v;
		break;
	case CONFIG_INT:
		*(int *)(void *)field = (int)v;
		break;
	}
	if (l->off == offsetof(struct cand_limits, out_high) ||
	    l->off == offsetof(struct cand_limits, out_low))
		p->watermark_line = p->line;
	return 1;
}
