#include "CPacket.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netpacket/packet.h>

const uint16_t H2E_ETH_P_ARP = ETH_P_ARP;
const uint16_t H2E_ETH_P_IPV6 = ETH_P_IPV6;

int h2e_packet_open(int ifindex, uint16_t ethertype) {
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ethertype));
    if (fd < 0) return -errno;
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ethertype);
    sll.sll_ifindex = ifindex;
    if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

long h2e_packet_send(int fd, int ifindex, const uint8_t *frame, size_t len) {
    if (len < 14) return -EINVAL;
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = ifindex;
    sll.sll_halen = ETH_ALEN;
    memcpy(sll.sll_addr, frame, ETH_ALEN);
    ssize_t n = sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof sll);
    return n < 0 ? -errno : (long)n;
}

int h2e_interface_mac(const char *ifname, uint8_t mac[6]) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    int rc = ioctl(fd, SIOCGIFHWADDR, &ifr);
    int e = errno;
    close(fd);
    if (rc < 0) return -e;
    memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    return 0;
}
