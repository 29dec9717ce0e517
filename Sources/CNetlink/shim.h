#ifndef H2E_CNETLINK_SHIM_H
#define H2E_CNETLINK_SHIM_H
// libnl-3 (core, generic netlink, route) and the kernel's IPVS and rtnetlink UAPI.
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/socket.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/family.h>
#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <linux/ip_vs.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>
#include <net/if.h>

// Macros of the form (__X - 1) are not imported into Swift: re-export them as constants.
static const int H2E_IPVS_CMD_ATTR_MAX = IPVS_CMD_ATTR_MAX;
static const int H2E_IPVS_SVC_ATTR_MAX = IPVS_SVC_ATTR_MAX;
static const int H2E_IPVS_DEST_ATTR_MAX = IPVS_DEST_ATTR_MAX;
static const int H2E_IPVS_DAEMON_ATTR_MAX = IPVS_DAEMON_ATTR_MAX;
static const int H2E_IPVS_STATS_ATTR_MAX = IPVS_STATS_ATTR_MAX;
static const int H2E_IPVS_INFO_ATTR_MAX = IPVS_INFO_ATTR_MAX;
static const int H2E_IFA_MAX = IFA_MAX;
#endif
