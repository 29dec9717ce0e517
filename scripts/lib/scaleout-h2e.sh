# scripts/lib/scaleout-h2e.sh: h2e-director as the directors of scripts/lib/scaleout.sh's group (which it sources).
# Used by KernelTests.ScaleOutKernelTests and scripts/bench-scaleout.
#
#   scaleout_h2e_config NS [W1 W2 ...]  write $SCALEOUT_DIR/NS.cf: scale_out = 1, one virtual server "web" on the VIP
#                                       over every real server (weights W1... , default 1), HTTP checks every second,
#                                       bird_socket = NS's BIRD, scale_out_peers = the other directors' :9180
#   scaleout_h2e_start NS               start `h2e-director run` in NS ($H2E_DIRECTOR_BIN, default h2e-director on PATH):
#                                       pid in NS.h2e.pid, output in NS.h2e.log, control socket NS.sock, state NS.state,
#                                       status page on its LAN address, port 9180
#   scaleout_h2e_kill NS                kill -9 of NS's h2e-director (its BIRD runs on; the kernel deletes h2e0)
#   scaleout_h2e_stop NS                SIGTERM, and wait until it has exited
#   scaleout_h2e NS ARGUMENTS...        h2e-director ARGUMENTS --socket NS.sock (status, director drain, ...)

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/scaleout.sh"

scaleout_h2e_config() {
    local ns=$1 i weight peers=""
    shift
    _scaleout_shape
    for i in $(seq "$SCALEOUT_DIRECTORS"); do [ "lb$i" = "$ns" ] || peers+=" 10.0.0.$((10 + i)):9180"; done
    {
        printf 'network = direct\nscale_out = 1\nbird_socket = %s\n' "$SCALEOUT_DIR/$ns.ctl"
        [ -n "$peers" ] && printf 'scale_out_peers =%s\n' "$peers"
        printf '\n'
        printf 'virtual web {\n    active = 1\n    address = %s eth0\n    port = 80\n' "$SCALEOUT_VIP"
        printf '    send = "GET / HTTP/1.0\\r\\n\\r\\n"\n    expect = "HTTP"\n'
        printf '    check_interval = 1\n    timeout = 2\n    reentry = 1\n'
        for i in $(seq "$SCALEOUT_WEBS"); do
            weight=${1:-1}
            [ $# -gt 0 ] && shift
            printf '    server web%d {\n        address = 10.0.0.%d\n        active = 1\n        weight = %d\n    }\n' \
                "$i" $((20 + i)) "$weight"
        done
        printf '}\n'
    } > "$SCALEOUT_DIR/$ns.cf"
}

scaleout_h2e_start() {
    local ns=$1 bin=${H2E_DIRECTOR_BIN:-h2e-director}
    mkdir -p "$SCALEOUT_DIR/$ns.state" || return
    ( ip netns exec "$ns" "$bin" run --config "$SCALEOUT_DIR/$ns.cf" --socket "$SCALEOUT_DIR/$ns.sock" \
        --state-dir "$SCALEOUT_DIR/$ns.state" --metrics "10.0.0.$((10 + ${ns#lb})):9180" --metrics-allow-remote </dev/null >>"$SCALEOUT_DIR/$ns.h2e.log" 2>&1 &
      echo $! > "$SCALEOUT_DIR/$ns.h2e.pid" )
}

scaleout_h2e_kill() {
    kill -9 "$(cat "$SCALEOUT_DIR/$1.h2e.pid")"
}

scaleout_h2e_stop() {
    local pid
    pid=$(cat "$SCALEOUT_DIR/$1.h2e.pid") || return
    kill "$pid" 2>/dev/null || return 0
    _topology_wait 15 _scaleout_h2e_gone "$pid"
}

_scaleout_h2e_gone() { ! kill -0 "$1" 2>/dev/null; }

scaleout_h2e() {
    local ns=$1
    shift
    "${H2E_DIRECTOR_BIN:-h2e-director}" "$@" --socket "$SCALEOUT_DIR/$ns.sock"
}
