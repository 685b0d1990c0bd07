//! [`SkippingClock`]: virtual time for test suites. It runs at wall-clock speed and, whenever
//! nothing is in progress, jumps straight to the earliest pending sleep: waits, retry delays and
//! timeouts cost no wall time, and they still fire in the order real time would fire them.
//!
//! "Nothing in progress" means, for a short settle period ([`SETTLE`]):
//! - no [`Busy`] guard is held (the service holds one while it applies a command, runs an
//!   invocation or a chained invoke, or hands a timer change to its timer loop);
//! - no sleep that came due is still alive (its owner has not finished acting on it: drop the
//!   sleep only after taking a [`Busy`] guard for what it triggers);
//! - every [`Watcher`] has looked at the world since the last work began (a harness that reacts
//!   to what it observes, e.g. sends a callback when one starts, registers as one).

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::clock::{BoxFuture, Busy, Clock, SystemClock};

/// How often the clock looks for idleness and for sleeps that came due by wall time.
const TICK: Duration = Duration::from_millis(2);
/// How long idleness must last before a jump.
pub const SETTLE: Duration = Duration::from_millis(4);

/// A clock that skips idle time (see the module docs). Cheap to clone; create it inside a tokio
/// runtime (it spawns its driver, which ends when the last clone is dropped).
#[derive(Debug, Clone)]
pub struct SkippingClock {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    origin_ms: i64,
    origin: Instant,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    skipped_ms: i64,
    skips: u64,
    busy: usize,
    /// Bumped whenever work begins (a guard is taken, a sleep comes due, a watcher registers).
    epoch: u64,
    next_id: u64,
    /// Sleeps not yet due: (deadline, id) → the waker of their last poll.
    pending: BTreeMap<(i64, u64), Option<Waker>>,
    /// Sleeps that came due and are still alive: id → deadline.
    due: HashMap<u64, i64>,
    /// Watchers: id → the epoch they last looked at (`u64::MAX`: parked).
    watchers: HashMap<u64, u64>,
    /// The epoch and the instant idleness was first seen.
    idle_mark: Option<(u64, Instant)>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn now(&self, st: &State) -> i64 {
        let elapsed = i64::try_from(self.origin.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.origin_ms
            .saturating_add(elapsed)
            .saturating_add(st.skipped_ms)
    }

    /// Moves every pending sleep due at `now` to `due` and wakes it.
    fn wake_due(st: &mut State, now: i64) {
        while let Some((&(deadline, id), _)) = st.pending.first_key_value() {
            if deadline > now {
                break;
            }
            let waker = st.pending.remove(&(deadline, id)).flatten();
            st.due.insert(id, deadline);
            st.epoch += 1;
            if let Some(w) = waker {
                w.wake();
            }
        }
    }

    /// One driver step: wake what is due; after a settled idle period, jump to the next sleep.
    fn step(&self) {
        let mut st = self.lock();
        let now = self.now(&st);
        Self::wake_due(&mut st, now);
        let epoch = st.epoch;
        let idle = st.busy == 0 && st.due.is_empty() && st.watchers.values().all(|&e| e >= epoch);
        if !idle {
            st.idle_mark = None;
            return;
        }
        match st.idle_mark {
            Some((e, at)) if e == epoch && at.elapsed() >= SETTLE => {
                st.idle_mark = None;
                if let Some(&(deadline, _)) = st.pending.keys().next() {
                    if deadline > now {
                        st.skipped_ms += deadline - now;
                        st.skips += 1;
                    }
                    let now = self.now(&st);
                    Self::wake_due(&mut st, now);
                }
            }
            Some((e, _)) if e == epoch => {}
            _ => st.idle_mark = Some((epoch, Instant::now())),
        }
    }
}

async fn drive(shared: Weak<Shared>) {
    loop {
        tokio::time::sleep(TICK).await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        shared.step();
    }
}

impl SkippingClock {
    /// A clock reading the system time now. Must be called inside a tokio runtime.
    pub fn new() -> Self {
        let shared = Arc::new(Shared {
            origin_ms: SystemClock.now_ms(),
            origin: Instant::now(),
            state: Mutex::new(State::default()),
        });
        tokio::spawn(drive(Arc::downgrade(&shared)));
        Self { shared }
    }

    /// Registers a watcher: the clock does not jump until it has looked at the world since the
    /// last work began ([`Watcher::seen`]) or is parked.
    pub fn watcher(&self) -> Watcher {
        let mut st = self.shared.lock();
        let id = st.next_id;
        st.next_id += 1;
        st.epoch += 1;
        let seen = st.epoch - 1;
        st.watchers.insert(id, seen);
        Watcher {
            shared: self.shared.clone(),
            id,
        }
    }

    /// How much time was skipped so far, and in how many jumps.
    pub fn skipped(&self) -> (Duration, u64) {
        let st = self.shared.lock();
        let ms = u64::try_from(st.skipped_ms).unwrap_or(0);
        (Duration::from_millis(ms), st.skips)
    }
}

impl Default for SkippingClock {
    /// [`SkippingClock::new`] (inside a tokio runtime).
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SkippingClock {
    fn now_ms(&self) -> i64 {
        let st = self.shared.lock();
        self.shared.now(&st)
    }

    fn sleep_until(&self, deadline_ms: i64) -> BoxFuture<()> {
        let id = {
            let mut st = self.shared.lock();
            st.next_id += 1;
            st.next_id
        };
        Box::pin(Sleep {
            shared: self.shared.clone(),
            id,
            deadline: deadline_ms,
        })
    }

    fn busy(&self) -> Busy {
        let mut st = self.shared.lock();
        st.busy += 1;
        st.epoch += 1;
        Busy::new(BusyGuard(self.shared.clone()))
    }
}

struct BusyGuard(Arc<Shared>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        st.busy = st.busy.saturating_sub(1);
    }
}

struct Sleep {
    shared: Arc<Shared>,
    id: u64,
    deadline: i64,
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut st = this.shared.lock();
        if st.due.contains_key(&this.id) {
            return Poll::Ready(());
        }
        if this.shared.now(&st) >= this.deadline {
            st.pending.remove(&(this.deadline, this.id));
            st.due.insert(this.id, this.deadline);
            st.epoch += 1;
            return Poll::Ready(());
        }
        st.pending
            .insert((this.deadline, this.id), Some(cx.waker().clone()));
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        let mut st = self.shared.lock();
        st.pending.remove(&(self.deadline, self.id));
        st.due.remove(&self.id);
    }
}

/// An observer the clock waits for before it jumps (see [`SkippingClock::watcher`]).
#[derive(Debug)]
pub struct Watcher {
    shared: Arc<Shared>,
    id: u64,
}

impl Watcher {
    /// The current epoch: read it before looking at the world, pass it to [`Watcher::seen`]
    /// after acting on what was seen.
    pub fn epoch(&self) -> u64 {
        self.shared.lock().epoch
    }

    /// Everything up to `epoch` was looked at.
    pub fn seen(&self, epoch: u64) {
        if let Some(e) = self.shared.lock().watchers.get_mut(&self.id) {
            *e = epoch;
        }
    }

    /// Stops holding the clock back until the next [`Watcher::seen`] (e.g. while the watcher
    /// itself sleeps on the clock).
    pub fn park(&self) {
        self.seen(u64::MAX);
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.shared.lock().watchers.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn idle_time_is_skipped_in_deadline_order() {
        let clock = SkippingClock::new();
        let start = clock.now_ms();
        let wall = Instant::now();
        let late = tokio::spawn(clock.sleep_until(start + 3_600_000));
        let early = clock.sleep_until(start + 60_000);
        early.await;
        let at_early = clock.now_ms();
        assert!(at_early >= start + 60_000 && at_early < start + 3_600_000);
        late.await.unwrap();
        assert!(clock.now_ms() >= start + 3_600_000);
        assert!(wall.elapsed() < Duration::from_secs(5));
        assert_eq!(clock.skipped().1, 2);
    }

    #[tokio::test]
    async fn no_jump_while_busy_or_while_a_watcher_has_not_looked() {
        let clock = SkippingClock::new();
        let start = clock.now_ms();
        let busy = clock.busy();
        let sleep = tokio::spawn(clock.sleep_until(start + 60_000));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!sleep.is_finished(), "jumped while busy");
        drop(busy);
        let watcher = clock.watcher();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!sleep.is_finished(), "jumped before the watcher looked");
        watcher.seen(watcher.epoch());
        sleep.await.unwrap();
        assert!(clock.now_ms() >= start + 60_000);
    }

    #[tokio::test]
    async fn a_due_sleep_holds_the_clock_until_dropped() {
        let clock = SkippingClock::new();
        let start = clock.now_ms();
        let mut first = clock.sleep_until(start + 1_000);
        (&mut first).await;
        let second = tokio::spawn(clock.sleep_until(start + 60_000));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!second.is_finished(), "jumped while a due sleep was alive");
        drop(first);
        second.await.unwrap();
    }
}
