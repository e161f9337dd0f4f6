//! The checkpoint reader on arbitrary bytes, as `repro` reads a stream: the
//! safetensors header, the `reproducible` metadata and its checks against the
//! tensors, and the hashing of the data. It returns `Ok` or `Err`, never
//! panics; whatever it accepts gives a manifest whose lockfile parses back.

#![no_main]

use libfuzzer_sys::fuzz_target;
use reproducible::checkpoint::is_safetensors;
use reproducible::lock;
use reproducible::manifest::StoredCheckpoint;

fuzz_target!(|data: &[u8]| {
    let _ = is_safetensors(data);
    if let Ok(manifest) = StoredCheckpoint::read_manifest(&mut &data[..], "fuzz.safetensors", &mut |_, _| {}) {
        let rendered = lock::render(&manifest);
        lock::parse(&rendered, "rendered.lock").expect("a rendered lockfile parses");
    }
});
