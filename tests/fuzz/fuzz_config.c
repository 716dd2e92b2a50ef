/*
 * cand.conf: the input is the file. It goes through config_load_string(),
 * the reader `cand -n` and a reload use (the corpus replay also runs
 * `cand -n` itself on every file), and when it loads, the policy it built
 * is asked what the daemon asks: rights, checks, frames to send.
 *
 * Beyond the sanitizers: a file that does not load says where and why,
 * and leaves nothing behind; one that loads gives decisions that agree
 * with each other (a check passes exactly when the right is there, a
 * frame goes out only with the right to send it, root may do anything)
 * and bus-off policies inside their documented bounds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "fuzz.h"
#include "wire.h"

#define FUZZ_CONFIG_NAME "fuzz.conf"

/* Who asks: root, and two users with and without supplementary groups. */
static gid_t fuzz_config_groups[] = {1000, 4240, 20};
static const struct ident fuzz_config_idents[] = {
	{.kind = IDENT_LOCAL, .uid = 0, .gid = 0, .pid = 1},
	{.kind = IDENT_LOCAL,
	 .uid = 1000,
	 .gid = 1000,
	 .pid = 2,
	 .groups = fuzz_config_groups,
	 .n_groups = 3},
	{.kind = IDENT_LOCAL, .uid = 4242, .gid = 4242, .pid = 3},
};

/* "" is the all-interfaces channel; the rest names and near-misses. */
static const char *const fuzz_config_ifaces[] = {
	"", "vcan0", "vcan1", "can0", "can1", "lo", "*", "a[b",
};

/* A standard, an extended and an error frame, and one naming its own. */
static const uint8_t fuzz_config_data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
static const struct frame_desc fuzz_config_frames[] = {
	{.id = 0x123, .data = fuzz_config_data, .len = 8, .ifname = ""},
	{.id = 0x18da00f1, .extended = 1, .ifname = ""},
	{.id = 0x4, .error = 1, .ifname = ""},
	{.id = 0x7ff, .remote = 1, .dlc = 8, .ifname = "can1"},
};

#define FUZZ_CONFIG_N(a) (sizeof(a) / sizeof((a)[0]))

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_isolate();
	return 0;
}

static void fuzz_config_rights(const struct policy *p, const struct ident *id,
			       const char *iface)
{
	unsigned have = policy_rights(p, id, iface);
	char detail[256];
	int r, ok, rc;

	for (r = RIGHT_NONE; r <= RIGHT_OPEN; r++) {
		ok = policy_allows(p, id, iface, (enum policy_right)r);
		detail[0] = '\0';
		rc = policy_check(p, id, iface, (enum policy_right)r, detail,
				  sizeof(detail));
		FUZZ_CHECK(rc == (ok ? 0 : -EPERM));
		FUZZ_CHECK(ok || detail[0] != '\0');
		if (id->uid == 0 || r == RIGHT_NONE)
			FUZZ_CHECK(ok);
		else if (r != RIGHT_OPEN)
			FUZZ_CHECK(ok == ((have & POLICY_RIGHT_BIT(r)) != 0));
	}
}

static void fuzz_config_frames_ok(const struct policy *p,
				  const struct ident *id, const char *channel)
{
	enum policy_right rights[] = {RIGHT_SEND, RIGHT_PERIODIC};
	const struct frame_desc *f;
	char detail[256];
	size_t i, j;
	int rc;

	for (i = 0; i < FUZZ_CONFIG_N(rights); i++) {
		detail[0] = '\0';
		rc = policy_check_frames(p, id, channel, fuzz_config_frames,
					 FUZZ_CONFIG_N(fuzz_config_frames), 0,
					 rights[i], detail, sizeof(detail));
		FUZZ_CHECK(rc == 0 || (rc == -EPERM && detail[0] != '\0'));
		FUZZ_CHECK(rc == 0 || id->uid != 0);
		if (rc < 0)
			continue;
		/* Nothing goes out where the right itself is missing. */
		for (j = 0; j < FUZZ_CONFIG_N(fuzz_config_frames); j++) {
			f = &fuzz_config_frames[j];
			if (channel[0] != '\0')
				FUZZ_CHECK(policy_allows(p, id, channel,
							 rights[i]));
			else if (f->ifname[0] != '\0')
				FUZZ_CHECK(policy_allows(p, id, f->ifname,
							 rights[i]));
		}
	}
}

static void fuzz_config_busoff(const struct cand_config *cfg)
{
	const struct busoff_policy *b;
	size_t i;

	for (i = 0; i < cfg->n_busoff; i++) {
		b = &cfg->busoff[i];
		FUZZ_CHECK(memchr(b->ifname, '\0', sizeof(b->ifname)) != NULL);
		FUZZ_CHECK(b->ifname[0] != '\0');
		FUZZ_CHECK(config_busoff(cfg, b->ifname) == b);
		FUZZ_CHECK(b->mode == BUSOFF_KERNEL || b->mode == BUSOFF_CAND ||
			   b->mode == BUSOFF_NONE);
		FUZZ_CHECK(b->max_per_minute <= BUSOFF_MAX_PER_MINUTE);
	}
}

static void fuzz_config_loaded(const struct cand_config *cfg)
{
	size_t i, j;

	FUZZ_CHECK(cfg->policy != NULL);
	FUZZ_CHECK(cfg->limits.out_low < cfg->limits.out_high);
	FUZZ_CHECK(cfg->limits.max_msg > 0 &&
		   cfg->limits.max_msg <= CAND_MAX_MSG);
	for (i = 0; i < FUZZ_CONFIG_N(fuzz_config_idents); i++)
		for (j = 0; j < FUZZ_CONFIG_N(fuzz_config_ifaces); j++) {
			fuzz_config_rights(cfg->policy, &fuzz_config_idents[i],
					   fuzz_config_ifaces[j]);
			fuzz_config_frames_ok(cfg->policy,
					      &fuzz_config_idents[i],
					      fuzz_config_ifaces[j]);
		}
	fuzz_config_busoff(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	struct cand_config cfg;
	char err[512];
	int rc;

	err[0] = '\0';
	rc = config_load_string(text, FUZZ_CONFIG_NAME, &cfg, err, sizeof(err));
	if (rc == 0) {
		fuzz_config_loaded(&cfg);
		config_free(&cfg);
	} else {
		/* "fuzz.conf:LINE: why" or "fuzz.conf: why", nothing kept. */
		FUZZ_CHECK(rc == -EINVAL || rc == -ENOMEM);
		FUZZ_CHECK(strncmp(err, FUZZ_CONFIG_NAME ":",
				   strlen(FUZZ_CONFIG_NAME ":")) == 0);
		FUZZ_CHECK(strlen(err) > strlen(FUZZ_CONFIG_NAME ": "));
		FUZZ_CHECK(cfg.policy == NULL && cfg.busoff == NULL &&
			   cfg.n_busoff == 0);
	}
	free(text);
	return 0;
}
