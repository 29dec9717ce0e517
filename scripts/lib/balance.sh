# scripts/lib/balance.sh: the load-balancing benchmark's cluster (scripts/bench-balance, BalanceKernelTests).
#
#   . scripts/lib/topology.sh; . scripts/lib/balance.sh
#   balance_build DIR                 compile burn-httpd and open-loop-client (scripts/lib/balance/*.c) into DIR
#   balance_cgroups                   mount cgroup v2 at /sys/fs/cgroup if needed and enable the cpu controller
#   balance_calibrate MS              "ITERATIONS COST_US LIGHT_US": the loop iterations for MS ms, the CPU a request
#                                     costs a saturated quota (capacity = quota / COST_US) and at light load
#                                     (before the cluster: it uses web1)
#   balance_capacity ITERATIONS RATE SECONDS   "TOTAL C1 C2 C3": requests/s the cluster sustains, measured in place
#                                     (static weights, offered RATE for SECONDS; see below)
#   balance_up ITERATIONS MONITOR SCHEDULER   the cluster below, the director running, every server in its table
#   balance_quota webN PERCENT        set webN's cgroup cpu.max to PERCENT of one CPU (the mid-run step)
#   balance_weights                   "web1 W web2 W web3 W" from `ipvsadm -Ln` in lb1 (- when not in the table)
#   balance_usage                     "web1 U web2 U web3 U": each cgroup's cpu.stat usage_usec
#   balance_client RATE SECONDS SEED LOG   the open-loop client in namespace client; prints its summary
#   balance_down                      stop everything, remove the namespaces and cgroups
#
# The cluster (scripts/lib/topology.sh's namespaces, TOPOLOGY_HTTPD=none): client 10.0.0.100, director lb1 10.0.0.11
# (lb2 stays idle), webservers web1..3 at 10.0.0.21-23. BALANCE_SITES (60) site IPs from 10.0.1.1 (all of
# 10.0.1.0/26) are local on every webserver's lo (arp_ignore/arp_announce as for the VIP: direct routing) and on lb1's
# lo (IPVS takes packets in LOCAL_IN); the client routes 10.0.1.0/26 via lb1, where `iptables-legacy -t mangle`
# marks them BALANCE_MARK (100), and lvs.cf has one fwmark virtual server over web1..3, weight 32 each, `load_monitor`
# MONITOR (h2e or none), scheduler SCHEDULER, a send/expect HTTP health check (an ordinary request: it burns CPU and
# queues like the others), `h2e-director run` from $H2E_BIN. Each webserver runs burn-httpd (ITERATIONS per request)
# on :80 and `h2e-agent serve --port 80` on :8181 (with `h2e-agent sample` every minute, as cron does), both in the cgroup
# /sys/fs/cgroup/webN with cpu.max BALANCE_QUOTAS (6 12 24 percent: capacities 1:2:4). Processes enter their
# namespace with nsenter --net (not `ip netns exec`, which remounts /sys and would hide the cgroup tree from the
# agent). State under BALANCE_DIR (/tmp/h2e-balance).

BALANCE_DIR=${BALANCE_DIR:-/tmp/h2e-balance}
BALANCE_SITES=${BALANCE_SITES:-60}
BALANCE_QUOTAS=${BALANCE_QUOTAS:-"6 12 24"}
BALANCE_PERIOD=${BALANCE_PERIOD:-100000}
BALANCE_MARK=${BALANCE_MARK:-100}
BALANCE_WEIGHT=${BALANCE_WEIGHT:-32}
BALANCE_WORKERS=${BALANCE_WORKERS:-32}
BALANCE_WEIGHT_INTERVAL=${BALANCE_WEIGHT_INTERVAL:-2}
BALANCE_CHECK_INTERVAL=${BALANCE_CHECK_INTERVAL:-2}
BALANCE_CHECK_TIMEOUT=${BALANCE_CHECK_TIMEOUT:-10}
BALANCE_CALIBRATE_SECONDS=${BALANCE_CALIBRATE_SECONDS:-10}
BALANCE_SRC=${BALANCE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/balance}
BALANCE_CGROUP=/sys/fs/cgroup
BALANCE_WEBS="web1 web2 web3"

balance_build() {
    mkdir -p "$1" || return
    gcc -O2 -Wall -pthread -o "$1/burn-httpd" "$BALANCE_SRC/burn-httpd.c" || return
    gcc -O2 -Wall -o "$1/open-loop-client" "$BALANCE_SRC/open-loop-client.c" -lm
}

balance_cgroups() {
    grep -q " $BALANCE_CGROUP cgroup2 " /proc/mounts || mount -t cgroup2 none $BALANCE_CGROUP || return
    grep -qw cpu $BALANCE_CGROUP/cgroup.subtree_control || echo +cpu > $BALANCE_CGROUP/cgroup.subtree_control
}

balance_calibrate() {
    local ms=$1 iterations light saturated
    iterations=$("$BALANCE_BIN/burn-httpd" --calibrate "$ms") || return
    # The loop's wall time is not what a request costs the cgroup: the guest adds its network stack, user-mode-linux
    # charges CPU in 10 ms ticks, and a saturated server also pays for the requests its clients gave up on. So the
    # capacity is measured as what a quota sustains when saturated; the light-load cost is printed beside it.
    light=$(_balance_request_cost "$iterations" light) || return
    saturated=$(_balance_request_cost "$iterations" saturated "$light") || return
    echo "$iterations $saturated $light"
}

# _balance_request_cost ITERATIONS light|saturated [LIGHT_COST]: CPU microseconds per request of burn-httpd in a
# one-server topology, over BALANCE_CALIBRATE_SECONDS. light: no quota, 30 requests/s, cgroup usage per answer.
# saturated: a 24 % quota offered twice what LIGHT_COST says it sustains; 0.24 s of CPU per second over the
# requests it served (its own count, answered or not).
_balance_request_cost() {
    local cg=$BALANCE_CGROUP/balance-calibrate u0 u1 served rate=30
    balance_cgroups || return
    TOPOLOGY_HTTPD=none topology_up 1 >/dev/null || return
    mkdir -p $cg "$BALANCE_DIR"
    [ "$2" = saturated ] && { echo "24000 100000" > $cg/cpu.max; rate=$((2 * 240000 / $3)); }
    rm -f "$BALANCE_DIR/calibrate-httpd.log"
    _balance_start calibrate-httpd balance-calibrate web1 "$BALANCE_BIN/burn-httpd" --id web1 --iterations "$1" \
        --workers "$BALANCE_WORKERS"
    _topology_wait 10 _balance_in client curl -sf -m 2 -o /dev/null http://10.0.0.21/ || return
    u0=$(awk '$1 == "usage_usec" { print $2 }' $cg/cpu.stat)
    served=$(_balance_in client "$BALANCE_BIN/open-loop-client" --rate $rate --duration "$BALANCE_CALIBRATE_SECONDS" \
        --sites 1 --site-base 10.0.0.21 | awk '$1 == "client:" { print $5 }')
    u1=$(awk '$1 == "usage_usec" { print $2 }' $cg/cpu.stat)
    if [ "$2" = saturated ]; then
        kill -TERM $(cat $cg/cgroup.procs); _topology_wait 5 grep -q 'requests served' "$BALANCE_DIR/calibrate-httpd.log"
        served=$(awk '/requests served/ { print $3 }' "$BALANCE_DIR/calibrate-httpd.log")
    fi
    topology_down
    _topology_wait 5 rmdir $cg 2>/dev/null
    [ "${served:-0}" -gt 0 ] || { echo "balance_calibrate: no request answered" >&2; return 1; }
    echo $(((u1 - u0) / served))
}

# balance_capacity ITERATIONS RATE SECONDS: the capacity of the cluster itself, not of one bare server: in the
# cluster a webserver's quota also pays for its agent, the sampler and the health checks, and a small quota pays more
# for the guest's 10 ms CPU ticks (one run: 6.8-9.3 ms per answer in the cluster against 6.1 ms bare, yet a total
# within 2 % of balance_calibrate's estimate). A static cluster (load_monitor none, lblc) is offered RATE (choose it
# above the capacity) for SECONDS; each server's capacity is its quota over the cgroup CPU it spent per request
# served (burn-httpd's own count, given up on by the client or not; it also counts balance_up's few probes and
# checks). Prints the total and each server's, in requests/s.
balance_capacity() {
    local ns quota usage served i=0 each=""
    declare -A u0
    balance_up "$1" none lblc > /tmp/balance-capacity-up.log 2>&1 || { cat /tmp/balance-capacity-up.log >&2; return 1; }
    for ns in $BALANCE_WEBS; do u0[$ns]=$(awk '$1 == "usage_usec" { print $2 }' $BALANCE_CGROUP/$ns/cpu.stat); done
    balance_client "$2" "$3" 1 /dev/null > /dev/null 2>&1 || { echo "balance_capacity: the client failed" >&2; balance_down; return 1; }
    for quota in $BALANCE_QUOTAS; do
        i=$((i + 1)) ns=web$i
        usage=$(( $(awk '$1 == "usage_usec" { print $2 }' $BALANCE_CGROUP/$ns/cpu.stat) - ${u0[$ns]} ))
        kill -TERM $(cat $BALANCE_CGROUP/$ns/cgroup.procs) 2>/dev/null
        _topology_wait 5 grep -q 'requests served' "$BALANCE_DIR/$ns-httpd.log"
        served=$(awk '/requests served/ { print $3 }' "$BALANCE_DIR/$ns-httpd.log")
        [ "${served:-0}" -gt 0 ] && [ "$usage" -gt 0 ] || { echo "balance_capacity: $ns served nothing" >&2; balance_down; return 1; }
        each+=" $(awk -v q="$quota" -v u="$usage" -v n="$served" 'BEGIN { printf "%.2f", q / 100 / (u / n / 1e6) }')"
    done
    balance_down
    echo "$(echo "$each" | awk '{ for (i = 1; i <= NF; i++) s += $i; printf "%.2f", s }')$each"
}

# _balance_in NS COMMAND...: run COMMAND in NS's network namespace only (the mount namespace, /sys/fs/cgroup, stays).
_balance_in() {
    local ns=$1; shift
    nsenter --net=/run/netns/"$ns" "$@"
}

# _balance_start NAME CGROUP NS COMMAND...: start COMMAND in the background inside cgroup CGROUP (none: stay) and
# namespace NS, output to BALANCE_DIR/NAME.log. Everything runs in the topology's namespaces: topology_down ends it.
_balance_start() {
    local name=$1 cgroup=$2 ns=$3; shift 3
    if [ "$cgroup" = none ]; then
        _balance_in "$ns" "$@" </dev/null >>"$BALANCE_DIR/$name.log" 2>&1 &
    else
        _balance_in "$ns" /bin/sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$BALANCE_CGROUP/$cgroup" "$@" \
            </dev/null >>"$BALANCE_DIR/$name.log" 2>&1 &
    fi
}

balance_quota() {
    echo "$(($2 * BALANCE_PERIOD / 100)) $BALANCE_PERIOD" > $BALANCE_CGROUP/$1/cpu.max
}

balance_up() {
    local iterations=$1 monitor=$2 scheduler=$3 i ns quota servers=""
    [ -x "$BALANCE_BIN/burn-httpd" ] && [ -x "$H2E_BIN/h2e-director" ] && [ -x "$H2E_BIN/h2e-agent" ] || {
        echo "balance_up: needs BALANCE_BIN (balance_build) and H2E_BIN (h2e-director, h2e-agent)" >&2; return 2; }
    balance_down
    rm -rf "$BALANCE_DIR"; mkdir -p "$BALANCE_DIR" || return
    TOPOLOGY_HTTPD=none topology_up 3 || return
    balance_cgroups || { echo "balance_up: no cgroup v2 cpu controller" >&2; return 1; }

    ip -n client route add 10.0.1.0/26 via 10.0.0.11 || return
    ip -n lb1 addr add 10.0.1.0/26 dev lo || return
    ip netns exec lb1 iptables-legacy -t mangle -A PREROUTING -d 10.0.1.0/26 -p tcp --dport 80 \
        -j MARK --set-mark "$BALANCE_MARK" || { echo "balance_up: iptables-legacy cannot mark (modules?)" >&2; return 1; }
    i=0
    for quota in $BALANCE_QUOTAS; do
        i=$((i + 1)) ns=web$i
        ip -n $ns addr add 10.0.1.0/26 dev lo || return
        mkdir -p $BALANCE_CGROUP/$ns "$BALANCE_DIR/$ns" || return
        balance_quota $ns "$quota" || return
        _balance_start $ns-httpd $ns $ns "$BALANCE_BIN/burn-httpd" --id $ns --iterations "$iterations" \
            --workers "$BALANCE_WORKERS"
        # The RRD history as the cron job writes it: a sample now, then every minute.
        _balance_start $ns-sample $ns $ns /bin/sh -c 'while :; do "$0" sample --dir "$1" --server-id "$2"; sleep 60; done' \
            "$H2E_BIN/h2e-agent" "$BALANCE_DIR/$ns" $ns
        servers+="    server $ns {
        address = 10.0.0.2$i
        active = 1
        weight = $BALANCE_WEIGHT
    }
"
    done
    for ns in $BALANCE_WEBS; do
        _topology_wait 20 test -f "$BALANCE_DIR/$ns/load.rrd" || { echo "balance_up: no first sample in $ns" >&2; return 1; }
        _balance_start $ns-agent $ns $ns "$H2E_BIN/h2e-agent" serve --dir "$BALANCE_DIR/$ns" --server-id $ns \
            --listen 10.0.0.2${ns#web}:8181 --port 80
    done
    for ns in $BALANCE_WEBS; do
        _topology_wait 20 _balance_in client curl -sf -m 2 -o /dev/null "http://10.0.0.2${ns#web}/" \
            || { echo "balance_up: burn-httpd in $ns does not answer" >&2; return 1; }
        _topology_wait 20 _balance_in client curl -sf -m 2 -o /dev/null "http://10.0.0.2${ns#web}:8181/load.json" \
            || { echo "balance_up: h2e-agent in $ns does not answer" >&2; return 1; }
    done

    cat > "$BALANCE_DIR/lvs.cf" <<EOF
network = direct
hard_shutdown = 1
weight_interval = $BALANCE_WEIGHT_INTERVAL
load_slow_start = 0
agent_port = 8181
virtual sites {
    active = 1
    fwmark = $BALANCE_MARK
    port = 80
    protocol = tcp
    scheduler = $scheduler
    send = "GET / HTTP/1.0\r\n\r\n"
    expect = "HTTP"
    check_interval = $BALANCE_CHECK_INTERVAL
    timeout = $BALANCE_CHECK_TIMEOUT
    reentry = 10
    load_monitor = $monitor
$servers}
EOF
    "$H2E_BIN/h2e-director" check-config --config "$BALANCE_DIR/lvs.cf" >"$BALANCE_DIR/check-config.log" 2>&1 \
        || { cat "$BALANCE_DIR/check-config.log" >&2; return 1; }
    _balance_start director none lb1 "$H2E_BIN/h2e-director" run --config "$BALANCE_DIR/lvs.cf" \
        --socket "$BALANCE_DIR/director.sock" --state-dir "$BALANCE_DIR/director-state"
    _topology_wait 30 _balance_all_in_table || {
        echo "balance_up: the director's table is not complete:" >&2
        _balance_in lb1 ipvsadm -Ln >&2; tail -20 "$BALANCE_DIR/director.log" >&2; return 1; }
}

_balance_all_in_table() {
    ! balance_weights | grep -q -- ' -'
}

balance_weights() {
    _balance_in lb1 ipvsadm -Ln | awk -v webs="$BALANCE_WEBS" '
        $1 == "->" { split($2, a, ":"); w[a[1]] = $4 }
        END { n = split(webs, s, " "); for (i = 1; i <= n; i++) { ip = "10.0.0.2" i; printf "%s%s %s", (i > 1 ? " " : ""), s[i], (ip in w ? w[ip] : "-") } print "" }'
}

balance_usage() {
    local ns sep=""
    for ns in $BALANCE_WEBS; do
        printf '%s%s %s' "$sep" $ns "$(awk '$1 == "usage_usec" { print $2 }' $BALANCE_CGROUP/$ns/cpu.stat)"; sep=" "
    done
    echo
}

balance_client() {
    _balance_in client "$BALANCE_BIN/open-loop-client" --rate "$1" --duration "$2" --seed "$3" --sites "$BALANCE_SITES" \
        --site-base 10.0.1.1 --timeout 5 --log "$4"
}

balance_down() {
    local ns
    topology_down
    for ns in $BALANCE_WEBS; do
        [ -d $BALANCE_CGROUP/$ns ] || continue
        # Its processes were killed with their namespaces; rmdir succeeds once the kernel has reaped them.
        _topology_wait 5 rmdir $BALANCE_CGROUP/$ns 2>/dev/null
    done
    return 0
}
