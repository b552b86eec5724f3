#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>

#include "CNetNamespace.h"

int cni_enter_network_namespace(int fd) {
    return setns(fd, CLONE_NEWNET) == 0 ? 0 : -errno;
}
