//! Checkpoint handling in the durable service's pure core (`durapipe_durable::core::apply`)
//! never panics on any list of `OperationUpdate`s, and a refused checkpoint leaves the execution
//! exactly as it was (no op, metadata or delta change; the token still works). After the
//! checkpoints the state pages, the invocation's end and a day of timers are applied too.
//!
//! Input: JSON — an array of updates (one checkpoint) or an array of such arrays (several
//! checkpoints in a row, each with the token the previous one returned).
#![no_main]

use durapipe_durable::core::testing::Harness;
use durapipe_durable::core::{Action, Command, InvocationOutcome};
use durapipe_durable::model::OperationUpdate;
use durapipe_durable::state::Limits;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

const NOW: i64 = 1_700_000_000_000;

/// Small limits, so the fuzzer reaches the limit checks with small inputs.
fn limits() -> Limits {
    Limits {
        max_operations: 24,
        max_result_bytes: 512,
        max_invoke_payload_bytes: 1024,
        max_stored_bytes: 8 * 1024,
        state_page_size: 4,
        envelope_page_size: 8,
        page_bytes: 2048,
        ..Limits::default()
    }
}

fn batches(data: &[u8]) -> Option<Vec<Vec<OperationUpdate>>> {
    let value: Value = serde_json::from_slice(data).ok()?;
    if let Ok(many) = serde_json::from_value::<Vec<Vec<OperationUpdate>>>(value.clone()) {
        return Some(many);
    }
    serde_json::from_value::<Vec<OperationUpdate>>(value)
        .ok()
        .map(|one| vec![one])
}

fuzz_target!(|data: &[u8]| {
    let Some(batches) = batches(data) else {
        return;
    };
    // The harness's functions: `plain` is a plain function, `child` a durable one.
    let mut run = Harness::new(NOW, 600, limits());
    let (invocation_id, mut token) = match run.apply(Command::Kick).expect("kick").as_slice() {
        [Action::Invoke {
            invocation_id,
            envelope,
        }] => (
            invocation_id.clone(),
            envelope["CheckpointToken"]
                .as_str()
                .expect("token")
                .to_owned(),
        ),
        other => panic!("expected an invocation, got {other:?}"),
    };
    run.state.take_delta();

    for (i, updates) in batches.into_iter().enumerate() {
        run.now += 1_000;
        let (meta, ops) = (run.state.meta.clone(), run.state.ops().to_vec());
        let result = run.apply(Command::Checkpoint {
            token: token.clone(),
            client_token: Some(format!("c{i}")),
            updates,
        });
        match result {
            Err(_) => {
                assert_eq!(
                    run.state.meta, meta,
                    "a refused checkpoint changed the metadata"
                );
                assert_eq!(
                    run.state.ops(),
                    &ops[..],
                    "a refused checkpoint changed an op"
                );
                assert!(!run.state.has_delta(), "a refused checkpoint left a delta");
            }
            Ok(actions) => {
                let Some(Action::Reply(reply)) = actions.first() else {
                    panic!("a checkpoint without a reply: {actions:?}");
                };
                token = reply["CheckpointToken"]
                    .as_str()
                    .expect("a checkpoint reply carries the next token")
                    .to_owned();
                run.state.take_delta();
            }
        }
    }

    // Page through the state (the token is live unless the execution ended).
    let mut marker = None;
    for _ in 0..=run.limits.max_operations + 1 {
        match run.apply(Command::GetState {
            token: token.clone(),
            marker: marker.take(),
            max_items: None,
        }) {
            Ok(actions) => match actions.first() {
                Some(Action::Reply(page)) => match page["NextMarker"].as_str() {
                    Some(next) => marker = Some(next.to_owned()),
                    None => break,
                },
                other => panic!("a state page without a reply: {other:?}"),
            },
            Err(_) => break,
        }
    }
    assert!(marker.is_none(), "state paging did not end");
    run.state.take_delta();

    // The invocation ends PENDING, then a day passes: timers, retries and the deadline fire.
    let _ = run.apply(Command::InvocationDone {
        invocation_id,
        outcome: InvocationOutcome::Response(json!({ "Status": "PENDING" })),
    });
    run.now += 86_400_000;
    let _ = run.apply(Command::Tick);
});
