//! The lockfile parser on arbitrary input: it returns `Ok` or `Err`, never
//! panics, and whatever it accepts renders to a lockfile it parses back to the
//! same text (render is a fixed point).

#![no_main]

use libfuzzer_sys::fuzz_target;
use reproducible::lock;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(manifest) = lock::parse(text, "fuzz.lock") {
        let rendered = lock::render(&manifest);
        let back = lock::parse(&rendered, "rendered.lock").expect("a rendered lockfile parses");
        assert_eq!(lock::render(&back), rendered, "render is a fixed point");
    }
});
