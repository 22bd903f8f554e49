# Reads the output of `cargo test` and prints, per test file (unit tests,
# each integration test, doctests), how many tests passed, were skipped
# (ignored, each with its reason) and failed, then the totals. Used by
# .ci/kqueue.sh and .ci/io_uring.sh.
/^ *(Running|Doc-tests) / {
    name = ($1 == "Doc-tests") ? "doctests" : $2
    sub(/^.*\//, "", name)
}
/^test result:/ {
    for (i = 1; i <= NF; i++) {
        if ($(i + 1) ~ /^passed/) passed = $i
        if ($(i + 1) ~ /^failed/) failed = $i
        if ($(i + 1) ~ /^ignored/) ignored = $i
    }
    if (passed + failed + ignored > 0)
        printf "%-34s %5d passed %3d skipped %3d failed\n", name, passed, ignored, failed
    tp += passed; tf += failed; ti += ignored
}
END { printf "%-34s %5d passed %3d skipped %3d failed\n", "total", tp, ti, tf }
