/*
 * What a controller's error frame says about its state. The kernel
 * announces bus-off and its end on rtnetlink too, but error-warning and
 * error-passive only this way (drivers/net/can/dev/dev.c).
 */
#include <linux/can/error.h>

#include "can/can.h"

int errframe_state(const struct can_frame *cf, int *has_counters, unsigned *tx,
		   unsigned *rx)
{
	canid_t id = cf->can_id;
	uint8_t crtl;

	*has_counters = 0;
	if (!(id & CAN_ERR_FLAG))
		return -1;
	if ((id & CAN_ERR_CNT) && cf->len >= 8) {
		*has_counters = 1;
		*tx = cf->data[6];
		*rx = cf->data[7];
	}
	if (id & CAN_ERR_BUSOFF)
		return BUS_STATE_BUS_OFF;
	if (id & CAN_ERR_RESTARTED)
		return BUS_STATE_ERROR_ACTIVE;
	if (!(id & CAN_ERR_CRTL) || cf->len < 2)
		return -1;
	crtl = cf->data[1];
	if (crtl & (CAN_ERR_CRTL_RX_PASSIVE | CAN_ERR_CRTL_TX_PASSIVE))
		return BUS_STATE_ERROR_PASSIVE;
	if (crtl & (CAN_ERR_CRTL_RX_WARNING | CAN_ERR_CRTL_TX_WARNING))
		return BUS_STATE_ERROR_WARNING;
	if (crtl & CAN_ERR_CRTL_ACTIVE)
		return BUS_STATE_ERROR_ACTIVE;
	return -1; /* overflows only */
}
