//! Chaos: while messages stream in through the SQS endpoint, `durapipe up` is killed (SIGKILL) at
//! random moments K times — or stopped with SIGTERM mid-load — and restarted on the same data
//! directory; afterwards every acknowledged valid message is in the table exactly once, every
//! acknowledged invalid one is in the DLQ with its validation reason, the queue is empty and no
//! execution is RUNNING (checked only through the endpoints).
//!
//! Longer run: `DURAPIPE_CHAOS_N=100000 DURAPIPE_CHAOS_K=50 cargo test --profile local -p durapipe
//! --test chaos sigkill -- --nocapture` (see docs/reliability.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod chaos_harness;

use chaos_harness::{ChaosConfig, Stop};

/// The two runs share two cores: one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn run_and_check(config: ChaosConfig) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let outcome = chaos_harness::run(&config).await.unwrap();
    println!("{}", chaos_harness::summary(&config, &outcome));
    let v = &outcome.verdict;
    assert!(
        v.violations.is_empty(),
        "{} invariant violations (seed {}), first ones:\n{}",
        v.violations.len(),
        config.seed,
        v.violations
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(
        v.acked_valid + v.acked_invalid,
        config.n,
        "every message was acknowledged once"
    );
    assert!(
        v.acked_invalid > 0 && v.acked_valid > 0,
        "the load mixes valid and invalid bodies"
    );
    assert_eq!(outcome.acked_at_stop.len(), config.stops);
    assert!(
        outcome
            .acked_at_stop
            .first()
            .is_some_and(|&a| 0 < a && a < config.n),
        "the first stop did not come mid-load: {:?}",
        outcome.acked_at_stop
    );
    assert!(
        outcome.final_exit_ok,
        "the last stack did not exit 0 on SIGTERM"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_loses_and_duplicates_nothing() {
    let config = ChaosConfig::from_env(Stop::Kill, 2_000, 5);
    run_and_check(config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_load_then_restart_keeps_the_invariant() {
    let mut config = ChaosConfig::from_env(Stop::Term, 300, 1);
    config.n = 300;
    config.stops = 1;
    // Sends span ~15 s; the SIGTERM comes 4-12 s after the start.
    config.rate = 20.0;
    run_and_check(config).await;
}
