#!/usr/bin/env bash
# Runs the reliability suite (tests/IoModels.Tests/Reliability) once and prints the README's
# "Reliability" table from the figures the tests measured. Every row comes from this run; a failed
# test fails the script. Knobs (environment): IOMODELS_FAULT_SECONDS (traffic per engine case,
# default 10 here, 5 in plain dotnet test), IOMODELS_FAULT_SEED (replay a run), IOMODELS_FAULT_CLIENTS, IOMODELS_MEMORY_CLIENTS.
# It runs the whole descriptor-limit matrix (every engine case at limits 64 to 1,024, a few minutes);
# plain `dotnet test` runs every engine case at 128 and the default model at 64 only. IOMODELS_DESCRIPTOR_MATRIX=base runs only that.
set -euo pipefail
cd "$(dirname "$0")/../.."

# The memory test holds 1,000 client sockets in the test process (and the server its 1,000 ends).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

report=$(mktemp)
trap 'rm -f "$report"' EXIT
IOMODELS_FAULT_SECONDS="${IOMODELS_FAULT_SECONDS:-10}" IOMODELS_DESCRIPTOR_MATRIX="${IOMODELS_DESCRIPTOR_MATRIX:-all}" IOMODELS_RELIABILITY_REPORT="$report" dotnet test IoModels.sln --filter "FullyQualifiedName~Reliability" >&2

awk -F'\t' '
  $1 == "fault"  { order[++n] = $2; clients[$2] = $3; sessions[$2] = $4; faults[$2] = $5; verified[$2] = $6; lost[$2] = $7; leaks[$2] = $8; seed = $9 }
  $1 == "memory" { peak[$2] = sprintf("%.1f MiB (+%.1f MiB, %.0f KiB per client)", $5 / 1048576, $6 / 1048576, $6 / $3 / 1024) }
  END {
    print "| engine | clients | sessions | faults injected | bytes verified | bytes lost | leaks found | peak RSS, 1,000 slow readers |"
    print "|---|---:|---:|---:|---:|---:|---:|---|"
    for (i = 1; i <= n; i++) {
      e = order[i]
      printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", e, clients[e], sessions[e], faults[e], verified[e], lost[e], leaks[e], (e in peak ? peak[e] : "(same engine as its model)")
    }
    printf "\nseed %s (IOMODELS_FAULT_SEED=%s replays the client plans)\n", seed, seed
  }' "$report"
