#!/usr/bin/env bash
# Measures the engines against a plain C epoll echo server (the yardstick), and checks iomodels'
# load generator against an independent C load client on that server.
#
#   tests/bench/compare.sh [DURATION] [ROUNDS]     DURATION per run (default 5s), ROUNDS per shape (default 3)
#
# Why pinned, and why rounds: on 2 shared cores, where the scheduler happens to put the server and the
# load moved single runs by 20-50% either way (measured: the C server alone gave 1.48 M and 2.58 M
# msg/s in two runs minutes apart). So every server runs on core 0 and the load on core 1 (taskset),
# each shape is measured ROUNDS times with the servers interleaved, and the figures are the medians.
# One core each is also the fair fight: the C server is single-threaded, and a .NET server pinned to
# one core sizes its thread pool and GC for one core.
#
# Shapes: 100 connections x 16 in flight x 32 B (throughput), 1,000 x 1 x 32 B (many clients),
# 1 x 1 x 32 B (ping-pong), 100 x 1 x 4,096 B (bigger messages: copies and buffers).
# Per shape: each server's median msg/s, CPU seconds per million messages,
# p50 and p99, as ratios to C's; then the generator check (median of C client / iomodels on the C
# server, the issue asks for agreement within 15%). Last, the scale run: 10,000 connections opened
# at once and echoed once, held idle, with each server's memory per idle connection.
# Loopback only; every process it starts it stops by PID. Linux only (epoll, /proc, taskset).
set -euo pipefail
ulimit -n "$(ulimit -Hn)" # 10,000 connections: the servers and the load each need that many descriptors
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
duration=${1:-5s}
rounds=${2:-3}
seconds=${duration%s}

"$here/c-epoll-echo/build.sh" >/dev/null
dotnet build -c Release "$root/src/IoModels.Cli" -v quiet -nologo >/dev/null
iomodels="$root/src/IoModels.Cli/bin/Release/net10.0/iomodels"
# async-inline: the async model with --inline-completions (continuations on the runtime's epoll thread).
servers="c-epoll epoll async async-inline uring"
if [ "$(nproc)" -ge 2 ]; then
    server_cpu="taskset -c 0"
    load_cpu="taskset -c 1"
else
    server_cpu=""
    load_cpu=""
fi

work=$(mktemp -d)
spid=""
stop_server() {
    if [ -n "$spid" ]; then
        kill -TERM "$spid" 2>/dev/null || true
        wait "$spid" 2>/dev/null || true
        spid=""
    fi
}
trap 'stop_server; rm -rf "$work"' EXIT

# start_server NAME: starts it pinned, sets spid and sport.
start_server() {
    local portfile="$work/port"
    rm -f "$portfile"
    if [ "$1" = c-epoll ]; then
        $server_cpu "$here/c-epoll-echo/bin/epoll_echo" 0 >"$work/c.out" &
        spid=$!
        for _ in $(seq 100); do grep -q '^port ' "$work/c.out" 2>/dev/null && break; sleep 0.1; done
        sport=$(awk '/^port /{print $2}' "$work/c.out")
    else
        local model=$1 extra=""
        if [ "$1" = async-inline ]; then model=async; extra=--inline-completions; fi
        $server_cpu "$iomodels" serve --model "$model" $extra --port 0 --port-file "$portfile" --log-level warning \
            --max-connections 20000 >/dev/null 2>&1 &
        spid=$!
        for _ in $(seq 100); do [ -s "$portfile" ] && break; sleep 0.1; done
        sport=$(cat "$portfile")
    fi
}

echo "servers: $servers, pinned to core 0, load on core 1; $duration per run, $rounds rounds; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$($iomodels --version 2>/dev/null || true) $(uname -r)"

shape() {
    local connections=$1 depth=$2 size=$3
    local results="$work/shape.csv"
    : >"$results"
    echo
    echo "== $connections connections x $depth in flight x $size B"
    for round in $(seq "$rounds"); do
        for server in $servers; do
            start_server "$server"
            $load_cpu "$iomodels" bench --target "127.0.0.1:$sport" --label "$server" --target-pid "$spid" \
                --connections "$connections" --depth "$depth" --size "$size" --duration "$duration" --format csv 2>/dev/null |
                awk -F, -v round="$round" 'NR > 1 {print round "," $0}' >>"$results"
            if [ "$server" = c-epoll ]; then
                $load_cpu "$here/c-epoll-echo/bin/echo_load" "$sport" "$connections" "$size" "$depth" "$seconds" 1 |
                    awk -v round="$round" '{print round ",c-client," $6}' >>"$work/client.csv"
            fi
            stop_server
        done
    done
    # columns (after the round): server,connections,size,depth,rate,messages,seconds,msg/s,MB/s,p50,p90,p99,p999,max,errors,mismatches,cpu/M,...
    awk -F, '
        function median(list,   n, a, i, j, t) {
            n = split(list, a, " ")
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
            return a[int((n + 1) / 2)]
        }
        { rate[$2] = rate[$2] " " $9; cpu[$2] = cpu[$2] " " $18; p50[$2] = p50[$2] " " $11; p99[$2] = p99[$2] " " $13
          bad[$2] += $16 + $17; if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 } }
        END {
          cr = median(rate["c-epoll"]); cc = median(cpu["c-epoll"]); c50 = median(p50["c-epoll"]); c99 = median(p99["c-epoll"])
          printf "   %-12s %12s %8s %14s %8s %10s %8s %10s %8s %s\n", "server", "msg/s", "x C", "CPU s/M msg", "x C", "p50 us", "x C", "p99 us", "x C", "errors+mismatches"
          for (i = 1; i <= n; i++) {
            s = order[i]; r = median(rate[s]); c = median(cpu[s]); a = median(p50[s]); b = median(p99[s])
            printf "   %-12s %12.0f %8.2f %14.2f %8.2f %10.0f %8.2f %10.0f %8.2f %d\n", s, r, r / cr, c, c / cc, a, a / c50, b, b / c99, bad[s]
          }
        }' "$results"
    echo "   rounds (msg/s): $(awk -F, '{printf "%s %s %.0f; ", $1, $2, $9}' "$results")"
}

generator_check() {
    local connections=$1 depth=$2
    echo "-- load generator vs the independent C client on the C server, $connections x $depth x 32 B:"
    awk -F, -v c="$connections" -v d="$depth" '
        FNR == NR { client[$1] = $3; next }
        $2 == "c-epoll" && $3 == c && $5 == d { ours[$1] = $9 }
        END {
          n = 0
          for (r in ours) if (r in client) { ratio[++n] = ours[r] / client[r]; printf "   round %s: C client %.0f, iomodels %.0f msg/s: x%.2f\n", r, client[r], ours[r], ours[r] / client[r] }
          for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (ratio[j] < ratio[i]) { t = ratio[i]; ratio[i] = ratio[j]; ratio[j] = t }
          m = ratio[int((n + 1) / 2)]
          printf "   median x%.2f (within 15%%: %s)\n", m, (m >= 0.85 && m <= 1.15) ? "yes" : "NO"
        }' "$work/client.csv" "$work/shape.csv"
    : >"$work/client.csv"
}

: >"$work/client.csv"
shape 100 16 32
generator_check 100 16
shape 1000 1 32
generator_check 1000 1
shape 1 1 32
generator_check 1 1
shape 100 1 4096

echo
echo "== scale: 10,000 connections opened at once, one echo each, held idle 1 s (one round)"
for server in $servers; do
    start_server "$server"
    $load_cpu "$iomodels" bench --target "127.0.0.1:$sport" --label "$server" --target-pid "$spid" \
        --connections 1 --duration 1s --scale 10000 --format csv 2>/dev/null | sed -n '/^scale_server/,$p' |
        { if [ "$server" = c-epoll ]; then cat; else tail -n +2; fi; }
    stop_server
done
