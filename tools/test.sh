#!/usr/bin/env bash
# Every test, as CI runs them: the workspace's, then those of a user's crate
# (tests/downstream: its own workspace, Cargo's default profiles, so a debug
# build at opt-level 0), once as is and once with REPRODUCIBLE_KERNEL set to
# each kernel path this machine supports, then the Python package's
# (tools/test-python.sh) and the candle recipes held to transformers' own init
# (tools/check_recipes.py); REPRODUCIBLE_SKIP_PYTHON=1 leaves both out.
set -euo pipefail
cd "$(dirname "$0")/.."

# candle-examples' tensor-parallel loader, which a test compiles unchanged.
tools/fetch-candle-examples.sh
cargo test --workspace

(
    cd tests/downstream
    # A user's `cargo test`, exactly: whatever the caller set to keep its own builds
    # lean (.ci/run does), the user's crate gets Cargo's defaults.
    unset CARGO_INCREMENTAL CARGO_PROFILE_DEV_DEBUG
    cargo test
    paths="$(cargo run -q --example supported_paths)"
    for path in $paths; do
        echo "== tests/downstream with REPRODUCIBLE_KERNEL=$path"
        REPRODUCIBLE_KERNEL="$path" cargo test -q
    done
    cargo run -q --example vit_base_init
)

if [ "${REPRODUCIBLE_SKIP_PYTHON:-}" != 1 ]; then
    echo "== the Python package (tools/test-python.sh)"
    tools/test-python.sh
    echo "== the candle recipes against transformers' own init (tools/check_recipes.py)"
    cargo run -q -p reproducible-compat-tests --example recipe_laws > target/recipe_laws.json
    HF_HUB_OFFLINE=1 "${REPRODUCIBLE_VENV:-$PWD/target/python-venv}/bin/python" tools/check_recipes.py target/recipe_laws.json
fi
