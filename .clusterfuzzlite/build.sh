#!/bin/bash -eu
# Builds every cargo-fuzz target of mailtls for ClusterFuzzLite/OSS-Fuzz (libFuzzer,
# AddressSanitizer; the builder image sets the sanitizer flags) and installs into $OUT:
#   <target>                  the fuzzer binary
#   <target>_seed_corpus.zip  the checked-in seeds of corpus/<target>/
#   <target>.options          the -max_len scripts/test uses
cd "$SRC/mailtls"
cargo fuzz build -O --debug-assertions

release=fuzz/target/x86_64-unknown-linux-gnu/release
for target in $(cargo fuzz list); do
    cp "$release/$target" "$OUT/"
    if [ -d "corpus/$target" ]; then
        (cd "corpus/$target" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
    fi
    case "$target" in
        plain) max_len=1024 ;;
        identity) max_len=512 ;;
        *) max_len=4096 ;;
    esac
    printf '[libfuzzer]\nmax_len = %s\n' "$max_len" >"$OUT/$target.options"
done
