//! Compile-time behaviour of the macros: accepted forms build, each mistake is a
//! clear error pinned in a `.stderr` file (regenerate with `TRYBUILD=overwrite`
//! and review the diff).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    for area in ["model", "field", "param", "module", "tie", "unused"] {
        t.compile_fail(format!("ui/{area}/*.rs"));
    }
}
