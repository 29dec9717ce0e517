/*
 * ipvs-sockopt-shim: an LD_PRELOAD library that answers the IPVS socket options (IP_VS_SO_GET_* and
 * IP_VS_SO_SET_*) as an empty IPVS table would, on a kernel without ip_vs.
 *
 * Why: the health-check benchmark runs Debian's keepalived as the peer on the build machine, whose kernel has no IPVS.
 * keepalived's checker falls back to these socket options when the "IPVS" generic-netlink family is missing
 * (libipvs: ipvs_init), and exits when they fail. With this shim its checkers, timers and event loop run unchanged;
 * only the table updates are dropped. Nothing of h2e uses it.
 *
 * Build: cc -shared -fPIC -O2 -o ipvs-sockopt-shim.so ipvs-sockopt-shim.c -ldl
 * Use:   LD_PRELOAD=./ipvs-sockopt-shim.so keepalived -C ...
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* From <linux/ip_vs.h>: the option numbers and the two answers keepalived reads before anything else. */
#define IP_VS_BASE_CTL (64 + 1024 + 64)
#define IP_VS_SO_SET_MAX (IP_VS_BASE_CTL + 15)
#define IP_VS_SO_GET_VERSION IP_VS_BASE_CTL
#define IP_VS_SO_GET_INFO (IP_VS_BASE_CTL + 1)
#define IP_VS_SO_GET_MAX (IP_VS_BASE_CTL + 7)
#define IP_VS_VERSION_CODE 0x010203 /* 1.2.3, what current kernels report */
#define IP_VS_CONN_TAB_SIZE 4096

struct ip_vs_getinfo {
    unsigned int version;
    unsigned int size;
    unsigned int num_services;
};

static int is_ipvs(int level, int name, int last) {
    return level == IPPROTO_IP && name >= IP_VS_BASE_CTL && name <= last;
}

int setsockopt(int fd, int level, int name, const void *value, socklen_t length) {
    static int (*real)(int, int, int, const void *, socklen_t);
    if (is_ipvs(level, name, IP_VS_SO_SET_MAX)) return 0; /* every table update "succeeds" and changes nothing */
    if (!real) real = dlsym(RTLD_NEXT, "setsockopt");
    return real(fd, level, name, value, length);
}

int getsockopt(int fd, int level, int name, void *value, socklen_t *length) {
    static int (*real)(int, int, int, void *, socklen_t *);
    if (!is_ipvs(level, name, IP_VS_SO_GET_MAX)) {
        if (!real) real = dlsym(RTLD_NEXT, "getsockopt");
        return real(fd, level, name, value, length);
    }
    if (!value || !length) {
        errno = EFAULT;
        return -1;
    }
    memset(value, 0, *length); /* no services, no destinations, zero timeouts, no sync daemon */
    if (name == IP_VS_SO_GET_VERSION) {
        snprintf(value, *length, "IP Virtual Server version 1.2.3 (size=%d)", IP_VS_CONN_TAB_SIZE);
    } else if (name == IP_VS_SO_GET_INFO && *length >= sizeof(struct ip_vs_getinfo)) {
        struct ip_vs_getinfo info = {IP_VS_VERSION_CODE, IP_VS_CONN_TAB_SIZE, 0};
        memcpy(value, &info, sizeof info);
    }
    return 0;
}
