/*
 * The C boundary for network namespace calls that glibc declares only under _GNU_SOURCE, which
 * Swift's Glibc module is built without; so they are defined in netns.c, not inline here.
 *
 * Contract: IPTablesBackend/ScratchNetworkNamespace.swift is the only caller. Each function
 * returns 0 on success or -errno.
 */
#ifndef CNI_PORTMAP_NETNS_H
#define CNI_PORTMAP_NETNS_H

/* unshare(CLONE_NEWNET): moves the calling thread, and only it, into a new network namespace. */
int cni_unshare_network_namespace(void);

#endif
