/*
 * What the daemon does with the frames and filters a client sends before
 * any of it reaches a socket: the checks the request path gets to only on
 * an open channel, which a host without CAN never has. The first byte
 * picks the message the rest unpacks as, and the channel it is for.
 *
 *   0  SendRequest        frames, or packed records: sendreq_frames(),
 *                         the policy's policy_check_frames(),
 *                         frame_from_desc()
 *   1  TaskStartRequest   the same with the periodic right, and the
 *                         kernel's timing bounds (bcmsock_timing) and
 *                         its TX_SETUP message (bcmsock_tx_setup)
 *   2  SetFiltersRequest  encode_filter_descs(), rawsock_filters()
 *
 * Beyond the sanitizers: a refusal says why (a send's, with nothing to
 * send); a packed frame's data lies inside the request, within its
 * kind's length; a frame that passes is one
 * the kernel takes, and reads back as the very same kernel frame through
 * frame_to_desc(); filters that pass are as many as asked for, of known
 * kinds, in 29 bits; a task's frame count fits its duration.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pb/pb.h"

/* The interfaces a channel may be, "" the all-interfaces one. */
static const char *const fuzz_frames_channels[] = {"", "vcan0", "can1", "lo"};

/* A policy and who asks: a user, not root, who has rights somewhere. */
struct fuzz_frames_env {
	struct cand_config cfg;
	struct ident id;
};

static struct fuzz_frames_env fuzz_frames_env;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];

	(void)argc;
	(void)argv;
	if (config_load_string(fuzz_conf, "fuzz.conf", &fuzz_frames_env.cfg,
			       err, sizeof(err)) < 0)
		fuzz_die(err);
	fuzz_frames_env.id.uid = 4242;
	fuzz_frames_env.id.gid = 4242;
	return 0;
}

/* One frame as the send path takes it: a kernel frame, or a reason. */
static void fuzz_frames_one(const struct frame_desc *d, int fd_enabled)
{
	struct canfd_frame cf, again;
	struct frame_desc back;
	char detail[256] = "";
	int is_fd, is_fd2, rc;

	rc = frame_from_desc(d, fd_enabled, &cf, &is_fd, detail,
			     sizeof(detail));
	if (rc < 0) {
		FUZZ_CHECK(rc == -EINVAL || rc == -EOPNOTSUPP);
		FUZZ_CHECK(detail[0] != '\0');
		return;
	}
	FUZZ_CHECK(!is_fd || fd_enabled);
	FUZZ_CHECK(cf.len <= (is_fd ? CANFD_MAX_DLEN : CAN_MAX_DLEN));
	if (!(cf.can_id & CAN_ERR_FLAG))
		FUZZ_CHECK((cf.can_id & CAN_EFF_MASK) <=
			   ((cf.can_id & CAN_EFF_FLAG) ? CAN_EFF_MASK
						       : CAN_SFF_MASK));
	FUZZ_CHECK(!is_fd || !(cf.can_id & CAN_RTR_FLAG));
	/* What the kernel gives back is the frame that went out. */
	frame_to_desc(&cf, is_fd, &back);
	FUZZ_CHECK(frame_from_desc(&back, fd_enabled, &again, &is_fd2, detail,
				   sizeof(detail)) == 0);
	FUZZ_CHECK(is_fd2 == is_fd);
	/* A classic frame has no flags; python-can sets the byte anyway. */
	if (!is_fd)
		cf.flags = 0;
	FUZZ_CHECK(memcmp(&cf, &again, sizeof(cf)) == 0);
}

/* The policy's verdict on d and each frame as the send path takes it. */
static void fuzz_frames_descs(const struct frame_desc *d, size_t n,
			      const char *channel, enum policy_right right,
			      int fd_enabled)
{
	const struct fuzz_frames_env *e = &fuzz_frames_env;
	char detail[256] = "";
	size_t i;
	int rc;

	rc = policy_check_frames(e->cfg.policy, &e->id, channel, d, n, 0, right,
				 detail, sizeof(detail));
	FUZZ_CHECK(rc == 0 || (rc == -EPERM && detail[0] != '\0'));
	for (i = 0; i < n; i++)
		fuzz_frames_one(&d[i], fd_enabled);
}

static void fuzz_frames_check(Cand__Frame **frames, size_t n,
			      const char *channel, enum policy_right right,
			      int fd_enabled)
{
	struct frame_desc *d;

	if (encode_frame_descs(frames, n, &d) < 0)
		fuzz_die("encode_frame_descs");
	fuzz_frames_descs(d, n, channel, right, fd_enabled);
	free(d);
}

static void fuzz_frames_send(const Cand__SendRequest *sr, const char *channel,
			     int fd_enabled)
{
	const uint8_t *lo = sr->packed.data;
	struct frame_desc *d = NULL;
	char detail[256] = "";
	size_t i, n, cap = 0;
	int rc;

	rc = sendreq_frames(sr, &d, &cap, &n, detail, sizeof(detail));
	if (rc == -ENOMEM)
		fuzz_die("sendreq_frames");
	if (rc < 0) {
		FUZZ_CHECK(rc == -EINVAL && detail[0] != '\0' && n == 0);
		free(d);
		return;
	}
	FUZZ_CHECK(n <= cap);
	FUZZ_CHECK(sr->n_frames == 0 ||
		   (sr->packed.len == 0 && sr->n_ifnames == 0));
	FUZZ_CHECK(n == (sr->n_frames ? sr->n_frames : n));
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(d[i].len <=
			   (d[i].fd ? CANFD_MAX_DLEN : CAN_MAX_DLEN));
		FUZZ_CHECK(d[i].ifname != NULL);
		if (sr->n_frames > 0 || d[i].len == 0)
			continue;
		FUZZ_CHECK(lo != NULL && d[i].data >= lo &&
			   d[i].data + d[i].len <= lo + sr->packed.len);
	}
	fuzz_frames_descs(d, n, channel, RIGHT_SEND, fd_enabled);
	free(d);
}

static void fuzz_frames_task(const Cand__TaskStartRequest *t,
			     const char *channel, int fd_enabled)
{
	char detail[256] = "";
	uint32_t count;
	size_t cfsiz = fd_enabled ? CANFD_MTU : CAN_MTU, i, n;
	void *msg;
	int rc;

	fuzz_frames_check(t->frames, t->n_frames, channel, RIGHT_PERIODIC,
			  fd_enabled);
	rc = bcmsock_timing(t->period_us, t->duration_us, &count, detail,
			    sizeof(detail));
	if (rc < 0) {
		FUZZ_CHECK(rc == -EINVAL && detail[0] != '\0');
		return;
	}
	FUZZ_CHECK(t->period_us > 0 && t->period_us <= BCMSOCK_MAX_US);
	FUZZ_CHECK(t->duration_us == 0
			   ? count == 0
			   : count > 0 && (uint64_t)count * t->period_us <=
						  t->duration_us);
	/* The kernel's message, as many frames as it takes at most. */
	n = t->n_frames < BCMSOCK_MAX_FRAMES ? t->n_frames : BCMSOCK_MAX_FRAMES;
	msg = fuzz_alloc(bcmsock_msg_size(n, cfsiz));
	bcmsock_tx_setup(msg, 1, n, cfsiz, count, t->period_us, 1);
	/* Every frame's place is inside the message (ASan watches). */
	for (i = 0; i < n; i++)
		memset(bcmsock_frame_at(msg, i, cfsiz), 0, cfsiz);
	free(msg);
}

static void fuzz_frames_filters(const Cand__SetFiltersRequest *r)
{
	struct filter_desc *d;
	struct can_filter *kf;
	char detail[256] = "";
	size_t count, i;
	unsigned max = fuzz_frames_env.cfg.limits.max_filters;
	int rc;

	if (encode_filter_descs(r->filters, r->n_filters, &d) < 0)
		fuzz_die("encode_filter_descs");
	rc = rawsock_filters(d, r->n_filters, max, &kf, &count, detail,
			     sizeof(detail));
	if (rc < 0) {
		FUZZ_CHECK((rc == -EDQUOT || rc == -EINVAL) &&
			   detail[0] != '\0');
		free(d);
		return;
	}
	FUZZ_CHECK(count == (r->n_filters ? r->n_filters : 1));
	for (i = 0; i < r->n_filters; i++) {
		FUZZ_CHECK(d[i].kind == FILTER_ANY ||
			   d[i].kind == FILTER_STANDARD ||
			   d[i].kind == FILTER_EXTENDED);
		FUZZ_CHECK((kf[i].can_mask & ~CAN_EFF_FLAG) <= CAN_EFF_MASK);
	}
	free(kf);
	free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Cand__SendRequest *send;
	Cand__TaskStartRequest *task;
	Cand__SetFiltersRequest *filters;
	const char *channel;
	int fd_enabled;

	if (size < 1)
		return 0;
	channel = fuzz_frames_channels[(data[0] >> 2) % 4];
	fd_enabled = (data[0] & 0x10) != 0;
	switch (data[0] % 4) {
	case 0:
		send = cand__send_request__unpack(NULL, size - 1, data + 1);
		if (send == NULL)
			return 0;
		fuzz_frames_send(send, channel, fd_enabled);
		cand__send_request__free_unpacked(send, NULL);
		break;
	case 1:
		task = cand__task_start_request__unpack(NULL, size - 1,
							data + 1);
		if (task == NULL)
			return 0;
		fuzz_frames_task(task, channel, fd_enabled);
		cand__task_start_request__free_unpacked(task, NULL);
		break;
	default:
		filters = cand__set_filters_request__unpack(NULL, size - 1,
							    data + 1);
		if (filters == NULL)
			return 0;
		fuzz_frames_filters(filters);
		cand__set_filters_request__free_unpacked(filters, NULL);
		break;
	}
	return 0;
}
