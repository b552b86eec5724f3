/* A kernel without legacy x_tables, below the plugin's probe, loaded with LD_PRELOAD: fopen of
 * /proc/net/ip{,6}_tables_names (present when x_tables is built in or loaded) and of the module
 * tree under /lib/modules (where it could be loaded from) fails with ENOENT, as on Talos or a
 * kernel built without CONFIG_IP_NF_IPTABLES. The plugin reads both with fopen. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int hidden(const char *path) {
    return strcmp(path, "/proc/net/ip_tables_names") == 0 || strcmp(path, "/proc/net/ip6_tables_names") == 0
        || strncmp(path, "/lib/modules/", strlen("/lib/modules/")) == 0;
}

typedef FILE *(*opener)(const char *, const char *);

static FILE *unless_hidden(opener real, const char *path, const char *mode) {
    if (hidden(path)) {
        errno = ENOENT;
        return NULL;
    }
    return real(path, mode);
}

FILE *fopen(const char *path, const char *mode) {
    static opener real;
    if (!real) real = (opener)dlsym(RTLD_NEXT, "fopen");
    return unless_hidden(real, path, mode);
}

FILE *fopen64(const char *path, const char *mode) {
    static opener real;
    if (!real) real = (opener)dlsym(RTLD_NEXT, "fopen64");
    return unless_hidden(real, path, mode);
}
