//! The orchestrator's retry policy for transient stage failures: exponential backoff with
//! deterministic jitter.
//!
//! The durable SDK re-evaluates a retry strategy against the recorded error on every replay, so
//! the decision must be a pure function of the error type, the attempt number and the record;
//! the jitter is therefore derived from a seed (the message id and stage) rather than drawn at
//! random. Different messages still spread out; the same message always waits the same.

use std::time::Duration;

use crate::error_type::is_transient_error_type;

/// Exponential backoff with "equal jitter": before attempt `n + 1` the delay is half of
/// `min(base · 2^(n-1), max)` plus a seeded share of the other half, in whole seconds (the
/// durable service's timer resolution), at least one second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, the first included.
    pub max_attempts: u32,
    /// Backoff before the second attempt (before jitter).
    pub base_delay: Duration,
    /// Cap on the backoff (before jitter).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, 2 s base, 30 s cap: at most ~14 s of waiting per stage, well inside the
    /// 15-minute execution limit.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Decides whether to retry after `attempt` (1-based) failed with `error_type` (`None` when
    /// the failure carried no type): `Some(delay)` to retry, `None` to stop. Only transient
    /// types ([`is_transient_error_type`]) are retried.
    #[must_use]
    pub fn decide(&self, error_type: Option<&str>, attempt: u32, seed: &str) -> Option<Duration> {
        let transient = error_type.is_some_and(is_transient_error_type);
        if !transient || attempt >= self.max_attempts {
            return None;
        }
        Some(self.delay(attempt, seed))
    }

    /// The delay before attempt `attempt + 1`.
    #[must_use]
    pub fn delay(&self, attempt: u32, seed: &str) -> Duration {
        let exponent = attempt.saturating_sub(1).min(32);
        let backoff = self
            .base_delay
            .as_secs()
            .saturating_mul(1_u64 << exponent)
            .min(self.max_delay.as_secs());
        let half = backoff / 2;
        let spread = backoff - half;
        let jitter = if spread == 0 {
            0
        } else {
            fnv1a(seed, attempt) % (spread + 1)
        };
        Duration::from_secs(half.saturating_add(jitter).max(1))
    }
}

/// FNV-1a over the seed and the attempt: stable across processes, platforms and Rust versions.
fn fnv1a(seed: &str, attempt: u32) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    seed.bytes()
        .chain(attempt.to_le_bytes())
        .fold(OFFSET, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(PRIME)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permanent_and_untyped_failures_are_not_retried() {
        let p = RetryPolicy::default();
        for t in [
            Some("ValidationError"),
            Some("StorageError"),
            Some("Unknown"),
            None,
        ] {
            assert_eq!(p.decide(t, 1, "m"), None, "{t:?}");
        }
    }

    #[test]
    fn transient_failures_are_retried_until_max_attempts() {
        let p = RetryPolicy::default();
        for t in [
            "StorageThrottled",
            "StorageUnavailable",
            "Sandbox.Timedout",
            "TooManyRequestsException",
        ] {
            for attempt in 1..p.max_attempts {
                assert!(p.decide(Some(t), attempt, "m").is_some(), "{t} {attempt}");
            }
            assert_eq!(p.decide(Some(t), p.max_attempts, "m"), None);
        }
    }

    #[test]
    fn delays_grow_exponentially_within_jitter_bounds() {
        let p = RetryPolicy::default();
        for seed in [
            "a",
            "b",
            "message-1",
            "059f36b4-87a3-44ab-83d2-661975830a7d",
        ] {
            for attempt in 1..=10 {
                let backoff = (2_u64 << (attempt - 1).min(20)).min(30);
                let d = p.delay(attempt, seed).as_secs();
                assert!(
                    d >= (backoff / 2).max(1) && d <= backoff,
                    "{seed} {attempt} {d}"
                );
            }
        }
    }

    #[test]
    fn jitter_is_deterministic_and_spreads_seeds() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(3, "m-1"), p.delay(3, "m-1"));
        let distinct: std::collections::BTreeSet<_> =
            (0..50).map(|i| p.delay(4, &format!("m-{i}"))).collect();
        assert!(distinct.len() > 3, "{distinct:?}");
    }

    #[test]
    fn never_overflows() {
        let p = RetryPolicy {
            max_attempts: u32::MAX,
            base_delay: Duration::from_secs(u64::MAX),
            max_delay: Duration::from_secs(u64::MAX),
        };
        assert!(p.delay(u32::MAX, "x") >= Duration::from_secs(1));
    }
}
