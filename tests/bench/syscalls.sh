#!/usr/bin/env bash
# System calls per echoed message of one engine under one load shape, counted in the kernel (perf's
# syscall tracepoints), not by a tracer: strace stops the server at every call, which slows it enough
# that data is usually waiting when it asks and hides the cost of the quiet case.
#
#   tests/bench/syscalls.sh MODEL CONNECTIONS DEPTH SIZE [serve flags...]
#   tests/bench/syscalls.sh async 1000 1 32
#   tests/bench/syscalls.sh async 100 16 32 --inline-completions
#
# The server runs on core 0 and the load on core 1 (as in compare.sh); after a 2 s warm-up, a 4 s
# load is counted from start to end. Prints msg/s and CPU per million messages (from bench), then each counted
# call per message and per send. Needs perf and permission to read tracepoints (root, or
# kernel.perf_event_paranoid <= -1). Loopback only; stops the server it started, by PID.
set -euo pipefail
if [ $# -lt 4 ]; then
    sed -n '6,8p' "$0" >&2
    exit 2
fi
model=$1 connections=$2 depth=$3 size=$4
shift 4
command -v perf >/dev/null || { echo "syscalls.sh: needs perf (Debian: apt-get install linux-perf)" >&2; exit 3; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dotnet build -c Release "$root/src/IoModels.Cli" -v quiet -nologo >/dev/null
iomodels="$root/src/IoModels.Cli/bin/Release/net10.0/iomodels"
if [ "$(nproc)" -ge 2 ]; then server_cpu="taskset -c 0"; load_cpu="taskset -c 1"; else server_cpu=""; load_cpu=""; fi

work=$(mktemp -d)
spid=""
trap 'if [ -n "$spid" ]; then kill -TERM "$spid" 2>/dev/null || true; fi; wait 2>/dev/null || true; rm -rf "$work"' EXIT
$server_cpu "$iomodels" serve --model "$model" "$@" --port 0 --port-file "$work/port" --log-level warning --max-connections 20000 >/dev/null 2>&1 &
spid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "syscalls.sh: the server did not start" >&2; exit 1; }
target="127.0.0.1:$(cat "$work/port")"
load() { $load_cpu "$iomodels" bench --target "$target" --target-pid "$spid" --connections "$connections" --depth "$depth" --size "$size" --duration "$1" --warmup "$2" --format csv 2>>"$work/bench.err"; }
load 2s 1s >/dev/null || { echo "syscalls.sh: the warm-up load failed:" >&2; cat "$work/bench.err" >&2; exit 1; }
# The calls the engines make, as far as this kernel has a tracepoint for each (arm64 has no epoll_wait, select or poll).
tracing=/sys/kernel/tracing/events/syscalls
[ -d "$tracing" ] || tracing=/sys/kernel/debug/tracing/events/syscalls
events=""
for call in recvfrom sendto recvmsg sendmsg read write accept4 epoll_wait epoll_pwait epoll_ctl select pselect6 poll ppoll io_uring_enter futex sched_yield; do
    if [ -d "$tracing/sys_enter_$call" ]; then events="$events${events:+,}syscalls:sys_enter_$call"; fi
done
[ -n "$events" ] || { echo "syscalls.sh: no syscall tracepoints under $tracing (is tracefs mounted? as root: mount -t tracefs nodev /sys/kernel/tracing)" >&2; exit 3; }
# Counts the server's calls for as long as the measured load runs (its connects and closes included).
perf stat -x, -e "$events" -p "$spid" -o "$work/perf.txt" -- bash -c "$(declare -f load); work='$work' load_cpu='$load_cpu' iomodels='$iomodels' target='$target' spid='$spid' connections='$connections' depth='$depth' size='$size' load 4s 0s" >"$work/bench.csv" ||
    { echo "syscalls.sh: the measured load failed:" >&2; cat "$work/bench.err" >&2; exit 1; }
[ -s "$work/bench.csv" ] || { echo "syscalls.sh: bench wrote no figures:" >&2; cat "$work/bench.err" >&2; exit 1; }
# bench's csv: column 6 messages echoed, 8 msg/s, 17 CPU s per million messages of the target process
read -r messages rate cpu < <(awk -F, 'NR == 2 {print $6, $8, $17}' "$work/bench.csv")
echo "$model $* | $connections connections x $depth in flight x $size B: $rate msg/s, $cpu CPU s per million messages"
awk -F, -v messages="$messages" '
    /syscalls:sys_enter_/ { split($3, name, "sys_enter_"); count[name[2]] = $1; order[++n] = name[2] }
    END {
        sends = count["sendto"]
        for (i = 1; i <= n; i++) {
            c = order[i]
            if (count[c] == 0) continue
            if (sends > 0) printf "   %-15s %10d  %6.3f per message  %6.3f per sendto\n", c, count[c], count[c] / messages, count[c] / sends
            else printf "   %-15s %10d  %6.3f per message\n", c, count[c], count[c] / messages
        }
    }' "$work/perf.txt"
echo "   ($messages messages echoed while counting; uring sends without sendto; read/write are mostly the runtime's own; sched_yield is its thread pool spinning for work)"
