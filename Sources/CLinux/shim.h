/* Linux and glibc interfaces that the Swift Glibc module does not include, and small C helpers for ioctls. */
#include <malloc.h>    /* malloc_trim: HostSystem.FreedMemory */
#include <netinet/tcp.h> /* TCP_DEFER_ACCEPT: the health checks save the handshake ACK */
#include <sys/epoll.h> /* epoll(7): the health checks watch their sockets with it */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* A non-persistent TUN device named `name` (IFF_TUN | IFF_NO_PI), owned by the returned descriptor: the kernel
 * deletes the device, and every address on it, when the last descriptor closes, which includes the process dying.
 * Returns the descriptor, or -errno. */
static inline int h2e_tun_open(const char *name) {
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return -errno;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    request.ifr_flags = IFF_TUN | IFF_NO_PI;
    strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &request) < 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    return fd;
}

/* Sets IFF_UP on interface `name`. Returns 0 or -errno. */
static inline int h2e_link_up(const char *name) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -errno;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    int rc = ioctl(s, SIOCGIFFLAGS, &request);
    if (rc == 0) {
        request.ifr_flags |= IFF_UP;
        rc = ioctl(s, SIOCSIFFLAGS, &request);
    }
    int error = errno;
    close(s);
    return rc < 0 ? -error : 0;
}
