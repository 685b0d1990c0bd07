//! A harness for driving the core by hand: one execution, a clock and nonces under the test's
//! control. Used by the core's table tests and the `checkpoint_updates` fuzz target (feature
//! `testing`).

use super::{apply, new_execution, Action, Command, Env, StartParams, TargetKind};
use crate::error::ApiError;
use crate::state::{ExecutionState, Limits};

/// The function references the harness knows: `plain` is a plain function, `child` a durable
/// one, every other name is unknown.
pub fn resolve(reference: &str) -> Option<(String, TargetKind)> {
    match crate::functions::function_name_of(reference)? {
        "plain" => Some(("plain".into(), TargetKind::Plain)),
        "child" => Some(("child".into(), TargetKind::Durable)),
        _ => None,
    }
}

/// One execution of function `f` named `n`, and the world the core sees.
#[derive(Debug)]
pub struct Harness {
    /// The execution.
    pub state: ExecutionState,
    /// The limits applied.
    pub limits: Limits,
    /// The clock, epoch ms.
    pub now: i64,
    nonce: u32,
}

impl Harness {
    /// A new execution (input `{"x":1}`), started at `now` with `timeout_s`, its creation delta
    /// already taken.
    pub fn new(now: i64, timeout_s: i64, limits: Limits) -> Self {
        let params = StartParams {
            arn: "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST/durable-execution/n/1"
                .into(),
            function_name: "f".into(),
            name: "n".into(),
            id: "1".into(),
            input: "{\"x\":1}".into(),
            timeout_s,
            tenant_id: None,
            parent: None,
        };
        let mut state = new_execution(params, now);
        state.take_delta();
        Self {
            state,
            limits,
            now,
            nonce: 0,
        }
    }

    /// Applies `command` now, with a fresh nonce (`inv1`, `inv2`, …).
    ///
    /// # Errors
    /// The core's error.
    pub fn apply(&mut self, command: Command) -> Result<Vec<Action>, ApiError> {
        self.nonce += 1;
        let env = Env {
            now_ms: self.now,
            nonce: format!("inv{}", self.nonce),
            limits: &self.limits,
            resolve: &resolve,
        };
        apply(&mut self.state, command, &env)
    }
}
