/*
 * The C boundary to libmnl (Debian libmnl-dev) and the netlink kernel headers it speaks:
 * rtnetlink (route lookups, address and bridge-port dumps), nfnetlink_conntrack (the conntrack table),
 * sock_diag/inet_diag (listening sockets) and nfnetlink batches (nf_tables transactions, whose
 * messages libnftnl builds in NFTablesBackend; this side frames, sends and answers them).
 *
 * Contract: Netlink/MnlSocket.swift (the socket) and Netlink/MnlMessages.swift (building, walking
 * and parsing messages) are the only Swift callers of libmnl; Netlink/KernelConstants.swift only
 * reads the header constants below. Every other Netlink file works on Swift values.
 * Functions keep libmnl's conventions: pointers are NULL and ints are -1 on failure with errno set,
 * which Swift reads through `cni_mnl_errno` right after the failing call. `cni_mnl_cb_run` (libmnl's
 * `mnl_cb_run`, NLMSG_DONE's status read too) returns MNL_CB_ERROR (-1, errno set; a kernel
 * NLMSG_ERROR, or an NLMSG_DONE ending a failed dump, puts its positive errno there), MNL_CB_STOP
 * (0: NLMSG_DONE, an ACK, or a callback that stopped) or MNL_CB_OK (1: the datagram is used up and
 * more replies follow).
 *
 * The helpers below stand in for macros Swift cannot import (expressions, flag combinations), and
 * fill and read the per-family headers in C so their field order and byte order never reach Swift.
 * The `_Static_assert`s pin the layouts the golden-bytes tests were written against, so a header
 * change breaks the build instead of the messages.
 */
#ifndef CNI_PORTMAP_MNL_SHIM_H
#define CNI_PORTMAP_MNL_SHIM_H

#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <string.h>
#include <netinet/tcp.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

/* ---- layouts pinned for the golden bytes ---- */
_Static_assert(sizeof(struct nlmsghdr) == 16, "nlmsghdr");
_Static_assert(sizeof(struct nlattr) == 4, "nlattr");
_Static_assert(sizeof(struct nfgenmsg) == 4, "nfgenmsg");
_Static_assert(sizeof(struct rtmsg) == 12, "rtmsg");
_Static_assert(sizeof(struct ifaddrmsg) == 8, "ifaddrmsg");
_Static_assert(sizeof(struct ifinfomsg) == 16, "ifinfomsg");
_Static_assert(sizeof(struct inet_diag_req_v2) == 56, "inet_diag_req_v2");
_Static_assert(sizeof(struct inet_diag_msg) == 72, "inet_diag_msg");
_Static_assert(MNL_ALIGNTO == 4, "netlink attribute alignment");

/* ---- message types and flags (macro expressions) ---- */
/* A ctnetlink message type: subsystem in the high byte, message in the low byte. */
static inline uint16_t cni_mnl_ct_type(uint8_t message) { return (uint16_t)((NFNL_SUBSYS_CTNETLINK << 8) | message); }
static inline uint16_t cni_mnl_flags_dump(void) { return NLM_F_REQUEST | NLM_F_DUMP; }
static inline uint16_t cni_mnl_flags_request_ack(void) { return NLM_F_REQUEST | NLM_F_ACK; }
static inline uint16_t cni_mnl_flags_request(void) { return NLM_F_REQUEST; }
static inline uint16_t cni_mnl_flag_multi(void) { return NLM_F_MULTI; }
static inline uint16_t cni_mnl_flag_ack(void) { return NLM_F_ACK; }
static inline uint16_t cni_mnl_batch_begin_type(void) { return NFNL_MSG_BATCH_BEGIN; }
static inline uint16_t cni_mnl_batch_end_type(void) { return NFNL_MSG_BATCH_END; }

/* ---- per-family headers, filled in C (0 fields as the kernel expects them) ---- */
/* nfgenmsg: family, version NFNETLINK_V0, res_id 0 (big-endian, so 0 either way). */
static inline void cni_mnl_put_nfgenmsg(struct nlmsghdr *nlh, uint8_t family) {
    struct nfgenmsg *header = mnl_nlmsg_put_extra_header(nlh, sizeof(struct nfgenmsg));
    header->nfgen_family = family;
    header->version = NFNETLINK_V0;
    header->res_id = htons(0);
}
/* nfgenmsg of a batch's begin and end messages: AF_UNSPEC, NFNETLINK_V0, and the subsystem the
 * batch is for in res_id (big-endian). */
static inline void cni_mnl_put_batch_nfgenmsg(struct nlmsghdr *nlh, uint16_t subsystem) {
    struct nfgenmsg *header = mnl_nlmsg_put_extra_header(nlh, sizeof(struct nfgenmsg));
    header->nfgen_family = AF_UNSPEC;
    header->version = NFNETLINK_V0;
    header->res_id = htons(subsystem);
}
/* rtmsg: family and destination prefix length; table, protocol, scope, type and flags 0. */
static inline void cni_mnl_put_rtmsg(struct nlmsghdr *nlh, uint8_t family, uint8_t dst_len, uint32_t flags) {
    struct rtmsg *header = mnl_nlmsg_put_extra_header(nlh, sizeof(struct rtmsg));
    header->rtm_family = family;
    header->rtm_dst_len = dst_len;
    header->rtm_flags = flags;
}
/* ifaddrmsg: family (AF_UNSPEC: every family); prefix length, flags, scope and index 0 (no filter). */
static inline void cni_mnl_put_ifaddrmsg(struct nlmsghdr *nlh, uint8_t family) {
    struct ifaddrmsg *header = mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifaddrmsg));
    header->ifa_family = family;
}
/* ifinfomsg: family (AF_BRIDGE: the bridge ports); type, index, flags and change 0 (no filter). */
static inline void cni_mnl_put_ifinfomsg(struct nlmsghdr *nlh, uint8_t family) {
    struct ifinfomsg *header = mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
    header->ifi_family = family;
}
/* inet_diag_req_v2: family, protocol and the bit mask of socket states (1 << TCP_LISTEN, ...) to
 * dump; no extensions, and an all-zero socket id (any port, any address, any interface). */
static inline void cni_mnl_put_inet_diag_req(struct nlmsghdr *nlh, uint8_t family, uint8_t protocol, uint32_t states) {
    struct inet_diag_req_v2 *header = mnl_nlmsg_put_extra_header(nlh, sizeof(struct inet_diag_req_v2));
    header->sdiag_family = family;
    header->sdiag_protocol = protocol;
    header->idiag_states = states;
}
static inline size_t cni_mnl_nfgenmsg_size(void) { return sizeof(struct nfgenmsg); }
static inline size_t cni_mnl_rtmsg_size(void) { return sizeof(struct rtmsg); }
static inline size_t cni_mnl_ifaddrmsg_size(void) { return sizeof(struct ifaddrmsg); }
static inline size_t cni_mnl_ifinfomsg_size(void) { return sizeof(struct ifinfomsg); }
static inline size_t cni_mnl_inet_diag_msg_size(void) { return sizeof(struct inet_diag_msg); }

/* ---- reply headers, read in C (-1 or false, errno untouched: the message is too short for one) ---- */
static inline int cni_mnl_get_rtm_type(const struct nlmsghdr *nlh) {
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct rtmsg)) return -1;
    return ((const struct rtmsg *)mnl_nlmsg_get_payload(nlh))->rtm_type;
}
static inline int cni_mnl_get_ifa_family(const struct nlmsghdr *nlh) {
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifaddrmsg)) return -1;
    return ((const struct ifaddrmsg *)mnl_nlmsg_get_payload(nlh))->ifa_family;
}
/* What a listening socket is read from in an inet_diag_msg: the port in host order, the local
 * address as the kernel stores it (network order; an AF_INET address in the first 4 bytes). */
struct cni_mnl_inet_diag_socket {
    uint8_t family;
    uint16_t port;
    uint8_t address[16];
    uint32_t inode;
};
static inline bool cni_mnl_get_inet_diag_socket(const struct nlmsghdr *nlh, struct cni_mnl_inet_diag_socket *fields) {
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct inet_diag_msg)) return false;
    const struct inet_diag_msg *message = mnl_nlmsg_get_payload(nlh);
    fields->family = message->idiag_family;
    fields->port = ntohs(message->id.idiag_sport);
    _Static_assert(sizeof(fields->address) == sizeof(message->id.idiag_src), "inet_diag address");
    memcpy(fields->address, message->id.idiag_src, sizeof(fields->address));
    fields->inode = message->idiag_inode;
    return true;
}

/* ---- walking replies ---- */
/* NLMSG_ERROR and NLMSG_DONE both begin with a status: 0, or a negative errno (an NLMSG_ERROR with
 * 0 is an ACK). libmnl reads it for NLMSG_ERROR only; NLMSG_DONE's is where a dump that failed
 * part-way puts its error (sock_diag's -ENOENT for a protocol with no diag module), which
 * `mnl_cb_run` would end as if the dump were complete. This reads both, as libmnl's own NLMSG_ERROR
 * handler does: a short message is EBADMSG, a positive status is taken as the errno. */
static inline int cni_mnl_status_cb(const struct nlmsghdr *nlh, void *data) {
    (void)data;
    size_t minimum = nlh->nlmsg_type == NLMSG_ERROR ? sizeof(struct nlmsgerr) : sizeof(int);
    if (mnl_nlmsg_get_payload_len(nlh) < minimum) {
        errno = EBADMSG;
        return MNL_CB_ERROR;
    }
    int status = *(const int *)mnl_nlmsg_get_payload(nlh);
    if (status == 0) return MNL_CB_STOP;
    errno = status < 0 ? -status : status;
    return MNL_CB_ERROR;
}
/* mnl_cb_run with the status handler above for NLMSG_ERROR and NLMSG_DONE. mnl_cb_run2 skips
 * control messages below the array's length that have no handler, so NLMSG_NOOP is skipped as
 * libmnl's default does; NLMSG_OVERRUN and up keep libmnl's defaults. */
static inline int cni_mnl_cb_run(const void *buf, size_t numbytes, unsigned int seq, unsigned int portid,
                                 mnl_cb_t cb_data, void *data) {
    static mnl_cb_t control[NLMSG_DONE + 1] = { [NLMSG_ERROR] = cni_mnl_status_cb, [NLMSG_DONE] = cni_mnl_status_cb };
    return mnl_cb_run2(buf, numbytes, seq, portid, cb_data, data, control, NLMSG_DONE + 1);
}

/* The replies to a batch are NLMSG_ERRORs only, one per message that failed or asked for an ACK,
 * each numbered as the message it answers: `status` gets every one (ACKs too) and returns
 * MNL_CB_OK to go on. Sequence numbers vary, so only the port ID is checked; data messages have
 * no handler and are skipped. */
static inline int cni_mnl_cb_run_statuses(const void *buf, size_t numbytes, unsigned int portid, mnl_cb_t status, void *data) {
    mnl_cb_t control[NLMSG_DONE + 1] = { [NLMSG_ERROR] = status };
    return mnl_cb_run2(buf, numbytes, 0, portid, NULL, data, control, NLMSG_DONE + 1);
}
/* NLMSG_ERROR's status (0 or a negative errno); false, errno EBADMSG, when the message is too
 * short for one. */
static inline bool cni_mnl_get_error_status(const struct nlmsghdr *nlh, int *status) {
    if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nlmsgerr)) {
        errno = EBADMSG;
        return false;
    }
    *status = ((const struct nlmsgerr *)mnl_nlmsg_get_payload(nlh))->error;
    return true;
}

/* ---- errno, read right after a failing call ---- */
static inline int cni_mnl_errno(void) { return errno; }

#endif
