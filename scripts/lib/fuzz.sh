# Shared by scripts/test and scripts/bench-fuzz (sourced, not run). Expects the caller's
# working directory to be the repository root.

# cargo-fuzz passes `-Zsanitizer=address` (and, on a nightly-looking compiler,
# `-Zunstable-options`); RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them, so no
# nightly toolchain is needed. With `-s none` no -Z flag is passed, and it is harmless.
export RUSTC_BOOTSTRAP=1

# Cargo caches rustc's answer to its target-info probe in <target-dir>/.rustc_info.json,
# keyed on the flags but not on inherited variables such as RUSTC_BOOTSTRAP. One
# `cargo fuzz build` run without RUSTC_BOOTSTRAP=1 caches "the option `Z` is only accepted
# on the nightly compiler", and every later build fails with it even when the variable is
# set. Drop such a poisoned cache.
fuzz_unpoison() {
    local dir=${1:-fuzz/target}
    if grep -qs 'only accepted on the nightly compiler' "$dir/.rustc_info.json"; then
        rm -f "$dir/.rustc_info.json"
    fi
}

# The targets, as fuzz/Cargo.toml declares them.
fuzz_targets() {
    cargo fuzz list
}

# -max_len per target: room above the largest meaningful input, so the fuzzer does not
# waste time on megabyte inputs (libFuzzer's guess is 4096 or the largest seed).
fuzz_max_len() {
    case $1 in
        plain) echo 1024 ;;       # three 255-octet fields and two NULs is 767
        identity) echo 512 ;;     # a reference and a few presented names
        *) echo 4096 ;;           # protocol transcripts: several lines and a literal
    esac
}

# Seed directories for a target: corpus/<target>/ if it exists (checked in, read-only here).
fuzz_seed_dirs() {
    if [[ -d corpus/$1 ]]; then
        echo "corpus/$1"
    fi
}

# "key value" pairs from libFuzzer's -print_final_stats=1 lines in a log:
#   stat::number_of_executed_units: 556081
#   stat::average_exec_per_sec:     92680
fuzz_stat() {
    local log=$1 key=$2
    sed -n "s/^stat::$key: *\([0-9]*\).*/\1/p" "$log" | tail -n 1
}
