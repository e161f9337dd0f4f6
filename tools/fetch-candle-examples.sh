#!/usr/bin/env bash
# Fetches candle-examples 0.11.1 from crates.io, checked against the registry
# index's SHA-256, and unpacks the one file the tensor-parallel test compiles:
# `examples/llama_multiprocess/model.rs`, candle's own tensor-parallel Llama
# loader, used unchanged but for its `ShardedVarBuilder` import. It is not
# committed here: it is candle's code, fetched as any dependency is.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=target/candle-examples
file="$dir/candle-examples-0.11.1/examples/llama_multiprocess/model.rs"
[ -f "$file" ] && exit 0
sha256=770f56f5278983b99d6e5ad6354dc9b1834a9406fc2bc4755a6a69081ac8c165
mkdir -p "$dir"
tmp="$(mktemp "$dir/download.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
for attempt in 1 2 3 4 5; do
    curl -sSfL --retry 5 -o "$tmp" \
        https://static.crates.io/crates/candle-examples/candle-examples-0.11.1.crate && break
    echo "downloading candle-examples failed (attempt $attempt of 5)" >&2
    [ "$attempt" -lt 5 ] && sleep $((attempt * 10))
done
echo "$sha256  $tmp" | sha256sum --check --quiet
tar -xzf "$tmp" -C "$dir" candle-examples-0.11.1/examples/llama_multiprocess/model.rs
echo "fetched $file"
