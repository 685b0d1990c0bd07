//! Message validation never panics, and agrees with itself: a valid body re-validates from its
//! own original data, and the workflow's validate stage accepts exactly what `validate` accepts.
#![no_main]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

/// Runs a future that never waits (the stage handlers do no I/O) to completion.
fn now<F: Future>(future: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut cx) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("a stage handler without I/O returned Pending"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let verdict = durapipe_core::validate(body);
    if let Ok(message) = &verdict {
        let again = serde_json::to_string(message.original_data()).expect("serialize");
        let reparsed = durapipe_core::validate(&again);
        assert!(
            reparsed.is_ok(),
            "{body:?} valid but {again:?} not: {reparsed:?}"
        );
    }

    // The validate stage wraps the same check.
    let event = json!({ "message_id": "m-1", "body": body });
    let staged = now(durapipe_workflow::validate_handler(event));
    assert_eq!(
        staged.is_ok(),
        verdict.is_ok(),
        "stage and core disagree on {body:?}: {staged:?}"
    );

    // The stage inputs themselves, when the bytes are JSON: parsed, never a panic.
    if let Ok(value) = serde_json::from_str::<Value>(body) {
        let _ = now(durapipe_workflow::validate_handler(value.clone()));
        let clock = durapipe_core::FixedClock(time::macros::datetime!(2026-01-01 0:00 UTC));
        let _ = now(durapipe_workflow::transform_handler(value, &clock));
    }
});
