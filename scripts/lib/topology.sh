# scripts/lib/topology.sh: the standard h2e test cluster, built in network namespaces on a bridge.
#
#   . scripts/lib/topology.sh
#   topology_up [WEB_COUNT] [private]   # build it (WEB_COUNT real servers, default 2; "private": 2nd heartbeat net)
#   topology_down                       # kill what runs in its namespaces and remove them
#
#   namespace  interface  address                    role
#   sw         br0        (bridge, public net 10.0.0.0/24), br1 (private heartbeat net, with "private")
#   client     eth0       10.0.0.100/24              curl, probes
#   lb1        eth0       10.0.0.11/24   MAC 02:00:00:00:00:11   primary director   eth1 192.168.100.11/24 (private)
#   lb2        eth0       10.0.0.12/24   MAC 02:00:00:00:00:12   backup director    eth1 192.168.100.12/24 (private)
#   webN       eth0       10.0.0.(20+N)/24  MAC 02:00:00:00:00:(20+N)  busybox httpd on :80, VIP 10.0.0.10/32 on lo
#
# Real servers are set up for direct routing: the VIP on their loopback, arp_ignore=1 and arp_announce=2 so only the
# active director answers ARP for it. Each serves, from $TOPOLOGY_DIR/webN:
#   /            "webN" (index.html)          /big       a 4 MiB file (long-lived downloads)
#   /cgi-bin/id  "webN" with an `X-SERVER: webN` header
# With TOPOLOGY_HTTPD=none the webservers get no busybox httpd (nor its files): the caller serves port 80 itself
# (scripts/bench-balance runs its CPU-burning server there).
# IPVS tables are per network namespace, so lb1 and lb2 each have their own. Needs root, a kernel with veth and
# bridge (scripts/ipvs-vm for IPVS), iproute2 and busybox. Everything it starts runs inside its namespaces, so
# topology_down can stop exactly that (`ip netns pids`), and nothing else.
#
# Helpers for tests and benchmarks:
#   topology_link NS IFACE up|down      cut or restore one link of a node (e.g. lb1 eth1)
#   topology_mac NS [IFACE]             the MAC of a node's interface
#   topology_vip_holders                the directors whose eth0 holds the VIP, one a line
#   topology_client_neigh_mac           the MAC the client's neighbour table has for the VIP (empty if none)
#   topology_fetch [PATH] [TIMEOUT]     one request from the client to the VIP; prints the body

TOPOLOGY_DIR=${TOPOLOGY_DIR:-/tmp/h2e-topology}
TOPOLOGY_HTTPD=${TOPOLOGY_HTTPD:-busybox}
TOPOLOGY_VIP=10.0.0.10
TOPOLOGY_WEB_COUNT=0
TOPOLOGY_PRIVATE=0

# _topology_node NS ADDR/PREFIX MAC BRIDGE IFACE: a veth from namespace NS (interface IFACE) into BRIDGE in sw.
_topology_port() {
    local ns=$1 addr=$2 mac=$3 bridge=$4 iface=$5 port
    port=$ns${iface#eth}
    ip link add name "$iface" netns "$ns" address "$mac" type veth peer name "$port" netns sw || return
    ip -n sw link set "$port" master "$bridge" up || return
    ip -n "$ns" addr add "$addr" dev "$iface" || return
    ip -n "$ns" link set "$iface" up
}

_topology_namespace() {
    ip netns add "$1" || return
    ip -n "$1" link set lo up
}

_topology_bridge() {
    ip -n sw link add "$1" type br stp_state 0 forward_delay 0 mcast_snooping 0 2>/dev/null \
        || ip -n sw link add "$1" type bridge stp_state 0 forward_delay 0 mcast_snooping 0 || return
    ip -n sw link set "$1" up
}

# topology_up [WEB_COUNT] [private]
topology_up() {
    local count=${1:-2} private=0 i ns addr
    [ "${2:-}" = private ] && private=1
    case $count in '' | *[!0-9]*) echo "topology_up: WEB_COUNT must be a number, not '$count'" >&2; return 2 ;; esac
    [ "$count" -ge 1 ] && [ "$count" -le 50 ] || { echo "topology_up: WEB_COUNT must be 1-50" >&2; return 2; }
    TOPOLOGY_WEB_COUNT=$count TOPOLOGY_PRIVATE=$private
    topology_down
    mkdir -p "$TOPOLOGY_DIR" || return
    echo "$count $private" > "$TOPOLOGY_DIR/shape"

    _topology_namespace sw || return
    _topology_bridge br0 || return
    [ $private = 1 ] && { _topology_bridge br1 || return; }

    _topology_namespace client || return
    _topology_port client 10.0.0.100/24 02:00:00:00:01:00 br0 eth0 || return

    for i in 1 2; do
        ns=lb$i
        _topology_namespace $ns || return
        _topology_port $ns 10.0.0.1$i/24 02:00:00:00:00:1$i br0 eth0 || return
        if [ $private = 1 ]; then _topology_port $ns 192.168.100.1$i/24 02:00:00:00:01:1$i br1 eth1 || return; fi
        ip netns exec $ns sysctl -qw net.ipv4.ip_forward=1 || return
    done

    for i in $(seq "$count"); do
        _topology_web "$i" $TOPOLOGY_VIP || return
        [ "$TOPOLOGY_HTTPD" = none ] && continue
        _topology_httpd web$i "$TOPOLOGY_DIR" 4194304 || return
    done
    [ "$TOPOLOGY_HTTPD" = none ] && return 0
    for i in $(seq "$count"); do  # answering before we return
        _topology_wait 5 ip netns exec client curl -sf -m 1 -o /dev/null "http://10.0.0.$((20 + i))/" || {
            echo "topology_up: web$i does not answer" >&2; return 1; }
    done
}

# _topology_web N VIP: real server webN on br0, 10.0.0.(20+N), set up for direct routing: VIP on its loopback,
# arp_ignore=1 and arp_announce=2 so that only a director answers ARP for it.
_topology_web() {
    local ns=web$1
    _topology_namespace $ns || return
    _topology_port $ns 10.0.0.$((20 + $1))/24 "$(printf '02:00:00:00:00:%02x' $((0x20 + $1)))" br0 eth0 || return
    ip netns exec $ns sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
        net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2 || return
    ip -n $ns addr add "$2/32" dev lo
}

# _topology_httpd NS ROOT BYTES: busybox httpd on port 80 in NS serving ROOT/NS: / ("NS"), /cgi-bin/id ("NS" with an
# `X-SERVER: NS` header) and /big (BYTES of zeros, a hard link to web1's where that has the size).
_topology_httpd() {
    local ns=$1 dir=$2/$1 bytes=$3
    mkdir -p "$dir/cgi-bin" || return
    echo "$ns" > "$dir/index.html"
    if [ "$ns" != web1 ] && [ "$(stat -c %s "$2/web1/big" 2>/dev/null)" = "$bytes" ]; then
        ln -f "$2/web1/big" "$dir/big" || return
    else
        head -c "$bytes" /dev/zero > "$dir/big" || return
    fi
    printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\nX-SERVER: %s\\r\\n\\r\\n%s\\n"\n' "$ns" "$ns" \
        > "$dir/cgi-bin/id"
    chmod 755 "$dir/cgi-bin/id"
    # Listens on the wildcard address: a direct-routing request arrives for the VIP, a health check for its address.
    ip netns exec "$ns" busybox httpd -p 80 -h "$dir" </dev/null >/dev/null 2>&1
}

# _topology_wait SECONDS COMMAND...: retry COMMAND every 50 ms until it succeeds or SECONDS pass.
_topology_wait() {
    local deadline=$((SECONDS + $1)); shift
    until "$@"; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.05
    done
}

# topology_down: stop every process in the topology's namespaces (they are ours) and remove the namespaces.
topology_down() {
    _topology_remove '^(sw|client|lb[12]|web[0-9]+)$'
}

# _topology_remove REGEX: kill -9 every process in the namespaces whose names match REGEX, then remove them.
_topology_remove() {
    local ns pids names
    names=$(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "$1")
    for ns in $names; do
        pids=$(ip netns pids "$ns" 2>/dev/null)
        [ -n "$pids" ] && kill -9 $pids 2>/dev/null
    done
    for ns in $names; do
        ip netns del "$ns" 2>/dev/null
    done
    return 0
}

topology_link() {
    ip -n "$1" link set "$2" "$3"
}

topology_mac() {
    ip -n "$1" -br link show "${2:-eth0}" | awk '{print $3}'
}

topology_vip_holders() {
    local ns
    for ns in lb1 lb2; do
        ip -n $ns -4 -o addr show 2>/dev/null | grep -q " $TOPOLOGY_VIP/" && echo $ns
    done
    return 0
}

topology_client_neigh_mac() {
    ip -n client neigh show $TOPOLOGY_VIP dev eth0 | awk '/lladdr/ {print $3}'
}

topology_fetch() {
    ip netns exec client curl -sf -m "${2:-1}" "http://$TOPOLOGY_VIP${1:-/}"
}
