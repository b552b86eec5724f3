/*
 * The C boundary to libmnl (Debian libmnl-dev) and the netlink kernel headers it speaks:
 * rtnetlink (route lookups) and nfnetlink_conntrack (the conntrack table).
 *
 * Contract: Netlink/MnlSocket.swift (the socket) and Netlink/MnlMessages.swift (building, walking
 * and parsing messages) are the only Swift callers of libmnl; Netlink/KernelConstants.swift only
 * reads the header constants below. Every other Netlink file works on Swift values.
 * Functions keep libmnl's conventions: pointers are NULL and ints are -1 on failure with errno set,
 * which Swift reads through `cni_mnl_errno` right after the failing call. `mnl_cb_run` returns
 * MNL_CB_ERROR (-1, errno set; a kernel NLMSG_ERROR puts its positive errno there), MNL_CB_STOP (0:
 * NLMSG_DONE, an ACK, or a callback that stopped) or MNL_CB_OK (1: the datagram is used up and more
 * replies follow).
 *
 * The helpers below stand in for macros Swift cannot import (expressions, flag combinations) and
 * fill the per-family headers in C so their field order and byte order never reach Swift. The
 * `_Static_assert`s pin the layouts the golden-bytes tests were written against, so a header change
 * breaks the build instead of the messages.
 */
#ifndef CNI_PORTMAP_MNL_SHIM_H
#define CNI_PORTMAP_MNL_SHIM_H

#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

/* ---- layouts pinned for the golden bytes ---- */
_Static_assert(sizeof(struct nlmsghdr) == 16, "nlmsghdr");
_Static_assert(sizeof(struct nlattr) == 4, "nlattr");
_Static_assert(sizeof(struct nfgenmsg) == 4, "nfgenmsg");
_Static_assert(sizeof(struct rtmsg) == 12, "rtmsg");
_Static_assert(MNL_ALIGNTO == 4, "netlink attribute alignment");

/* ---- message types and flags (macro expressions) ---- */
/* A ctnetlink message type: subsystem in the high byte, message in the low byte. */
static inline uint16_t cni_mnl_ct_type(uint8_t message) { return (uint16_t)((NFNL_SUBSYS_CTNETLINK << 8) | message); }
static inline uint16_t cni_mnl_flags_dump(void) { return NLM_F_REQUEST | NLM_F_DUMP; }
static inline uint16_t cni_mnl_flags_request_ack(void) { return NLM_F_REQUEST | NLM_F_ACK; }
static inline uint16_t cni_mnl_flags_request(void) { return NLM_F_REQUEST; }
static inline uint16_t cni_mnl_flag_multi(void) { return NLM_F_MULTI; }

/* ---- per-family headers, filled in C (0 fields as the kernel expects them) ---- */
/* nfgenmsg: family, version NFNETLINK_V0, res_id 0 (big-endian, so 0 either way). */
static inline void cni_mnl_put_nfgenmsg(struct nlmsghdr *nlh, uint8_t family) {
    struct nfgenmsg *header = mnl_nlmsg_put_extra_header(nlh, sizeof(struct nfgenmsg));
    header->nfgen_family = family;
    header->version = NFNETLINK_V0;
    header->res_id = htons(0);
}
/* rtmsg: family and destination prefix length; table, protocol, scope, type and flags 0. */
static inline void cni_mnl_put_rtmsg(struct nlmsghdr *nlh, uint8_t family, uint8_t dst_len) {
    struct rtmsg *header = mnl_nlmsg_put_extra_header(nlh, sizeof(struct rtmsg));
    header->rtm_family = family;
    header->rtm_dst_len = dst_len;
}
static inline size_t cni_mnl_nfgenmsg_size(void) { return sizeof(struct nfgenmsg); }
static inline size_t cni_mnl_rtmsg_size(void) { return sizeof(struct rtmsg); }

/* ---- errno, read right after a failing call ---- */
static inline int cni_mnl_errno(void) { return errno; }

#endif
