//! Injected time: [`SystemClock`] for real use, [`ManualClock`] for tests that advance time
//! instead of sleeping, [`crate::SkippingClock`] for suites that skip idle time.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A source of time.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// Now, epoch milliseconds.
    fn now_ms(&self) -> i64;
    /// Resolves once `now_ms() >= deadline_ms` (it may resolve late, never early).
    fn sleep_until(&self, deadline_ms: i64) -> BoxFuture<()>;
    /// Marks work in progress until the returned guard is dropped. Clocks that skip idle time
    /// ([`crate::SkippingClock`]) never skip while work is in progress; the others ignore it.
    fn busy(&self) -> Busy {
        Busy::none()
    }
}

/// Work in progress (see [`Clock::busy`]); dropping it ends the work.
pub struct Busy(Option<Box<dyn Send + Sync>>);

impl Busy {
    /// A guard that marks nothing.
    pub fn none() -> Self {
        Self(None)
    }

    /// A guard that ends the work when `inner` is dropped.
    pub fn new(inner: impl Send + Sync + 'static) -> Self {
        Self(Some(Box::new(inner)))
    }
}

impl std::fmt::Debug for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Busy").field(&self.0.is_some()).finish()
    }
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }

    fn sleep_until(&self, deadline_ms: i64) -> BoxFuture<()> {
        let wait = deadline_ms.saturating_sub(self.now_ms()).max(0);
        Box::pin(tokio::time::sleep(Duration::from_millis(wait as u64)))
    }
}

/// A clock that moves only when told to.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<tokio::sync::watch::Sender<i64>>,
}

impl ManualClock {
    /// A clock reading `start_ms`.
    pub fn new(start_ms: i64) -> Self {
        Self {
            now: Arc::new(tokio::sync::watch::Sender::new(start_ms)),
        }
    }

    /// Moves time forward, waking sleepers whose deadline passed.
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.now.send_modify(|t| *t = t.saturating_add(by));
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        *self.now.borrow()
    }

    fn sleep_until(&self, deadline_ms: i64) -> BoxFuture<()> {
        let mut rx = self.now.subscribe();
        Box::pin(async move {
            // An error means the clock was dropped: nothing will ever advance it, so never wake.
            if rx.wait_for(|t| *t >= deadline_ms).await.is_err() {
                std::future::pending::<()>().await;
            }
        })
    }
}

// ---------------------------------------------------------------------------------------------
// ScaledClock: durable time that runs N times faster than the wall clock.
// ---------------------------------------------------------------------------------------------

/// The smallest and largest time scale [`ScaledClock::new`] accepts.
pub const TIME_SCALE_RANGE: std::ops::RangeInclusive<f64> = 1.0..=1_000_000.0;

/// A clock that starts at the wall clock's time and then runs `scale` times faster: a one-hour
/// durable wait takes 3.6 s of real time at scale 1000. Waits, retry delays, callback and
/// execution timeouts all follow it (they are deadlines on this clock); timestamps it produces
/// run ahead of the wall clock accordingly.
#[derive(Debug, Clone)]
pub struct ScaledClock {
    scale: f64,
    origin_ms: i64,
    origin: std::time::Instant,
}

impl ScaledClock {
    /// A clock `scale` times faster than the wall clock, or `None` if `scale` is not a finite
    /// number in [`TIME_SCALE_RANGE`].
    pub fn new(scale: f64) -> Option<Self> {
        if !scale.is_finite() || !TIME_SCALE_RANGE.contains(&scale) {
            return None;
        }
        Some(Self {
            scale,
            origin_ms: SystemClock.now_ms(),
            origin: std::time::Instant::now(),
        })
    }

    /// How many times faster than the wall clock it runs.
    pub fn scale(&self) -> f64 {
        self.scale
    }
}

impl Clock for ScaledClock {
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    fn now_ms(&self) -> i64 {
        let elapsed = self.origin.elapsed().as_secs_f64() * 1000.0 * self.scale;
        self.origin_ms.saturating_add(elapsed as i64)
    }

    #[allow(clippy::cast_precision_loss)]
    fn sleep_until(&self, deadline_ms: i64) -> BoxFuture<()> {
        let this = self.clone();
        Box::pin(async move {
            // Sleep the scaled remainder, then re-check: never resolve before the deadline.
            loop {
                let left = deadline_ms.saturating_sub(this.now_ms());
                if left <= 0 {
                    return;
                }
                let real = Duration::from_secs_f64((left as f64 / this.scale / 1000.0).max(0.001));
                tokio::time::sleep(real).await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_clock_wakes_sleepers_on_advance() {
        let clock = ManualClock::new(1_000);
        let sleeper = tokio::spawn(clock.sleep_until(3_000));
        clock.advance(Duration::from_secs(1));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.advance(Duration::from_secs(1));
        sleeper.await.unwrap();
        assert_eq!(clock.now_ms(), 3_000);
    }

    #[tokio::test]
    async fn scaled_clock_runs_faster_and_never_wakes_early() {
        assert!(ScaledClock::new(0.5).is_none());
        assert!(ScaledClock::new(f64::NAN).is_none());
        let clock = ScaledClock::new(1000.0).unwrap();
        let start = clock.now_ms();
        let real = std::time::Instant::now();
        // Sixty durable seconds take about 60 ms of real time.
        clock.sleep_until(start + 60_000).await;
        assert!(clock.now_ms() >= start + 60_000);
        let took = real.elapsed();
        assert!(took >= Duration::from_millis(59), "{took:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");
    }
}
