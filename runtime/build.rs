//! At opt-level 0 (Cargo's default for a user's `cargo test` and `cargo run`),
//! the kernels' lockstep helpers must not be force-inlined: LLVM then keeps
//! every temporary of the inlined code in its own stack slot, and one kernel
//! frame reaches megabytes, more than a test thread's 2 MiB stack. Optimised
//! builds inline them, which the speed of every path relies on.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(opt_level_zero)");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("OPT_LEVEL").as_deref() == Ok("0") {
        println!("cargo::rustc-cfg=opt_level_zero");
    }
}
