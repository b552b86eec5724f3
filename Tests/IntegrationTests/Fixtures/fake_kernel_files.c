/* Another kernel, as far as the files the plugin's probes read tell, loaded with LD_PRELOAD (the
 * plugin reads them with fopen):
 * - PORTMAP_TEST_HIDE_XTABLES=1: a kernel without legacy x_tables (as on Talos, or built without
 *   CONFIG_IP_NF_IPTABLES): /proc/net/ip{,6}_tables_names and the module tree are not there;
 * - PORTMAP_TEST_MODULE_TREE=DIR: a file under /lib/modules/ is read from DIR instead (same
 *   name), a kernel that lacks or has a module. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef FILE *(*opener)(const char *, const char *);

static const char modules[] = "/lib/modules/";

static FILE *faked(opener real, const char *path, const char *mode) {
    int in_tree = strncmp(path, modules, strlen(modules)) == 0;
    if (getenv("PORTMAP_TEST_HIDE_XTABLES")
        && (in_tree || strcmp(path, "/proc/net/ip_tables_names") == 0 || strcmp(path, "/proc/net/ip6_tables_names") == 0)) {
        errno = ENOENT;
        return NULL;
    }
    const char *tree = getenv("PORTMAP_TEST_MODULE_TREE");
    if (tree && in_tree) {
        char moved[4096];
        snprintf(moved, sizeof moved, "%s/%s", tree, strrchr(path, '/') + 1);
        return real(moved, mode);
    }
    return real(path, mode);
}

FILE *fopen(const char *path, const char *mode) {
    static opener real;
    if (!real) real = (opener)dlsym(RTLD_NEXT, "fopen");
    return faked(real, path, mode);
}

FILE *fopen64(const char *path, const char *mode) {
    static opener real;
    if (!real) real = (opener)dlsym(RTLD_NEXT, "fopen64");
    return faked(real, path, mode);
}
