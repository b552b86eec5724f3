/*
 * The C boundary to libiptc (Debian libiptc-dev: libip4tc + libip6tc).
 *
 * Contract: IPTablesBackend/XTablesLibrary.swift is the only Swift caller. Rule entries cross this
 * boundary as untyped bytes (`const void *`), built and parsed in Swift by IPTablesBackend's entry
 * codec, so no kernel struct with a flexible array member or a union is imported into Swift.
 * Every function keeps libiptc's convention: 0 / NULL on failure with errno set, which
 * `cni_xt_strerror` turns into libiptc's message for the last call.
 *
 * The layout constants below are the offsets the Swift codec writes at; `_Static_assert`s pin them to
 * the kernel headers so a header change breaks the build instead of the ruleset.
 */
#ifndef CNI_PORTMAP_IPTABLES_SHIM_H
#define CNI_PORTMAP_IPTABLES_SHIM_H

#include <errno.h>
#include <stddef.h>
#include <libiptc/libiptc.h>
#include <libiptc/libip6tc.h>

typedef struct xtc_handle cni_xt_handle;

/* ---- layout pinned for the Swift entry codec ---- */
_Static_assert(sizeof(struct ipt_entry) == 112, "ipt_entry header size");
_Static_assert(offsetof(struct ipt_entry, target_offset) == 88, "ipt_entry.target_offset");
_Static_assert(offsetof(struct ipt_entry, next_offset) == 90, "ipt_entry.next_offset");
_Static_assert(offsetof(struct ipt_entry, ip.proto) == 80, "ipt_ip.proto");
_Static_assert(offsetof(struct ipt_entry, ip.invflags) == 83, "ipt_ip.invflags");
_Static_assert(sizeof(struct ip6t_entry) == 168, "ip6t_entry header size");
_Static_assert(offsetof(struct ip6t_entry, target_offset) == 140, "ip6t_entry.target_offset");
_Static_assert(offsetof(struct ip6t_entry, next_offset) == 142, "ip6t_entry.next_offset");
_Static_assert(offsetof(struct ip6t_entry, ipv6.proto) == 128, "ip6t_ip6.proto");
_Static_assert(offsetof(struct ip6t_entry, ipv6.flags) == 131, "ip6t_ip6.flags");
_Static_assert(offsetof(struct ip6t_entry, ipv6.invflags) == 132, "ip6t_ip6.invflags");
_Static_assert(sizeof(struct xt_entry_match) == 32, "xt_entry_match header");
_Static_assert(sizeof(struct xt_entry_target) == 32, "xt_entry_target header");
_Static_assert(XT_FUNCTION_MAXNAMELEN - 1 == 29, "match/target name field");

/* ---- IPv4 (libip4tc) ---- */
static inline cni_xt_handle *cni_ipt4_init(const char *table) { return iptc_init(table); }
static inline void cni_ipt4_free(cni_xt_handle *h) { iptc_free(h); }
static inline int cni_ipt4_is_chain(const char *chain, cni_xt_handle *h) { return iptc_is_chain(chain, h); }
static inline int cni_ipt4_builtin(const char *chain, cni_xt_handle *h) { return iptc_builtin(chain, h); }
static inline const char *cni_ipt4_first_chain(cni_xt_handle *h) { return iptc_first_chain(h); }
static inline const char *cni_ipt4_next_chain(cni_xt_handle *h) { return iptc_next_chain(h); }
static inline const void *cni_ipt4_first_rule(const char *chain, cni_xt_handle *h) { return iptc_first_rule(chain, h); }
static inline const void *cni_ipt4_next_rule(const void *prev, cni_xt_handle *h) { return iptc_next_rule((const struct ipt_entry *)prev, h); }
static inline const char *cni_ipt4_get_target(const void *e, cni_xt_handle *h) { return iptc_get_target((const struct ipt_entry *)e, h); }
static inline int cni_ipt4_create_chain(const char *chain, cni_xt_handle *h) { return iptc_create_chain(chain, h); }
static inline int cni_ipt4_flush_entries(const char *chain, cni_xt_handle *h) { return iptc_flush_entries(chain, h); }
static inline int cni_ipt4_delete_chain(const char *chain, cni_xt_handle *h) { return iptc_delete_chain(chain, h); }
static inline int cni_ipt4_get_references(unsigned int *refs, const char *chain, cni_xt_handle *h) { return iptc_get_references(refs, chain, h); }
static inline int cni_ipt4_append_entry(const char *chain, const void *e, cni_xt_handle *h) { return iptc_append_entry(chain, (const struct ipt_entry *)e, h); }
static inline int cni_ipt4_insert_entry(const char *chain, const void *e, unsigned int num, cni_xt_handle *h) { return iptc_insert_entry(chain, (const struct ipt_entry *)e, num, h); }
static inline int cni_ipt4_delete_num_entry(const char *chain, unsigned int num, cni_xt_handle *h) { return iptc_delete_num_entry(chain, num, h); }
static inline int cni_ipt4_commit(cni_xt_handle *h) { return iptc_commit(h); }
static inline const char *cni_ipt4_strerror(int err) { return iptc_strerror(err); }

/* ---- IPv6 (libip6tc) ---- */
static inline cni_xt_handle *cni_ipt6_init(const char *table) { return ip6tc_init(table); }
static inline void cni_ipt6_free(cni_xt_handle *h) { ip6tc_free(h); }
static inline int cni_ipt6_is_chain(const char *chain, cni_xt_handle *h) { return ip6tc_is_chain(chain, h); }
static inline int cni_ipt6_builtin(const char *chain, cni_xt_handle *h) { return ip6tc_builtin(chain, h); }
static inline const char *cni_ipt6_first_chain(cni_xt_handle *h) { return ip6tc_first_chain(h); }
static inline const char *cni_ipt6_next_chain(cni_xt_handle *h) { return ip6tc_next_chain(h); }
static inline const void *cni_ipt6_first_rule(const char *chain, cni_xt_handle *h) { return ip6tc_first_rule(chain, h); }
static inline const void *cni_ipt6_next_rule(const void *prev, cni_xt_handle *h) { return ip6tc_next_rule((const struct ip6t_entry *)prev, h); }
static inline const char *cni_ipt6_get_target(const void *e, cni_xt_handle *h) { return ip6tc_get_target((const struct ip6t_entry *)e, h); }
static inline int cni_ipt6_create_chain(const char *chain, cni_xt_handle *h) { return ip6tc_create_chain(chain, h); }
static inline int cni_ipt6_flush_entries(const char *chain, cni_xt_handle *h) { return ip6tc_flush_entries(chain, h); }
static inline int cni_ipt6_delete_chain(const char *chain, cni_xt_handle *h) { return ip6tc_delete_chain(chain, h); }
static inline int cni_ipt6_get_references(unsigned int *refs, const char *chain, cni_xt_handle *h) { return ip6tc_get_references(refs, chain, h); }
static inline int cni_ipt6_append_entry(const char *chain, const void *e, cni_xt_handle *h) { return ip6tc_append_entry(chain, (const struct ip6t_entry *)e, h); }
static inline int cni_ipt6_insert_entry(const char *chain, const void *e, unsigned int num, cni_xt_handle *h) { return ip6tc_insert_entry(chain, (const struct ip6t_entry *)e, num, h); }
static inline int cni_ipt6_delete_num_entry(const char *chain, unsigned int num, cni_xt_handle *h) { return ip6tc_delete_num_entry(chain, num, h); }
static inline int cni_ipt6_commit(cni_xt_handle *h) { return ip6tc_commit(h); }
static inline const char *cni_ipt6_strerror(int err) { return ip6tc_strerror(err); }

static inline int cni_xt_errno(void) { return errno; }

#endif
