//! The per-execution slot cache: one lock, cached state and completion channel per execution
//! in use, dropped as soon as nothing uses it.
//!
//! The invariant lives here alone: a slot is removed when no [`SlotGuard`] holds it, nobody
//! waits on its completion channel, and its cached state is absent or finished (a running
//! execution keeps its cache until the retention sweep deletes it). Guards are counted under
//! the cache's lock, so a guard's drop and the check that follows it cannot interleave with
//! another guard's.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::core::Outcome;
use crate::state::ExecutionState;

/// One execution's lock, cached state and completion channel.
pub(crate) struct Slot {
    pub(crate) state: tokio::sync::Mutex<Option<ExecutionState>>,
    pub(crate) done: watch::Sender<Option<Outcome>>,
}

impl Slot {
    fn new(state: Option<ExecutionState>) -> Arc<Self> {
        Arc::new(Self {
            state: tokio::sync::Mutex::new(state),
            done: watch::Sender::new(None),
        })
    }

    /// Whether nobody waits on the slot and its cached state may be dropped.
    fn is_idle(&self) -> bool {
        self.done.receiver_count() == 0
            && self
                .state
                .try_lock()
                .is_ok_and(|state| state.as_ref().is_none_or(|s| s.meta.status.is_terminal()))
    }
}

struct Entry {
    slot: Arc<Slot>,
    /// Live [`SlotGuard`]s of this slot.
    guards: usize,
}

/// The slots of the executions in use, by ARN.
#[derive(Default)]
pub(crate) struct SlotCache {
    slots: Mutex<HashMap<String, Entry>>,
}

impl SlotCache {
    /// Caches `state` as `arn`'s slot unless one exists (a freshly stored execution).
    pub(crate) fn seed(&self, arn: &str, state: ExecutionState) {
        if let Ok(mut slots) = self.slots.lock() {
            slots.entry(arn.to_owned()).or_insert_with(|| Entry {
                slot: Slot::new(Some(state)),
                guards: 0,
            });
        }
    }

    /// `arn`'s slot, created empty if absent; released on the guard's drop if then unused.
    pub(crate) fn take(&self, arn: &str) -> SlotGuard<'_> {
        let slot = match self.slots.lock() {
            Ok(mut slots) => {
                let entry = slots.entry(arn.to_owned()).or_insert_with(|| Entry {
                    slot: Slot::new(None),
                    guards: 0,
                });
                entry.guards += 1;
                entry.slot.clone()
            }
            // A poisoned cache still serves: an uncached slot of its own.
            Err(_) => Slot::new(None),
        };
        SlotGuard {
            slot,
            cache: self,
            arn: arn.to_owned(),
        }
    }

    /// How many executions have a slot.
    pub(crate) fn len(&self) -> usize {
        self.slots.lock().map_or(0, |s| s.len())
    }

    /// Drops `arn`'s slot if nothing uses it (see the module's contract).
    pub(crate) fn release(&self, arn: &str) {
        let Ok(mut slots) = self.slots.lock() else {
            return;
        };
        if slots
            .get(arn)
            .is_some_and(|e| e.guards == 0 && e.slot.is_idle())
        {
            slots.remove(arn);
        }
    }

    fn drop_guard(&self, arn: &str, slot: &Arc<Slot>) {
        let Ok(mut slots) = self.slots.lock() else {
            return;
        };
        let Some(entry) = slots.get_mut(arn) else {
            return;
        };
        if !Arc::ptr_eq(&entry.slot, slot) {
            return;
        }
        entry.guards -= 1;
        if entry.guards == 0 && entry.slot.is_idle() {
            slots.remove(arn);
        }
    }
}

/// A held slot; its drop releases the slot if nothing else uses it.
pub(crate) struct SlotGuard<'a> {
    slot: Arc<Slot>,
    cache: &'a SlotCache,
    arn: String,
}

impl Deref for SlotGuard<'_> {
    type Target = Slot;

    fn deref(&self) -> &Slot {
        &self.slot
    }
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        self.cache.drop_guard(&self.arn, &self.slot);
    }
}
