/*
 * libcand's hand-written reader of a frame batch (libcand_batch.c)
 * against protobuf-c, the reader it stands in for. The input is one
 * ServerMsg's bytes from a daemon. Where libcand_batch_parse() takes it,
 * protobuf-c must decode it as a frame batch with the same fields, and
 * the frames both give the queue, and its verdict (queued, or the
 * connection killed and why), must be the same; where it does not,
 * libcand gives the bytes to protobuf-c anyway, so any answer is right.
 * The reader target reaches this parser too, but only through what the
 * sanitizers see: a field read wrong would go unnoticed there.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "libcand_int.h"

/* A handle per reader, made once: making one costs more than a batch. */
static cand_t *fuzz_batch_h[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if ((fuzz_batch_h[0] = libcand_conn_new()) == NULL ||
	    (fuzz_batch_h[1] = libcand_conn_new()) == NULL)
		fuzz_die("libcand_conn_new");
	return 0;
}

/* Names as protobuf-c's strings read them: up to a NUL inside. */
static void fuzz_batch_names(const struct libcand_batch *b,
			     const Cand__FrameBatch *pb)
{
	size_t i, n;

	FUZZ_CHECK(b->n_names == pb->n_ifnames);
	for (i = 0; i < b->n_names; i++) {
		n = strnlen(b->name[i], b->name_len[i]);
		FUZZ_CHECK(strlen(pb->ifnames[i]) == n);
		FUZZ_CHECK(memcmp(pb->ifnames[i], b->name[i], n) == 0);
	}
}

/* What the queue makes of a batch: its frames, then its verdict. */
struct fuzz_batch_out {
	int rc, dead;
	uint64_t drops;
	size_t n;
	struct cand_frame *f;
};

static void fuzz_batch_queue(cand_t *h, const struct libcand_batch *b,
			     struct fuzz_batch_out *o)
{
	struct cand_frame f;

	/* As new: what the last input left is drained below. */
	h->dead = 0;
	h->kernel_drops = 0;
	memset(o, 0, sizeof(*o));
	o->rc = libcand_queue_batch(h, b);
	o->dead = h->dead;
	o->drops = h->kernel_drops;
	while (libcand_queue_pop_frame(h, &f) == 1) {
		o->f = fuzz_realloc(o->f, (o->n + 1) * sizeof(f));
		o->f[o->n++] = f;
	}
	FUZZ_CHECK(o->n <= b->count);
	FUZZ_CHECK(libcand_queue_len(h) == 0);
}

/*
 * Field by field: the queue's slots are realloc'd, padding and all. The
 * name as a string: after a NUL inside one the two readers keep
 * different bytes, which no caller sees.
 */
static int fuzz_batch_same(const struct cand_frame *x,
			   const struct cand_frame *y)
{
	return x->id == y->id && x->flags == y->flags && x->len == y->len &&
	       memcmp(x->data, y->data, sizeof(x->data)) == 0 &&
	       strncmp(x->ifname, y->ifname, sizeof(x->ifname)) == 0 &&
	       x->timestamp_ns == y->timestamp_ns;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct libcand_batch mine, theirs;
	struct fuzz_batch_out a, b;
	Cand__ServerMsg *m;
	size_t i;

	if (!libcand_batch_parse(data, size, &mine))
		return 0;
	m = cand__server_msg__unpack(NULL, size, data);
	FUZZ_CHECK(m != NULL);
	FUZZ_CHECK(m->msg_case == CAND__SERVER_MSG__MSG_EVENT);
	FUZZ_CHECK(m->event->ev_case == CAND__EVENT__EV_FRAMES);
	FUZZ_CHECK(m->event->frames->kernel_drops == mine.kernel_drops);
	FUZZ_CHECK(m->event->frames->format == mine.format);
	FUZZ_CHECK(m->event->frames->count == mine.count);
	FUZZ_CHECK(m->event->frames->packed.len == mine.packed_len);
	FUZZ_CHECK(mine.packed_len == 0 ||
		   memcmp(m->event->frames->packed.data, mine.packed,
			  mine.packed_len) == 0);
	fuzz_batch_names(&mine, m->event->frames);

	libcand_batch_from_pb(&theirs, m->event->frames);
	fuzz_batch_queue(fuzz_batch_h[0], &mine, &a);
	fuzz_batch_queue(fuzz_batch_h[1], &theirs, &b);
	FUZZ_CHECK(a.rc == b.rc && a.dead == b.dead && a.drops == b.drops);
	FUZZ_CHECK(a.n == b.n);
	for (i = 0; i < a.n; i++) {
		FUZZ_CHECK(a.f[i].len <= CAND_MAX_DLEN);
		FUZZ_CHECK(memchr(a.f[i].ifname, '\0', sizeof(a.f[i].ifname)));
		FUZZ_CHECK(fuzz_batch_same(&a.f[i], &b.f[i]));
	}
	free(a.f);
	free(b.f);
	cand__server_msg__free_unpacked(m, NULL);
	return 0;
}
