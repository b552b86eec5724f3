/* Fault injection for the plugin, loaded with LD_PRELOAD: the x_tables setsockopt named by
 * PORTMAP_TEST_FAIL_SETSOCKOPT (64 = IPT_SO_SET_REPLACE, 65 = IPT_SO_SET_ADD_COUNTERS; the same
 * numbers for ip6tables) fails with EINVAL without reaching the kernel, every time. Failing the
 * counter restore reproduces what a writer outside the lock causes by replacing the table between
 * libiptc's replace and its counter restore (the kernel then answers EINVAL). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

int setsockopt(int fd, int level, int name, const void *value, socklen_t length) {
    static int (*real)(int, int, int, const void *, socklen_t);
    if (!real) real = (int (*)(int, int, int, const void *, socklen_t))dlsym(RTLD_NEXT, "setsockopt");
    const char *failing = getenv("PORTMAP_TEST_FAIL_SETSOCKOPT");
    if (failing && (level == IPPROTO_IP || level == IPPROTO_IPV6) && name == atoi(failing)) {
        errno = EINVAL;
        return -1;
    }
    return real(fd, level, name, value, length);
}
