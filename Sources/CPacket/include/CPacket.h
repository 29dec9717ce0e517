#ifndef H2E_CPACKET_H
#define H2E_CPACKET_H
// AF_PACKET access for gratuitous ARP and unsolicited neighbour advertisements: Glibc's Swift overlay lacks
// sockaddr_ll and ETH_P_*.
#include <stdint.h>
#include <stddef.h>

/// Opens an AF_PACKET/SOCK_RAW socket bound to interface `ifindex` for `ethertype` (host order).
/// Returns the descriptor, or -errno.
int h2e_packet_open(int ifindex, uint16_t ethertype);

/// Sends `len` bytes of a complete Ethernet frame on `fd` out of `ifindex`. Returns bytes sent, or -errno.
long h2e_packet_send(int fd, int ifindex, const uint8_t *frame, size_t len);

/// Copies the 6-byte hardware address of interface `ifname` into `mac`. Returns 0, or -errno.
int h2e_interface_mac(const char *ifname, uint8_t mac[6]);

extern const uint16_t H2E_ETH_P_ARP;
extern const uint16_t H2E_ETH_P_IPV6;
#endif
