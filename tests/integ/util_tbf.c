/*
 * What the send tests share: a vcan whose TX queue fills at once (a tiny
 * tbf qdisc), and numbered frames to send through it and recognise on the
 * bus.
 */
#include "util.h"

void util_tbf_iface(const char *ifname)
{
	/* The qdisc before the link comes up: none grafted on a live one. */
	ck_assert_int_eq(util_sh("modprobe sch_tbf 2>/dev/null; "
				 "ip link add dev %s type vcan && "
				 "tc qdisc add dev %s root tbf rate 1kbit "
				 "burst 100 limit 100 && "
				 "ip link set %s up",
				 ifname, ifname, ifname),
			 0);
}

void util_iface_del(const char *ifname)
{
	util_sh("ip link del %s 2>/dev/null", ifname);
}

void util_frames_run(struct cand_frame *f, size_t n, uint32_t id)
{
	size_t i;

	for (i = 0; i < n; i++) {
		f[i] = util_frame(id + (uint32_t)i, 0, "55");
		f[i].data[0] = (uint8_t)i;
	}
}
