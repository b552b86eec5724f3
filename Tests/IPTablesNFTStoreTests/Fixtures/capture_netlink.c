/* Netlink capture for reference tools, loaded with LD_PRELOAD: every buffer that sendto, sendmsg,
 * send or write hands to an AF_NETLINK socket (for sendmsg, its iovecs concatenated) is appended
 * to the file named by CAPTURE_NETLINK_FILE as a record: 4-byte little-endian length, then the
 * bytes. Only sends the kernel accepted are recorded, once each, after the real call; everything
 * passes through unchanged (errno included). This is how we learn byte for byte what
 * iptables-nft-restore and nft send, so that our nf_tables batches can be compared with theirs
 * (decode a capture with decode_nfnetlink.py). Build: cc -shared -fPIC -o X.so capture_netlink.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static ssize_t (*real_write)(int, const void *, size_t);

static void *real(const char *name) { return dlsym(RTLD_NEXT, name); }

static int is_netlink(int fd) {
    struct stat st;
    int domain = 0;
    socklen_t length = sizeof domain;
    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)
        && getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) == 0 && domain == AF_NETLINK;
}

/* Appends one record made of `count` pieces; one write, so records of concurrent senders do not mix. */
static void record(int fd, const struct iovec *pieces, size_t count) {
    const char *path = getenv("CAPTURE_NETLINK_FILE");
    if (!path || !is_netlink(fd)) return;
    if (!real_write) real_write = (ssize_t (*)(int, const void *, size_t))real("write");
    size_t total = 0;
    for (size_t i = 0; i < count; i++) total += pieces[i].iov_len;
    unsigned char *buffer = malloc(4 + total);
    if (!buffer) return;
    uint32_t length = (uint32_t)total;
    for (int i = 0; i < 4; i++) buffer[i] = (unsigned char)(length >> (8 * i));
    size_t at = 4;
    for (size_t i = 0; i < count; i++) {
        memcpy(buffer + at, pieces[i].iov_base, pieces[i].iov_len);
        at += pieces[i].iov_len;
    }
    int out = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (out >= 0) {
        real_write(out, buffer, at);
        close(out);
    }
    free(buffer);
}

#define RECORD_AFTER(call, fd, pieces, count)      \
    ssize_t result = call;                         \
    if (result >= 0) {                             \
        int saved = errno;                         \
        record(fd, pieces, count);                 \
        errno = saved;                             \
    }                                              \
    return result

ssize_t sendto(int fd, const void *data, size_t size, int flags, const struct sockaddr *to, socklen_t tolen) {
    static ssize_t (*next)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
    if (!next) next = (ssize_t (*)(int, const void *, size_t, int, const struct sockaddr *, socklen_t))real("sendto");
    struct iovec piece = {(void *)data, size};
    RECORD_AFTER(next(fd, data, size, flags, to, tolen), fd, &piece, 1);
}

ssize_t send(int fd, const void *data, size_t size, int flags) {
    static ssize_t (*next)(int, const void *, size_t, int);
    if (!next) next = (ssize_t (*)(int, const void *, size_t, int))real("send");
    struct iovec piece = {(void *)data, size};
    RECORD_AFTER(next(fd, data, size, flags), fd, &piece, 1);
}

ssize_t sendmsg(int fd, const struct msghdr *message, int flags) {
    static ssize_t (*next)(int, const struct msghdr *, int);
    if (!next) next = (ssize_t (*)(int, const struct msghdr *, int))real("sendmsg");
    RECORD_AFTER(next(fd, message, flags), fd, message->msg_iov, message->msg_iovlen);
}

ssize_t write(int fd, const void *data, size_t size) {
    if (!real_write) real_write = (ssize_t (*)(int, const void *, size_t))real("write");
    struct iovec piece = {(void *)data, size};
    RECORD_AFTER(real_write(fd, data, size), fd, &piece, 1);
}
