/*
 * The C boundary to libnftnl (Debian libnftnl-dev) and the nf_tables kernel headers it speaks.
 *
 * Contract: the Nftnl module is the only Swift that imports this: Nftnl/NftMessages.swift
 * (building requests and batch messages), Nftnl/NftReplies.swift (reading replies) and
 * Nftnl/NftRuleset.swift (requests and replies for any table, for diagnostics) call libnftnl, Nftnl/NftConstants.swift names the header constants the layouts are written in. libnftnl lays messages
 * out into a caller's buffer; sending them and walking the replies is the Netlink module's (the
 * only Swift caller of libmnl), so nothing here includes libmnl.
 *
 * The helpers stand in for macros Swift cannot import (expressions) and run libnftnl's callback
 * parser, so no C callback is written in Swift.
 */
#ifndef CNI_PORTMAP_NFTNL_SHIM_H
#define CNI_PORTMAP_NFTNL_SHIM_H

#include <stdint.h>
#include <stdbool.h>
#include <string.h>
/* glibc's socket headers first: then the kernel headers leave out what glibc defines
 * (linux/libc-compat.h), and `in_addr` & co. are the same in this module as in CMnl. */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/rtnetlink.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/set.h>
#include <libnftnl/rule.h>
#include <libnftnl/expr.h>
#include <libnftnl/udata.h>

/* ---- message types and flags (macro expressions) ---- */
/* An nf_tables message type: subsystem in the high byte, NFT_MSG_* in the low byte. */
static inline uint16_t cni_nft_msg_type(uint32_t message) { return (uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | message); }
static inline uint16_t cni_nft_flags_dump(void) { return NLM_F_DUMP; }
static inline uint16_t cni_nft_flags_create(void) { return NLM_F_CREATE; }
static inline uint16_t cni_nft_flags_create_append(void) { return NLM_F_CREATE | NLM_F_APPEND; }

/* ---- comments ---- */
struct cni_nft_comment {
    const char *text;
    uint8_t length;
};
struct cni_nft_comment_search {
    uint8_t type;
    struct cni_nft_comment found;
};
static inline int cni_nft_comment_cb(const struct nftnl_udata *attr, void *data) {
    struct cni_nft_comment_search *search = data;
    if (nftnl_udata_type(attr) == search->type) {
        search->found.text = nftnl_udata_get(attr);
        search->found.length = nftnl_udata_len(attr);
    }
    return 0;
}
/* The comment TLV of `type` in userdata as nft writes it (the text and its NUL): an element's
 * (NFTNL_UDATA_SET_ELEM_COMMENT) or a rule's (NFTNL_UDATA_RULE_COMMENT). Its text without the NUL,
 * or length 0 and NULL text when there is none or the userdata is malformed. The text points
 * into `udata`. */
static inline struct cni_nft_comment cni_nft_comment(const void *udata, uint32_t length, uint8_t type) {
    struct cni_nft_comment_search search = { type, { NULL, 0 } };
    if (nftnl_udata_parse(udata, length, cni_nft_comment_cb, &search) < 0) return (struct cni_nft_comment){ NULL, 0 };
    if (search.found.text != NULL) search.found.length = (uint8_t)strnlen(search.found.text, search.found.length);
    return search.found;
}

#endif
