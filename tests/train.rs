//! The training example's claim, on a shorter run: bit-identical loss curves.

use reproducible_examples::train::{run, TrainConfig};

#[test]
fn two_runs_and_an_unused_parameter_give_the_same_loss_curve() {
    let cfg = TrainConfig {
        steps: 60,
        examples: 256,
        ..TrainConfig::default()
    };
    let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
    let a = bits(run(&cfg, false).unwrap());
    assert_eq!(a.len(), 60);
    assert_eq!(a, bits(run(&cfg, false).unwrap()));
    assert_eq!(a, bits(run(&cfg, true).unwrap()));
    // The loss goes down: the run trains something.
    assert!(f32::from_bits(a[59]) < 0.5 * f32::from_bits(a[0]));
    // Another seed is another run.
    assert_ne!(a, bits(run(&TrainConfig { seed: 7, ..cfg }, false).unwrap()));
}
