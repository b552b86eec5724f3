/*
 * The C boundary for the network namespace call that glibc declares only under _GNU_SOURCE, which
 * Swift's Glibc module is built without; so it is defined in netns.c, not inline here.
 *
 * Contract: the one caller is OwnThread/NamespaceMove.swift, on a thread of its own that ends
 * after its work, so no other thread's namespace changes. It returns 0 on success or
 * -errno.
 */
#ifndef CNI_PORTMAP_NETNS_H
#define CNI_PORTMAP_NETNS_H

/* setns(fd, CLONE_NEWNET): moves the calling thread, and only it, into the network namespace that
 * fd (an open /proc/<pid>/ns/net or /run/netns/<name>) refers to. EINVAL: fd is not one. */
int cni_enter_network_namespace(int fd);

#endif
