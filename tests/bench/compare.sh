#!/usr/bin/env bash
# Measures the engines against a plain C epoll echo server (the yardstick) in one run per load shape,
# and checks the load generator against an independent C load client on the same server.
#
#   tests/bench/compare.sh [DURATION]        DURATION per run, default 5s
#
# Shapes: 100 connections x 16 in flight x 32 B (throughput), 1,000 x 1 x 32 B (many clients).
# Prints the CSV rows and, per shape, each engine's msg/s and CPU per message as a ratio to C's.
# Loopback only; every process it starts it stops by PID. Linux only (epoll, /proc).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
duration=${1:-5s}
seconds=${duration%s}

"$here/c-epoll-echo/build.sh" >/dev/null
dotnet build -c Release "$root/src/IoModels.Cli" -v quiet -nologo >/dev/null
iomodels="$root/src/IoModels.Cli/bin/Release/net10.0/iomodels"

# epoll is written in parallel with this script; until it is in the registry, compare async only.
models=async
if "$iomodels" models | grep -Eq '^epoll +.*available'; then
    models=epoll,async
fi

portfile=$(mktemp)
"$here/c-epoll-echo/bin/epoll_echo" 0 >"$portfile" &
cpid=$!
trap 'kill -TERM $cpid 2>/dev/null || true; wait $cpid 2>/dev/null || true; rm -f "$portfile"' EXIT
for _ in $(seq 50); do grep -q '^port ' "$portfile" && break; sleep 0.1; done
port=$(awk '/^port /{print $2}' "$portfile")
echo "C epoll echo server: pid $cpid, 127.0.0.1:$port; models: $models; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

run_shape() {
    local connections=$1 depth=$2 size=$3
    echo
    echo "== $connections connections x $depth in flight x $size B, $duration per run"
    echo "-- independent C load client against the C server (msg/s, for comparison with iomodels' generator):"
    "$here/c-epoll-echo/bin/echo_load" "$port" "$connections" "$size" "$depth" "$seconds" 1
    local csv
    csv=$("$iomodels" bench --model "$models" --target "127.0.0.1:$port" --label c-epoll --target-pid "$cpid" \
        --connections "$connections" --depth "$depth" --size "$size" --duration "$duration" --format csv 2>/dev/null)
    echo "$csv"
    echo "-- ratio to c-epoll (msg/s: higher is better; CPU per message: lower is better):"
    echo "$csv" | awk -F, '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        { name[NR] = $1; rate[NR] = $col["messages_per_second"]; cpu[NR] = $col["cpu_seconds_per_million"]; p99[NR] = $col["p99_us"]
          if ($1 == "c-epoll") { crate = rate[NR]; ccpu = cpu[NR] } }
        END { for (r in name) printf "   %-8s %10.0f msg/s  x%.2f of C   CPU %6.2f s/M msg  x%.2f of C   p99 %8.0f us\n",
              name[r], rate[r], rate[r] / crate, cpu[r], (ccpu > 0 ? cpu[r] / ccpu : 0), p99[r] }'
}

run_shape 100 16 32
run_shape 1000 1 32
