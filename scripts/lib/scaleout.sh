# scripts/lib/scaleout.sh: an active-active director group behind an ECMP router announced by BGP (BIRD 2), built in
# network namespaces on bridges, for h2e's scale-out tests and scripts/bench-scaleout.
#
#   . scripts/lib/scaleout.sh
#   scaleout_up [DIRECTORS] [WEBS]   # build it (1-9 directors, default 3; 1-50 real servers, default 3), BIRD running
#   scaleout_down                    # kill what runs in its namespaces and remove them
#
#   namespace  interface  address                          role
#   sw         br0 br1    (bridges: br0 the LAN 10.0.0.0/24, br1 the client net 10.1.0.0/24)
#   router     eth0       10.0.0.1/24    MAC 02:00:00:00:00:01   BIRD, AS 65000: one eBGP+BFD session per director,
#              eth1       10.1.0.1/24    MAC 02:00:00:00:01:01   ECMP route to the VIP (merge paths), L4 hash
#   client     eth0       10.1.0.100/24  MAC 02:00:00:00:01:00   default via 10.1.0.1; curl
#   lbN        eth0       10.0.0.(10+N)/24  MAC 02:00:00:00:00:(10+N)  director, BIRD AS 65000+N announcing h2e0's
#                                                                    /32s; default via the router
#   webN       eth0       10.0.0.(20+N)/24  MAC 02:00:00:00:00:(20+N)  busybox httpd :80, VIP on lo, default via router
#
#   VIP 10.0.100.10 (SCALEOUT_VIP, must be in 10.0.100.0/24): outside every connected prefix, so the router reaches it
#   only by the BGP routes (it never ARPs for it). A director serves it by putting it on its TUN device h2e0 (what
#   h2e-director does; BIRD's direct protocol exports it); the real servers have it on lo (direct routing,
#   arp_ignore=1, arp_announce=2) and answer the client straight through the router (the directors see only the
#   client's packets). The router accepts /32s in 10.0.100.0/24 only.
#
# Each director's BIRD runs Packaging/bird/h2e-director-bird.conf, the example the package ships, with only its four
# definitions and its log line replaced (plus `debug protocols { states }`, as the router's). Each BIRD runs niced
# (-10) and has its config, control socket, pid file and log in $SCALEOUT_DIR (default /tmp/h2e-scaleout): NS.conf
# NS.ctl NS.pid NS.log. The webservers serve, from $SCALEOUT_DIR/webN:
#   /   "webN"      /cgi-bin/id   "webN" with an `X-SERVER: webN` header      /big   SCALEOUT_BIG_MB MiB (default 5)
# Each web's eth0 has an fq qdisc pacing every flow to SCALEOUT_RATE bytes/s (default 200 KiB/s: /big takes ~26 s).
# Needs root, a kernel with veth, bridge, tun, sch_fq and IPVS (scripts/ipvs-vm), iproute2, busybox, curl, bird2,
# python3 (scaleout_tun) and ipvsadm (scaleout_manual_director, scaleout_spread). Everything it starts runs inside its
# namespaces, so scaleout_down stops exactly that (`ip netns pids`), and nothing else. It uses the namespace names of
# scripts/lib/topology.sh (sw, client, lbN, webN): the two cannot run at once.
#
# Helpers:
#   scaleout_bird NS CMD...           birdc against NS's BIRD (e.g. scaleout_bird router show protocols)
#   scaleout_bird_start NS            (re)start NS's BIRD (router or lbN) with a fresh config
#   scaleout_bird_stop NS             kill -9 NS's BIRD (a crash: no BGP notification is sent)
#   scaleout_established [NS]         how many BGP sessions of NS (default router) are Established
#   scaleout_bfd_up [NS]              how many BFD sessions of NS (default router) are Up
#   scaleout_wait_established COUNT SECONDS   wait until the router has COUNT Established sessions
#   scaleout_nexthops                 the router's kernel nexthops for the VIP, one gateway a line
#   scaleout_wait_nexthops COUNT SECONDS      wait until the router has exactly COUNT nexthops for the VIP
#   scaleout_routes_watch             log the router's route changes with the kernel's timestamps, and
#   scaleout_routes_when COUNT EPOCH  when (s after EPOCH) the VIP's route first had COUNT nexthops: precise, where
#                                     polling in a loaded single-CPU VM lags by up to a second
#   scaleout_tun NS [ADDR...]         create h2e0 in NS as h2e-director does (a TUN held by a process; it goes when
#                                     that process dies), bring it up, put the addresses on it as /32
#   scaleout_tun_kill NS              kill -9 the process holding NS's h2e0: the kernel deletes it (a killed h2e)
#   scaleout_manual_director NS       an h2e-like director by hand: ipvsadm service VIP:80 -s mh -b mh-fallback,mh-port,
#                                     every web by direct routing, sloppy_tcp=1, VIP on h2e0 (scaleout_tun)
#   scaleout_fetch [PATH] [TIMEOUT]   one new connection from the client to the VIP; prints the body
#   scaleout_downloads_start COUNT    COUNT paced downloads of /big from the client (~26 s each), each from its own
#                                     source port, new ones each round (from SCALEOUT_DL_PORT+1, default 40001)
#   scaleout_downloads_broken [SECONDS]  wait for them (default 120 s) and print how many did not get all of /big
#   scaleout_spread REQUESTS          REQUESTS new connections; prints "lbN CONNS" per director (from its IPVS
#                                     service counters), then "webN COUNT" per real server that answered
#   scaleout_probes_start [INTERVAL]  a new connection to the VIP every INTERVAL s (0.1) in the background, until
#   scaleout_probes_stop;             scaleout_probes_after EPOCH: "FAILED FIRST_OK LAST_FAILED" of those since EPOCH
#   scaleout_flows NS                 how many of the last round's downloads go through NS now (IPVS entries that
#                                     saw a packet in the last ~2 s); scaleout_flow_ports NS: their client ports

SCALEOUT_DIR=${SCALEOUT_DIR:-/tmp/h2e-scaleout}
SCALEOUT_VIP=${SCALEOUT_VIP:-10.0.100.10}
SCALEOUT_VIP_NET=10.0.100.0/24
SCALEOUT_ROUTER=10.0.0.1
SCALEOUT_ROUTER_AS=65000
SCALEOUT_BIG_MB=${SCALEOUT_BIG_MB:-5}
SCALEOUT_RATE=${SCALEOUT_RATE:-204800}   # bytes/s per flow from each web (fq maxrate): 5 MiB at 200 KiB/s is ~26 s
SCALEOUT_DL_PORT=${SCALEOUT_DL_PORT:-40000}
SCALEOUT_DIRECTORS=0
SCALEOUT_WEBS=0

_scaleout_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCALEOUT_BIRD_EXAMPLE=${SCALEOUT_BIRD_EXAMPLE:-$_scaleout_lib/../../Packaging/bird/h2e-director-bird.conf}
# Its helpers (_topology_namespace, _topology_port, _topology_bridge, _topology_wait); its globals are harmless.
. "$_scaleout_lib/topology.sh"

# scaleout_up [DIRECTORS] [WEBS]
scaleout_up() {
    local directors=${1:-3} webs=${2:-3} i ns addr
    case $directors$webs in '' | *[!0-9]*) echo "scaleout_up: DIRECTORS and WEBS must be numbers" >&2; return 2 ;; esac
    [ "$directors" -ge 1 ] && [ "$directors" -le 9 ] || { echo "scaleout_up: DIRECTORS must be 1-9" >&2; return 2; }
    [ "$webs" -ge 1 ] && [ "$webs" -le 50 ] || { echo "scaleout_up: WEBS must be 1-50" >&2; return 2; }
    [ -f "$SCALEOUT_BIRD_EXAMPLE" ] || { echo "scaleout_up: no $SCALEOUT_BIRD_EXAMPLE" >&2; return 1; }
    scaleout_down
    SCALEOUT_DIRECTORS=$directors SCALEOUT_WEBS=$webs
    case $SCALEOUT_DIR in '' | / | /tmp | /tmp/) echo "scaleout_up: SCALEOUT_DIR '$SCALEOUT_DIR'?" >&2; return 2 ;; esac
    rm -rf "$SCALEOUT_DIR" && mkdir -p "$SCALEOUT_DIR" || return
    echo "$directors $webs" > "$SCALEOUT_DIR/shape"

    _topology_namespace sw || return
    _topology_bridge br0 || return
    _topology_bridge br1 || return

    _topology_namespace router || return
    _topology_port router $SCALEOUT_ROUTER/24 02:00:00:00:00:01 br0 eth0 || return
    _topology_port router 10.1.0.1/24 02:00:00:00:01:01 br1 eth1 || return
    # L4 hash: the connections of one client spread over the directors. No rp_filter: replies from the real
    # servers come in on the interface the VIP's route leaves by.
    ip netns exec router sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1 \
        net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 || return

    _topology_namespace client || return
    _topology_port client 10.1.0.100/24 02:00:00:00:01:00 br1 eth0 || return
    ip -n client route add default via 10.1.0.1 || return
    # Ephemeral ports below the downloads' fixed source ports (SCALEOUT_DL_PORT+1...): a probe's connect() must
    # not take the port a download is about to bind.
    ip netns exec client sysctl -qw net.ipv4.ip_local_port_range="10000 39999" || return

    for i in $(seq "$directors"); do
        ns=lb$i
        _topology_namespace $ns || return
        _topology_port $ns 10.0.0.$((10 + i))/24 "$(printf '02:00:00:00:00:%02x' $((0x10 + i)))" br0 eth0 || return
        ip netns exec $ns sysctl -qw net.ipv4.ip_forward=1 || return
        # A real director has a default route: its resets for connections it does not know (sloppy_tcp=0) reach
        # the client at once instead of leaving the download hung.
        ip -n $ns route add default via $SCALEOUT_ROUTER || return
    done

    for i in $(seq "$webs"); do
        ns=web$i
        _topology_web "$i" $SCALEOUT_VIP || return
        ip -n $ns route add default via $SCALEOUT_ROUTER || return
        # Long downloads: each flow leaving the web is paced to SCALEOUT_RATE (curl 7.88's --limit-rate lets a
        # 5 MiB file through in well under a second).
        tc -n $ns qdisc add dev eth0 root fq maxrate $((SCALEOUT_RATE * 8))bit || {
            echo "scaleout_up: no fq qdisc (sch_fq) for $ns" >&2; return 1; }
        _topology_httpd $ns "$SCALEOUT_DIR" $((SCALEOUT_BIG_MB * 1048576)) || return
    done

    scaleout_bird_start router || return
    for i in $(seq "$directors"); do scaleout_bird_start lb$i || return; done
    for i in $(seq "$webs"); do  # answering (through the router) before we return
        _topology_wait 5 ip netns exec client curl -sf -m 1 -o /dev/null "http://10.0.0.$((20 + i))/" || {
            echo "scaleout_up: web$i does not answer" >&2; return 1; }
    done
}

# scaleout_down: stop every process in the group's namespaces (they are ours; "probe" is scripts/bench-scaleout's
# host on the LAN) and remove the namespaces.
scaleout_down() {
    _topology_remove '^(sw|router|client|probe|lb[0-9]+|web[0-9]+)$'
}

_scaleout_shape() {  # the shape of the running group, also in a new shell that sourced this file
    [ "$SCALEOUT_DIRECTORS" -gt 0 ] 2>/dev/null && return 0
    read -r SCALEOUT_DIRECTORS SCALEOUT_WEBS < "$SCALEOUT_DIR/shape" 2>/dev/null
}

# _scaleout_router_conf: the router's BIRD: one eBGP session with BFD per director, the VIP routes merged into one
# ECMP kernel route.
_scaleout_router_conf() {
    local i
    cat <<EOF
log "$SCALEOUT_DIR/router.log" all;
debug protocols { states };
router id $SCALEOUT_ROUTER;

protocol device {
}

protocol kernel {
	ipv4 {
		import none;
		export all;
	};
	merge paths on;                 # equal BGP routes from several directors: one multipath kernel route
}

protocol bfd {
	interface "eth0" {
		min rx interval 100 ms;
		min tx interval 100 ms;
		multiplier 3;
	};
}

template bgp director {
	local $SCALEOUT_ROUTER as $SCALEOUT_ROUTER_AS;
	direct;
	bfd on;
	hold time 3;
	keepalive time 1;
	connect delay time 1;
	connect retry time 1;
	error wait time 1, 5;
	graceful restart off;           # a dead director's routes go at once, not kept as stale
	ipv4 {
		import where net ~ [ $SCALEOUT_VIP_NET{32,32} ];
		export none;
	};
}
EOF
    for i in $(seq "$SCALEOUT_DIRECTORS"); do
        printf '\nprotocol bgp lb%s from director {\n\tneighbor 10.0.0.%s as %s;\n}\n' \
            $i $((10 + i)) $((SCALEOUT_ROUTER_AS + i))
    done
}

# _scaleout_director_conf N: the packaged example with lbN's definitions.
_scaleout_director_conf() {
    sed -E -e "s|^define DIRECTOR_ADDRESS *=.*|define DIRECTOR_ADDRESS = 10.0.0.$((10 + $1));|" \
        -e "s|^define ROUTER_ADDRESS *=.*|define ROUTER_ADDRESS = $SCALEOUT_ROUTER;|" \
        -e "s|^define DIRECTOR_AS *=.*|define DIRECTOR_AS = $((SCALEOUT_ROUTER_AS + $1));|" \
        -e "s|^define ROUTER_AS *=.*|define ROUTER_AS = $SCALEOUT_ROUTER_AS;|" \
        -e "s|^log syslog .*|log \"$SCALEOUT_DIR/lb$1.log\" all;\ndebug protocols { states };|" "$SCALEOUT_BIRD_EXAMPLE"
}

# scaleout_bird_start NS: (re)start the BIRD of NS (router or lbN), as a daemon inside NS.
scaleout_bird_start() {
    local ns=$1 d=$SCALEOUT_DIR
    _scaleout_shape
    scaleout_bird_stop "$ns"
    case $ns in
        router) _scaleout_router_conf > "$d/$ns.conf" ;;
        lb[0-9]*) _scaleout_director_conf "${ns#lb}" > "$d/$ns.conf" ;;
        *) echo "scaleout_bird_start: no BIRD for $ns" >&2; return 2 ;;
    esac
    # Niced: in a one-CPU VM, BFD's 300 ms detection otherwise fires falsely whenever the test's processes hog it.
    ip netns exec "$ns" nice -n -10 bird -c "$d/$ns.conf" -s "$d/$ns.ctl" -P "$d/$ns.pid" || {
        echo "scaleout_bird_start: BIRD in $ns did not start" >&2; return 1; }
}

# scaleout_bird_stop NS: kill -9 NS's BIRD, if it runs (a crash: the peer gets no notification).
scaleout_bird_stop() {
    local pid
    pid=$(cat "$SCALEOUT_DIR/$1.pid" 2>/dev/null) || return 0
    # Only a process of that namespace: a stale pid file must not kill anything else.
    ip netns pids "$1" 2>/dev/null | grep -qx "$pid" && kill -9 "$pid" 2>/dev/null
    rm -f "$SCALEOUT_DIR/$1.pid" "$SCALEOUT_DIR/$1.ctl"
    return 0
}

# scaleout_bird NS CMD...: birdc against NS's BIRD.
scaleout_bird() {
    local ns=$1; shift
    birdc -s "$SCALEOUT_DIR/$ns.ctl" "$@"
}

scaleout_established() {
    scaleout_bird "${1:-router}" show protocols 2>/dev/null | awk '$2 == "BGP" && $6 == "Established"' | wc -l
}

scaleout_bfd_up() {
    scaleout_bird "${1:-router}" show bfd sessions 2>/dev/null | awk '$3 == "Up"' | wc -l
}

scaleout_wait_established() {
    _topology_wait "$2" _scaleout_is "$1" scaleout_established
}

# scaleout_nexthops: the router's kernel nexthops for the VIP, one gateway a line (none: no route).
scaleout_nexthops() {
    ip -n router -4 route show "$SCALEOUT_VIP/32" 2>/dev/null | grep -o 'via [0-9.]*' | awk '{print $2}'
}

scaleout_wait_nexthops() {
    _topology_wait "$2" _scaleout_is "$1" _scaleout_nexthop_count
}

_scaleout_nexthop_count() {
    scaleout_nexthops | wc -l
}

_scaleout_is() {  # _scaleout_is VALUE COMMAND...: COMMAND prints VALUE
    local want=$1; shift
    [ "$("$@")" = "$want" ]
}

# scaleout_tun NS [ADDR...]: h2e0 as h2e-director makes it: a TUN (IFF_TUN|IFF_NO_PI, not persistent) held open by
# a process in NS, up, each address a /32 on it (none: add them later with `ip -n NS addr add ADDR/32 dev h2e0`).
# kill -9 of that process (scaleout_tun_kill) deletes h2e0.
scaleout_tun() {
    local ns=$1 a; shift
    ( ip netns exec "$ns" python3 -c '
import fcntl, os, signal, struct, sys
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH22x", b"h2e0", 0x0001 | 0x1000))  # TUNSETIFF, IFF_TUN|IFF_NO_PI
open(sys.argv[1], "w").write("%d\n" % os.getpid())
while True:
    signal.pause()
' "$SCALEOUT_DIR/$ns.tun.pid" </dev/null >/dev/null 2>&1 & )  # not a job of the caller's shell
    _topology_wait 5 ip -n "$ns" link show h2e0 >/dev/null 2>&1 || {
        echo "scaleout_tun: no h2e0 in $ns" >&2; return 1; }
    ip -n "$ns" link set h2e0 up || return
    for a in "$@"; do ip -n "$ns" addr add "$a/32" dev h2e0 || return; done
}

scaleout_tun_kill() {
    local pid
    pid=$(cat "$SCALEOUT_DIR/$1.tun.pid" 2>/dev/null) || return 0
    ip netns pids "$1" 2>/dev/null | grep -qx "$pid" && kill -9 "$pid" 2>/dev/null
    rm -f "$SCALEOUT_DIR/$1.tun.pid"
    _topology_wait 5 _scaleout_gone "$1"
}

_scaleout_gone() { ! ip -n "$1" link show h2e0 >/dev/null 2>&1; }

# scaleout_manual_director NS: what h2e-director will do, by hand.
scaleout_manual_director() {
    local ns=$1 i
    _scaleout_shape
    ip netns exec "$ns" sysctl -qw net.ipv4.vs.sloppy_tcp=1 || return
    ip netns exec "$ns" ipvsadm -C || return
    ip netns exec "$ns" ipvsadm -A -t $SCALEOUT_VIP:80 -s mh -b mh-fallback,mh-port || return
    for i in $(seq "$SCALEOUT_WEBS"); do  # the same order on every director: mh's table depends on it
        ip netns exec "$ns" ipvsadm -a -t $SCALEOUT_VIP:80 -r 10.0.0.$((20 + i)):80 -g -w 1 || return
    done
    ip -n "$ns" link show h2e0 >/dev/null 2>&1 || scaleout_tun "$ns" "$SCALEOUT_VIP"
}

scaleout_fetch() {
    ip netns exec client curl -sf -m "${2:-1}" "http://$SCALEOUT_VIP${1:-/}"
}

# scaleout_downloads_start COUNT: COUNT downloads of /big in the background (in the client namespace, started 50 ms
# apart), each from its own source port: the first call uses SCALEOUT_DL_PORT+1..+COUNT, each further call the ports
# after the last call's (no 4-tuple of an earlier round is reused, and a straggler of an earlier round cannot write
# into this one). Each writes "CURL_EXIT_CODE BYTES SECONDS" to $SCALEOUT_DIR/dl/PORT when it ends.
scaleout_downloads_start() {
    local port first last
    first=$(cat "$SCALEOUT_DIR/dl.next" 2>/dev/null) || first=$((SCALEOUT_DL_PORT + 1))
    [ $((first + $1)) -le 60999 ] || first=$((SCALEOUT_DL_PORT + 1))
    last=$((first + $1 - 1))
    echo $((last + 1)) > "$SCALEOUT_DIR/dl.next"
    mkdir -p "$SCALEOUT_DIR/dl" || return
    for port in $(seq $first $last); do rm -f "$SCALEOUT_DIR/dl/$port"; done
    echo "$first $last" > "$SCALEOUT_DIR/dl.round"
    for port in $(seq $first $last); do
        ( ip netns exec client sh -c 'b=$(curl -s -o /dev/null -w "%{size_download} %{time_total}" -m "$1" \
                --local-port "$2" "http://$3/big"); echo "$? ${b:-0}" > "$4.tmp"; mv "$4.tmp" "$4"' \
            sh 300 $port "$SCALEOUT_VIP" "$SCALEOUT_DIR/dl/$port" </dev/null >/dev/null 2>&1 & )
        sleep 0.05  # 30 processes at once starve BIRD in a one-CPU VM (BFD flaps)
    done
}

# scaleout_downloads_broken [SECONDS]: wait for the last round of downloads (default 120 s) and print how many did
# not complete with the full size. One still running at the deadline counts as broken, and is killed.
scaleout_downloads_broken() {
    local first last port size broken=0 rc bytes pid
    read -r first last < "$SCALEOUT_DIR/dl.round" 2>/dev/null || { echo 0; return; }
    size=$((SCALEOUT_BIG_MB * 1048576))
    _topology_wait "${1:-120}" _scaleout_downloads_done $first $last
    for port in $(seq $first $last); do
        read -r rc bytes _ < "$SCALEOUT_DIR/dl/$port" 2>/dev/null || { rc=running bytes=0; }
        [ "$rc" = 0 ] && [ "$bytes" = "$size" ] || broken=$((broken + 1))
    done
    for pid in $(ip netns pids client 2>/dev/null); do  # this round's stragglers: curl --local-port PORT
        port=$(tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null | sed -nE 's/^curl .*--local-port ([0-9]+) .*/\1/p')
        [ -n "$port" ] && [ "$port" -ge "$first" ] && [ "$port" -le "$last" ] && kill "$pid" 2>/dev/null
    done
    echo $broken
}

_scaleout_downloads_done() {
    local port
    for port in $(seq $1 $2); do [ -f "$SCALEOUT_DIR/dl/$port" ] || return 1; done
}

# scaleout_spread REQUESTS: REQUESTS new connections from the client (one curl, one connection each: busybox
# httpd closes after each answer); prints "lbN CONNS" for each director (the growth of the Conns counters of its IPVS
# services) and "webN COUNT" for each real server that answered.
scaleout_spread() {
    local i before=() n
    _scaleout_shape
    sleep 2.1  # connections made just before are counted into the baseline, not into our figures (see below)
    for i in $(seq "$SCALEOUT_DIRECTORS"); do before[i]=$(_scaleout_conns lb$i); done
    n=$1
    ip netns exec client curl -s -m $((n / 5 + 30)) "http://$SCALEOUT_VIP/index.html?[1-$n]" \
        > "$SCALEOUT_DIR/spread.out"
    # The kernel folds its per-CPU counters into what ipvsadm shows every 2 s (the estimator): wait until every
    # answered connection is counted (at most 5 s).
    _topology_wait 5 _scaleout_counted "$(grep -c '^web' "$SCALEOUT_DIR/spread.out")" "${before[@]}"
    for i in $(seq "$SCALEOUT_DIRECTORS"); do echo "lb$i $(($(_scaleout_conns lb$i) - before[i]))"; done
    sort "$SCALEOUT_DIR/spread.out" | uniq -c | awk '$2 ~ /^web/ {print $2, $1}' | sort -V
}

_scaleout_counted() {  # _scaleout_counted ANSWERED BEFORE...: the directors counted ANSWERED more connections
    local want=$1 i=0 sum=0 b; shift
    for b in "$@"; do i=$((i + 1)); sum=$((sum + $(_scaleout_conns lb$i) - b)); done
    [ "$sum" -ge "$want" ]
}

_scaleout_conns() {  # the sum of the Conns counters of NS's IPVS services
    ip netns exec "$1" ipvsadm -Ln --stats --exact 2>/dev/null \
        | awk '$1 ~ /^(TCP|UDP|SCTP|FWM)$/ {s += $3} END {print s + 0}'
}

# scaleout_probes_start [INTERVAL]: from now on, a new connection from the client to the VIP every INTERVAL seconds
# (default 0.1), each in the background with a 1 s timeout; each logs "START_EPOCH CURL_EXIT_CODE" to
# $SCALEOUT_DIR/probes. scaleout_probes_stop ends the loop (the probes in flight finish on their own).
scaleout_probes_start() {
    rm -f "$SCALEOUT_DIR/probes"
    ( ip netns exec client sh -c 'echo $$ > "$3.pid"; while :; do
            ( t=$(date +%s.%N); curl -s -o /dev/null -m 1 "http://$2/"; echo "$t $?" >> "$3" ) &
            sleep "$1"; done' sh "${1:-0.1}" "$SCALEOUT_VIP" "$SCALEOUT_DIR/probes" </dev/null >/dev/null 2>&1 & )
    _topology_wait 5 test -s "$SCALEOUT_DIR/probes.pid"
}

scaleout_probes_stop() {
    local pid
    pid=$(cat "$SCALEOUT_DIR/probes.pid" 2>/dev/null) || return 0
    ip netns pids client 2>/dev/null | grep -qx "$pid" && kill "$pid" 2>/dev/null
    rm -f "$SCALEOUT_DIR/probes.pid"
    sleep 1.2  # the last probes end
}

# scaleout_probes_after EPOCH: "FAILED FIRST_OK LAST_FAILED" for the probes started at or after EPOCH: how many failed,
# and when (seconds after EPOCH) the first one succeeded and the last failed one started (- if none).
scaleout_probes_after() {
    awk -v t0="$1" '$1 >= t0 { if ($2 != 0) { f++; if ($1 - t0 > lf) lf = $1 - t0 }
                               else if (fo == "" || $1 - t0 < fo) fo = $1 - t0 }
        END { printf "%d %s %s\n", f, fo == "" ? "-" : sprintf("%.2f", fo), f ? sprintf("%.2f", lf) : "-" }' \
        "$SCALEOUT_DIR/probes" 2>/dev/null
}

# scaleout_routes_watch: log the router's route changes (ip -ts monitor route) to $SCALEOUT_DIR/routes, for
# scaleout_routes_when; it runs until scaleout_down.
scaleout_routes_watch() {
    ( ip netns exec router ip -ts monitor route </dev/null >> "$SCALEOUT_DIR/routes" 2>/dev/null & )
    sleep 0.2
}

# scaleout_routes_when COUNT EPOCH: the seconds after EPOCH (date +%s.%N) at which the kernel route to the VIP first
# had COUNT nexthops (0: deleted), from the kernel's own timestamps; "-" if not (yet).
scaleout_routes_when() {
    awk -v vip="$SCALEOUT_VIP" -v want="$1" -v t0="$2" '
        function flush() { if (have && t >= t0 && n == want && !done) { printf "%.3f\n", t - t0; done = 1 } }
        /^\[/ { flush(); have = 0
                s = substr($1, 2, 26); gsub(/[-T:]/, " ", s); split(s, a, "."); t = mktime(a[1]) + ("0." a[2])
                if ($2 == "Deleted" && ($3 == vip || $3 == vip "/32")) { have = 1; n = 0 }
                else if ($2 == vip || $2 == vip "/32") { have = 1; n = ($3 == "via") ? 1 : 0 }
                next }
        have && $1 == "nexthop" { n++ }
        END { flush(); if (!done) print "-" }' "$SCALEOUT_DIR/routes" 2>/dev/null
}

# scaleout_flows NS: how many of the last round's downloads go through NS now: those its IPVS has an ESTABLISHED
# entry for that saw a packet in the last ~2 s (the entry's timer restarts at 15:00 with each packet; an entry stays
# on a director that no longer gets the flow until it expires). scaleout_flow_ports NS: their client ports.
scaleout_flows() {
    scaleout_flow_ports "$1" | wc -l
}

scaleout_flow_ports() {
    local first last
    read -r first last < "$SCALEOUT_DIR/dl.round" 2>/dev/null || return 0
    ip netns exec "$1" ipvsadm -Lnc 2>/dev/null | awk -v a=$first -v b=$last '
        $3 == "ESTABLISHED" && $2 >= "14:58" { p = $4; sub(/.*:/, "", p); if (p + 0 >= a && p + 0 <= b) print p }'
}
