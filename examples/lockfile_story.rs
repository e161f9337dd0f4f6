//! The seed story with an init lockfile: `cargo run --example lockfile_story`.
//!
//! The half day of debugging in the story came from nothing saying which
//! parameters' initial values had changed, and why. Here version 1 of the
//! attention block is locked; the check against version 2 names exactly the two
//! additions, and the check against version 3 names exactly the one version bump.

use reproducible_examples::lock_story::run;
use reproducible_examples::story::AttentionConfig;

fn main() -> reproducible::Result<()> {
    let cfg = AttentionConfig::story();
    let seed = 42;
    // A fresh private directory for the lockfiles, removed at the end.
    let dir = tempfile::tempdir().map_err(|e| reproducible::Error::Lockfile {
        file: std::env::temp_dir().display().to_string(),
        line: None,
        reason: format!("creating a temporary directory: {e}"),
    })?;
    let story = run(seed, &cfg, dir.path())?;
    let indent = |text: &str| {
        text.lines()
            .map(|l| {
                if l.is_empty() {
                    "\n".to_owned()
                } else {
                    format!("    {l}\n")
                }
            })
            .collect::<String>()
    };

    println!("Attention(dim={}, heads={}), seed {seed}\n", cfg.dim, cfg.num_heads);
    println!("1. Lock version 1 (what `REPRODUCIBLE_LOCK=overwrite cargo test` writes):\n");
    print!("{}", indent(&story.locked_v1));
    println!("\n2. Version 2 adds `gamma` and an unused `extra: Linear`. lock::check fails with:\n");
    print!("{}", indent(&story.v2.to_string()));
    println!("\n   The change is intended: accept it (REPRODUCIBLE_LOCK=overwrite) and commit the lockfile.");
    println!("\n3. Version 3 bumps `gamma`'s version to re-roll it. lock::check fails with:\n");
    print!("{}", indent(&story.v3.to_string()));
    println!(
        "\nNo parameter the versions share changed its values: keyed streams, and the lockfile says so in one line."
    );
    Ok(())
}
