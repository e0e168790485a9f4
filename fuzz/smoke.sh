#!/usr/bin/env bash
# Smoke run of every fuzz target: builds them (nightly, cargo-fuzz), then runs each for
# FUZZ_SECONDS (default 60) from the committed seeds plus a scratch corpus, one at a time,
# with the dictionary. Fails on the first crash, leak, timeout or out-of-memory, leaving
# the input in fuzz/artifacts/<target>/. Prints each target's final libFuzzer numbers and a
# closing "fuzz: N passed, M failed" line.
#
#   fuzz/smoke.sh                       # every target, 60 s each
#   FUZZ_SECONDS=600 fuzz/smoke.sh utf8 # one target, 10 minutes
set -uo pipefail

cd "$(dirname "$0")"
SECS="${FUZZ_SECONDS:-60}"
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz: cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
    exit 1
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

echo "fuzz: building the targets"
if ! cargo +nightly fuzz build; then
    echo "fuzz: 0 passed, ${#targets[@]} failed"
    exit 1
fi

passed=0
failed=0
summary=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    log="$(mktemp)"
    seeds=()
    [ -d "seeds/$t" ] && seeds=("seeds/$t")
    echo "fuzz: $t for ${SECS}s"
    # -rss_limit_mb and -timeout turn memory exhaustion and hangs into findings.
    if cargo +nightly fuzz run "$t" "corpus/$t" "${seeds[@]}" -- \
        -max_total_time="$SECS" -dict=websocket.dict -max_len=8192 \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
        passed=$((passed + 1))
        status=ok
    else
        failed=$((failed + 1))
        status=FAILED
        tail -n 60 "$log"
    fi
    # The last status line: "#N DONE cov: C ft: F corp: ... exec/s: E ...".
    line="$(grep -E '^#[0-9]+' "$log" | tail -n 1)"
    execs="$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$line")"
    cov="$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$line")"
    ft="$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$line")"
    eps="$(sed -nE 's/.* exec\/s: ([0-9]+).*/\1/p' <<<"$line")"
    summary+=("$(printf '%-20s %-7s execs %-10s exec/s %-7s cov %-6s ft %s' "$t" "$status" "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}")")
    rm -f "$log"
done

printf '%s\n' "${summary[@]}"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
