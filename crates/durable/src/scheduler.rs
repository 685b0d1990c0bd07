//! One timer per execution (its next due time); fires `Tick`s through the injected clock.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use tokio::sync::Notify;

use crate::clock::Busy;

/// Due times by execution.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    inner: Mutex<TimerSet>,
    pub(crate) changed: Notify,
    /// Work in progress from a change until the timer loop has looked at it.
    hold: Mutex<Option<Busy>>,
}

#[derive(Debug, Default)]
struct TimerSet {
    by_due: BTreeSet<(i64, String)>,
    by_arn: HashMap<String, i64>,
}

impl Timers {
    /// Sets (or clears, with `None`) the due time of `arn`. A change that wakes the timer loop
    /// holds `busy()` until the loop took it ([`Timers::take_hold`]).
    pub(crate) fn arm(&self, arn: &str, due: Option<i64>, busy: impl FnOnce() -> Busy) {
        let Ok(mut t) = self.inner.lock() else { return };
        if t.by_arn.get(arn).copied() == due {
            return;
        }
        if let Some(old) = t.by_arn.remove(arn) {
            t.by_due.remove(&(old, arn.to_owned()));
        }
        if let Some(due) = due {
            t.by_arn.insert(arn.to_owned(), due);
            t.by_due.insert((due, arn.to_owned()));
            drop(t);
            if let Ok(mut hold) = self.hold.lock() {
                if hold.is_none() {
                    *hold = Some(busy());
                }
            }
            self.changed.notify_one();
        }
    }

    /// The hold of the last change (the timer loop drops it once it has looked).
    pub(crate) fn take_hold(&self) -> Option<Busy> {
        self.hold.lock().ok().and_then(|mut h| h.take())
    }

    /// Removes and returns every execution due at `now`, and the next due time after that.
    pub(crate) fn take_due(&self, now: i64) -> (Vec<String>, Option<i64>) {
        let Ok(mut t) = self.inner.lock() else {
            return (Vec::new(), None);
        };
        let mut due = Vec::new();
        while let Some((when, arn)) = t.by_due.first().cloned() {
            if when > now {
                return (due, Some(when));
            }
            t.by_due.remove(&(when, arn.clone()));
            t.by_arn.remove(&arn);
            due.push(arn);
        }
        (due, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rearming_replaces_and_due_ones_are_taken_in_order() {
        let t = Timers::default();
        t.arm("a", Some(50), Busy::none);
        t.arm("b", Some(10), Busy::none);
        t.arm("a", Some(20), Busy::none);
        t.arm("c", Some(30), Busy::none);
        t.arm("c", None, Busy::none);
        assert_eq!(t.take_due(5), (vec![], Some(10)));
        assert_eq!(t.take_due(25), (vec!["b".to_owned(), "a".to_owned()], None));
    }
}
