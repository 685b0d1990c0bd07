//! Table-style tests of the pure core: no HTTP, no threads, no sleeping.

use serde_json::{json, Value};

use super::testing::Harness;
use super::*;
use crate::model::OperationUpdate;
use crate::state::{decode_token, Limits};

const NOW: i64 = 1_000_000;

/// The harness, with the table tests' helpers on top.
struct T(Harness);

impl std::ops::Deref for T {
    type Target = Harness;

    fn deref(&self) -> &Harness {
        &self.0
    }
}

impl std::ops::DerefMut for T {
    fn deref_mut(&mut self) -> &mut Harness {
        &mut self.0
    }
}

impl T {
    fn new() -> Self {
        Self(Harness::new(NOW, 60, Limits::default()))
    }

    /// Starts an invocation; returns its token.
    fn invoke(&mut self) -> String {
        let actions = self.apply(Command::Kick).unwrap();
        self.state.take_delta();
        match actions.as_slice() {
            [Action::Invoke { envelope, .. }] => {
                envelope["CheckpointToken"].as_str().unwrap().to_owned()
            }
            other => panic!("expected an invocation, got {other:?}"),
        }
    }

    fn checkpoint(&mut self, token: &str, client: &str, updates: Value) -> Result<Value, ApiError> {
        let updates: Vec<OperationUpdate> = serde_json::from_value(updates).unwrap();
        let actions = self.apply(Command::Checkpoint {
            token: token.into(),
            client_token: Some(client.into()),
            updates,
        })?;
        match actions.first() {
            Some(Action::Reply(v)) => Ok(v.clone()),
            other => panic!("no reply: {other:?}"),
        }
    }

    fn status(&self, id: &str) -> &'static str {
        self.state.op(id).map_or("ABSENT", |o| o.status.as_str())
    }

    fn done(&mut self, inv: &str, response: Value) -> Vec<Action> {
        self.apply(Command::InvocationDone {
            invocation_id: inv.into(),
            outcome: InvocationOutcome::Response(response),
        })
        .unwrap()
    }
}

fn inv_of(token: &str) -> String {
    decode_token(token).unwrap().1
}

#[test]
fn checkpoint_transitions_table() {
    // (updates, expected statuses of op "a" after the request, or the error message prefix)
    let cases: Vec<(Value, Result<&str, &str>)> = vec![
        (
            json!([{"Id":"a","Type":"STEP","Action":"START"}]),
            Ok("STARTED"),
        ),
        (
            json!([{"Id":"a","Type":"STEP","Action":"START"},{"Id":"a","Type":"STEP","Action":"SUCCEED","Payload":"1"}]),
            Ok("SUCCEEDED"),
        ),
        (
            json!([{"Id":"a","Type":"STEP","Action":"SUCCEED","Payload":"1"}]),
            Ok("SUCCEEDED"),
        ),
        (
            json!([{"Id":"a","Type":"STEP","Action":"RETRY","StepOptions":{"NextAttemptDelaySeconds":2}}]),
            Ok("PENDING"),
        ),
        (
            json!([{"Id":"a","Type":"STEP","Action":"RETRY"}]),
            Err("Invalid StepOptions"),
        ),
        (
            json!([{"Id":"a","Type":"STEP","Action":"SUCCEED","Error":{"ErrorMessage":"x"}}]),
            Err("Cannot provide an Error"),
        ),
        (
            json!([{"Id":"a","Type":"STEP","Action":"FAIL","Payload":"1"}]),
            Err("Cannot provide a Payload"),
        ),
        (
            json!([{"Id":"a","Type":"STEP","Action":"START"},{"Id":"a","Type":"STEP","Action":"START"}]),
            Err("Invalid current STEP state to start"),
        ),
        (
            json!([{"Id":"a","Type":"WAIT","Action":"START","WaitOptions":{"WaitSeconds":0}}]),
            Ok("STARTED"),
        ),
        (
            json!([{"Id":"a","Type":"WAIT","Action":"START"}]),
            Err("Invalid WaitOptions"),
        ),
        (
            json!([{"Id":"a","Type":"WAIT","Action":"SUCCEED"}]),
            Err("Invalid action for WAIT"),
        ),
        (
            json!([{"Id":"a","Type":"CALLBACK","Action":"START"}]),
            Ok("STARTED"),
        ),
        (
            json!([{"Id":"a","Type":"CHAINED_INVOKE","Action":"START","ChainedInvokeOptions":{"FunctionName":"plain"}}]),
            Ok("STARTED"),
        ),
        (
            json!([{"Id":"a","Type":"CHAINED_INVOKE","Action":"START","ChainedInvokeOptions":{"FunctionName":"ghost"}}]),
            Ok("FAILED"),
        ),
        (
            json!([{"Id":"a","Type":"CHAINED_INVOKE","Action":"START"}]),
            Err("ChainedInvokeOptions.FunctionName"),
        ),
        (
            json!([{"Id":"a","Type":"CONTEXT","Action":"START"},{"Id":"b","ParentId":"a","Type":"STEP","Action":"START"}]),
            Ok("STARTED"),
        ),
        (
            json!([{"Id":"b","ParentId":"zz","Type":"STEP","Action":"START"}]),
            Err("Invalid parent"),
        ),
        (
            json!([{"Id":"a","Type":"CONTEXT","Action":"START"},{"Id":"a","Type":"CONTEXT","Action":"START"}]),
            Err("Cannot start a CONTEXT"),
        ),
        (
            json!([{"Id":"a","Type":"BOGUS","Action":"START"}]),
            Err("Invalid operation type"),
        ),
        (
            json!([{"Id":"a","Type":"STEP","Action":"START"},{"Id":"a","Type":"WAIT","Action":"START","WaitOptions":{"WaitSeconds":1}}]),
            Err("Invalid"),
        ),
    ];
    for (updates, expected) in cases {
        let mut t = T::new();
        let token = t.invoke();
        let before = t.state.meta.token_seq;
        let got = t.checkpoint(&token, "c1", updates.clone());
        match expected {
            Ok(status) => {
                let body = got.unwrap_or_else(|e| panic!("{updates}: {e}"));
                assert_eq!(t.status("a"), status, "{updates}");
                assert!(body["CheckpointToken"].is_string());
                assert_eq!(t.state.meta.token_seq, before + 1);
            }
            Err(prefix) => {
                let e = got.unwrap_err();
                assert_eq!(
                    e.kind(),
                    crate::ErrorKind::InvalidParameterValue,
                    "{updates}"
                );
                assert!(
                    e.message().starts_with(prefix),
                    "{updates}: {}",
                    e.message()
                );
                assert_eq!(
                    t.state.meta.token_seq, before,
                    "a rejected checkpoint must not rotate"
                );
                assert_eq!(
                    t.status("a"),
                    "ABSENT",
                    "a rejected request is all-or-nothing"
                );
                assert!(!t.state.has_delta());
            }
        }
    }
}

#[test]
fn tokens_rotate_stale_ones_fail_and_client_token_replays() {
    let mut t = T::new();
    let t0 = t.invoke();
    let r1 = t
        .checkpoint(
            &t0,
            "c1",
            json!([{"Id":"a","Type":"STEP","Action":"START"}]),
        )
        .unwrap();
    let t1 = r1["CheckpointToken"].as_str().unwrap().to_owned();
    assert_ne!(t0, t1);
    // replay of the same request (same ClientToken and inbound token): byte-identical response
    let replay = t
        .checkpoint(
            &t0,
            "c1",
            json!([{"Id":"a","Type":"STEP","Action":"START"}]),
        )
        .unwrap();
    assert_eq!(replay, r1);
    // a new request with the old token is stale
    let e = t.checkpoint(&t0, "c2", json!([])).unwrap_err();
    assert!(e.message().starts_with("Invalid checkpoint token"));
    // the current token works
    t.checkpoint(
        &t1,
        "c3",
        json!([{"Id":"a","Type":"STEP","Action":"SUCCEED","Payload":"5"}]),
    )
    .unwrap();
    // after the invocation ends, its tokens are fenced
    let inv = inv_of(&t1);
    t.done(&inv, json!({"Status":"PENDING"}));
    let e = t.checkpoint(&t1, "c4", json!([])).unwrap_err();
    assert!(e.message().starts_with("Invalid checkpoint token"));
    assert_eq!(e.body()["message"], json!("Invalid checkpoint token"));
}

#[test]
fn callback_start_response_carries_the_callback_id() {
    let mut t = T::new();
    let tok = t.invoke();
    let r = t
        .checkpoint(
            &tok,
            "c",
            json!([{"Id":"cb","Type":"CALLBACK","Action":"START","SubType":"Callback"}]),
        )
        .unwrap();
    let op = &r["NewExecutionState"]["Operations"][0];
    let id = op["CallbackDetails"]["CallbackId"].as_str().unwrap();
    assert_eq!(crate::state::decode_callback_id(id).unwrap().1, "cb");
}

#[test]
fn timers_fire_and_trigger_reinvocation() {
    let mut t = T::new();
    let tok = t.invoke();
    t.checkpoint(&tok, "c", json!([
        {"Id":"w","Type":"WAIT","Action":"START","WaitOptions":{"WaitSeconds":5}},
        {"Id":"s","Type":"STEP","Action":"RETRY","StepOptions":{"NextAttemptDelaySeconds":2}},
        {"Id":"cb","Type":"CALLBACK","Action":"START","CallbackOptions":{"TimeoutSeconds":10,"HeartbeatTimeoutSeconds":3}}
    ])).unwrap();
    assert!(
        t.done(&inv_of(&tok), json!({"Status":"PENDING"}))
            .is_empty(),
        "outstanding work: go idle"
    );
    assert_eq!(next_due(&t.state), Some(NOW + 2_000));
    t.now = NOW + 2_000;
    let actions = t.apply(Command::Tick).unwrap();
    assert!(
        matches!(actions.as_slice(), [Action::Invoke { .. }]),
        "{actions:?}"
    );
    assert_eq!(t.status("s"), "READY");
    assert_eq!(t.status("w"), "STARTED");
    // heartbeat pushes the heartbeat deadline
    t.now = NOW + 2_500;
    t.apply(Command::CallbackHeartbeat { op_id: "cb".into() })
        .unwrap();
    assert_eq!(
        t.state.op("cb").unwrap().cb_heartbeat_deadline_ms,
        Some(NOW + 5_500)
    );
    t.now = NOW + 5_000;
    t.apply(Command::Tick).unwrap();
    assert_eq!(t.status("w"), "SUCCEEDED");
    t.now = NOW + 5_500;
    t.apply(Command::Tick).unwrap();
    assert_eq!(t.status("cb"), "TIMED_OUT");
    assert_eq!(
        t.state
            .op("cb")
            .unwrap()
            .error
            .as_ref()
            .unwrap()
            .error_type
            .as_deref(),
        Some("Callback.Heartbeat")
    );
}

#[test]
fn reinvocation_rule_after_pending() {
    // async change during the invocation ⇒ re-invoke at once
    let mut t = T::new();
    let tok = t.invoke();
    t.checkpoint(
        &tok,
        "c",
        json!([{"Id":"cb","Type":"CALLBACK","Action":"START"}]),
    )
    .unwrap();
    t.apply(Command::CallbackSucceed {
        op_id: "cb".into(),
        result: Some("1".into()),
    })
    .unwrap();
    let a = t.done(&inv_of(&tok), json!({"Status":"PENDING"}));
    assert!(matches!(a.as_slice(), [Action::Invoke { .. }]));
    // PENDING with nothing pending: retried with backoff, then FAILED
    let mut t = T::new();
    t.limits.max_invalid_pending = 1;
    let tok = t.invoke();
    assert!(t
        .done(&inv_of(&tok), json!({"Status":"PENDING"}))
        .is_empty());
    assert!(t.state.meta.next_invoke_ms.is_some());
    t.now = t.state.meta.next_invoke_ms.unwrap();
    let a = t.apply(Command::Tick).unwrap();
    let Some(Action::Invoke { invocation_id, .. }) = a.first() else {
        panic!("{a:?}")
    };
    let a = t.done(&invocation_id.clone(), json!({"Status":"PENDING"}));
    assert!(matches!(a.first(), Some(Action::Finished(o)) if o.status == ExecStatus::Failed));
}

#[test]
fn invocation_outputs_table() {
    let cases = vec![
        (
            json!({"Status":"SUCCEEDED","Result":"\"ab\""}),
            ExecStatus::Succeeded,
            Some("\"ab\""),
        ),
        (
            json!({"Status":"FAILED","Error":{"ErrorType":"E","ErrorMessage":"m"}}),
            ExecStatus::Failed,
            None,
        ),
        (
            json!({"Status":"SUCCEEDED","Error":{"ErrorMessage":"m"}}),
            ExecStatus::Failed,
            None,
        ),
        (
            json!({"Status":"FAILED","Result":"1"}),
            ExecStatus::Failed,
            None,
        ),
        (json!({"Status":"WHATEVER"}), ExecStatus::Failed, None),
        (json!("not an object"), ExecStatus::Failed, None),
    ];
    for (response, status, result) in cases {
        let mut t = T::new();
        let tok = t.invoke();
        let a = t.done(&inv_of(&tok), response.clone());
        let Some(Action::Finished(o)) = a.first() else {
            panic!("{response}: {a:?}")
        };
        assert_eq!(o.status, status, "{response}");
        assert_eq!(o.result.as_deref(), result, "{response}");
        assert_eq!(
            t.state.op("1").unwrap().status.as_str(),
            if status == ExecStatus::Succeeded {
                "SUCCEEDED"
            } else {
                "FAILED"
            }
        );
    }
}

#[test]
fn invocation_failures_back_off_then_fail() {
    let mut t = T::new();
    t.limits.max_invocation_attempts = 3;
    let mut inv = inv_of(&t.invoke());
    for attempt in 1..=3u32 {
        let a = t
            .apply(Command::InvocationDone {
                invocation_id: inv.clone(),
                outcome: InvocationOutcome::Failed(ErrorObject::new(
                    "Runtime.HandlerPanic",
                    "boom",
                )),
            })
            .unwrap();
        if attempt == 3 {
            let Some(Action::Finished(o)) = a.first() else {
                panic!("{a:?}")
            };
            assert_eq!(o.status, ExecStatus::Failed);
            assert!(o
                .error
                .as_ref()
                .unwrap()
                .error_message
                .as_ref()
                .unwrap()
                .contains("3 consecutive"));
            break;
        }
        assert!(a.is_empty());
        let due = t.state.meta.next_invoke_ms.unwrap();
        assert_eq!(
            due - t.now,
            t.limits.backoff_base_ms << (attempt - 1),
            "exponential backoff"
        );
        t.now = due;
        let a = t.apply(Command::Tick).unwrap();
        let Some(Action::Invoke { invocation_id, .. }) = a.first() else {
            panic!("{a:?}")
        };
        inv = invocation_id.clone();
    }
}

#[test]
fn fenced_invocations_and_stop() {
    let mut t = T::new();
    let tok = t.invoke();
    let a = t.apply(Command::Stop { error: None }).unwrap();
    assert!(matches!(a.get(1), Some(Action::Finished(o)) if o.status == ExecStatus::Stopped));
    // the stopped invocation's result is ignored, its token is dead, callbacks are refused
    assert!(t
        .done(&inv_of(&tok), json!({"Status":"SUCCEEDED","Result":"1"}))
        .is_empty());
    assert_eq!(t.state.meta.status, ExecStatus::Stopped);
    assert!(t.checkpoint(&tok, "x", json!([])).is_err());
    assert_eq!(t.apply(Command::Tick).unwrap(), vec![]);
}

#[test]
fn execution_timeout_and_limits() {
    let mut t = T::new();
    let tok = t.invoke();
    t.limits.max_operations = 2;
    let e = t
        .checkpoint(
            &tok,
            "c",
            json!([
                {"Id":"a","Type":"STEP","Action":"START"},
                {"Id":"b","Type":"STEP","Action":"START"},
                {"Id":"c","Type":"STEP","Action":"START"}
            ]),
        )
        .unwrap_err();
    assert!(
        e.message().contains("maximum number of operations (2)"),
        "{}",
        e.message()
    );
    let big = "x".repeat(t.limits.max_result_bytes + 1);
    let e = t
        .checkpoint(
            &tok,
            "c",
            json!([{"Id":"a","Type":"STEP","Action":"SUCCEED","Payload": big}]),
        )
        .unwrap_err();
    assert!(
        e.message().contains("exceeds the maximum"),
        "{}",
        e.message()
    );
    assert_eq!(Limits::default().max_operations, 3_000);
    assert_eq!(Limits::default().max_result_bytes, 256 * 1024);
    t.now = NOW + 60_000;
    let a = t.apply(Command::Tick).unwrap();
    assert!(matches!(a.first(), Some(Action::Finished(o)) if o.status == ExecStatus::TimedOut));
}

#[test]
fn chained_invoke_dispatch_and_completion() {
    let mut t = T::new();
    let tok = t.invoke();
    let updates: Vec<OperationUpdate> = serde_json::from_value(json!([
        {"Id":"i","Type":"CHAINED_INVOKE","Action":"START","Payload":"{\"n\":1}","ChainedInvokeOptions":{"FunctionName":"arn:aws:lambda:us-east-1:000000000000:function:child"}}
    ])).unwrap();
    let a = t
        .apply(Command::Checkpoint {
            token: tok.clone(),
            client_token: None,
            updates,
        })
        .unwrap();
    assert!(
        matches!(a.get(1), Some(Action::Dispatch { function, kind: TargetKind::Durable, payload, .. }) if function == "child" && payload == "{\"n\":1}")
    );
    t.done(&inv_of(&tok), json!({"Status":"PENDING"}));
    // recovery re-dispatches it
    let a = t.apply(Command::Recover).unwrap();
    assert!(a.iter().any(|x| matches!(x, Action::Dispatch { .. })));
    let Some(Action::Invoke { invocation_id, .. }) =
        a.iter().find(|x| matches!(x, Action::Invoke { .. }))
    else {
        panic!("recovery invokes: {a:?}")
    };
    let inv = invocation_id.clone();
    let a = t
        .apply(Command::ChainedDone {
            op_id: "i".into(),
            outcome: ChainedOutcome {
                status: OpStatus::Succeeded,
                result: Some("2".into()),
                error: None,
            },
        })
        .unwrap();
    assert!(a.is_empty(), "an invocation is already in flight");
    assert_eq!(
        t.status("i"),
        "STARTED",
        "recorded when that invocation ends"
    );
    // The outcome follows the InvocationCompleted of the invocation it arrived during, and
    // costs one more invocation.
    let a = t.done(&inv, json!({"Status":"PENDING"}));
    assert!(a.iter().any(|x| matches!(x, Action::Invoke { .. })));
    let delta = t.state.take_delta();
    let types: Vec<&str> = delta
        .events
        .iter()
        .rev()
        .take(2)
        .map(|(_, e)| e["EventType"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(types, ["ChainedInvokeSucceeded", "InvocationCompleted"]);
    let op = t
        .state
        .op("i")
        .unwrap()
        .to_wire(crate::model::TimeFormat::EpochSeconds);
    assert_eq!(op["ChainedInvokeDetails"]["Result"], json!("2"));
}

#[test]
fn state_pages_by_offset_with_execution_first() {
    let mut t = T::new();
    t.limits.state_page_size = 2;
    let tok = t.invoke();
    let ups: Vec<Value> = (0..4)
        .map(|i| json!({"Id": format!("s{i}"), "Type":"STEP","Action":"START"}))
        .collect();
    let r = t.checkpoint(&tok, "c", Value::Array(ups)).unwrap();
    let tok = r["CheckpointToken"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    let mut marker = None;
    loop {
        let a = t
            .apply(Command::GetState {
                token: tok.clone(),
                marker: marker.clone(),
                max_items: None,
            })
            .unwrap();
        let Some(Action::Reply(body)) = a.first() else {
            panic!()
        };
        ids.extend(
            body["Operations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["Id"].as_str().unwrap().to_owned()),
        );
        marker = body
            .get("NextMarker")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if marker.is_none() {
            break;
        }
    }
    assert_eq!(ids, vec!["1", "s0", "s1", "s2", "s3"]);
}

#[test]
fn chained_completions_together_cost_one_invocation() {
    let mut t = T::new();
    let tok = t.invoke();
    let updates: Vec<OperationUpdate> = serde_json::from_value(json!([
        {"Id":"a","Type":"CHAINED_INVOKE","Action":"START","Payload":"1","ChainedInvokeOptions":{"FunctionName":"plain"}},
        {"Id":"b","Type":"CHAINED_INVOKE","Action":"START","Payload":"2","ChainedInvokeOptions":{"FunctionName":"plain"}}
    ])).unwrap();
    let a = t
        .apply(Command::Checkpoint {
            token: tok.clone(),
            client_token: None,
            updates,
        })
        .unwrap();
    let dispatched = a
        .iter()
        .filter(|x| {
            matches!(
                x,
                Action::Dispatch {
                    kind: TargetKind::Plain,
                    ..
                }
            )
        })
        .count();
    assert_eq!(dispatched, 2);
    assert!(t
        .done(&inv_of(&tok), json!({"Status":"PENDING"}))
        .is_empty());
    let ok = |r: &str| ChainedOutcome {
        status: OpStatus::Succeeded,
        result: Some(r.into()),
        error: None,
    };
    let a = t
        .apply(Command::ChainedDoneMany {
            done: vec![("a".into(), ok("10")), ("b".into(), ok("20"))],
        })
        .unwrap();
    let invokes: Vec<&Value> = a
        .iter()
        .filter_map(|x| match x {
            Action::Invoke { envelope, .. } => Some(envelope),
            _ => None,
        })
        .collect();
    assert_eq!(invokes.len(), 1, "one invocation for both completions");
    assert_eq!(invokes[0]["UpdatedOperationIds"], json!(["a", "b"]));
    assert_eq!((t.status("a"), t.status("b")), ("SUCCEEDED", "SUCCEEDED"));
    // A repeated (or unknown) completion changes nothing and invokes nothing.
    t.state.take_delta();
    let a = t
        .apply(Command::ChainedDoneMany {
            done: vec![("a".into(), ok("11")), ("zz".into(), ok("1"))],
        })
        .unwrap();
    assert!(a.is_empty());
    assert!(!t.state.has_delta());
}

#[test]
fn an_outcome_during_the_invocation_is_held_without_a_write() {
    let ok = ChainedOutcome {
        status: OpStatus::Succeeded,
        result: Some("10".into()),
        error: None,
    };
    let mut t = T::new();
    let tok = t.invoke();
    let start = json!([{"Id":"a","Type":"CHAINED_INVOKE","Action":"START","Payload":"1","ChainedInvokeOptions":{"FunctionName":"plain"}}]);
    t.checkpoint(&tok, "c1", start).unwrap();
    t.state.take_delta();
    let a = t
        .apply(Command::ChainedDone {
            op_id: "a".into(),
            outcome: ok.clone(),
        })
        .unwrap();
    assert!(a.is_empty());
    assert!(!t.state.has_delta(), "a held outcome needs no commit");
    assert_eq!(t.status("a"), "STARTED");
    assert_eq!(t.state.held_chained(), [("a".to_owned(), ok)].as_slice());
    // The invocation's end records it in its own transition and resumes the execution.
    let a = t.done(&inv_of(&tok), json!({"Status":"PENDING"}));
    assert_eq!(t.status("a"), "SUCCEEDED");
    assert!(t.state.held_chained().is_empty());
    assert_eq!(
        a.iter()
            .filter(|x| matches!(x, Action::Invoke { .. }))
            .count(),
        1,
        "{a:?}"
    );
    let events = t.state.take_delta().events;
    let types: Vec<&str> = events
        .iter()
        .filter_map(|(_, e)| e["EventType"].as_str())
        .collect();
    assert_eq!(types, ["InvocationCompleted", "ChainedInvokeSucceeded"]);
}

#[test]
fn results_of_one_batch_resume_the_execution_once() {
    let ok = |r: &str| ChainedOutcome {
        status: OpStatus::Succeeded,
        result: Some(r.into()),
        error: None,
    };
    let invokes = |a: &[Action]| {
        a.iter()
            .filter(|x| matches!(x, Action::Invoke { .. }))
            .count()
    };
    let mut t = T::new();
    let window = t.limits.reinvoke_coalesce_ms;
    assert!(window > 0);
    let tok = t.invoke();
    let start = |id: &str| json!({"Id": id, "Type":"CHAINED_INVOKE","Action":"START","Payload":"1","ChainedInvokeOptions":{"FunctionName":"plain"}});
    // Two checkpoint calls start three plain invokes; "a" reports during the invocation.
    let r = t.checkpoint(&tok, "c1", json!([start("a")])).unwrap();
    let tok = r["CheckpointToken"].as_str().unwrap().to_owned();
    t.checkpoint(&tok, "c2", json!([start("b"), start("c")]))
        .unwrap();
    assert!(t
        .apply(Command::ChainedDone {
            op_id: "a".into(),
            outcome: ok("1")
        })
        .unwrap()
        .is_empty());
    // The invocation ends with "a" recorded and "b", "c" still running: no re-invocation yet,
    // only a timer at the end of the window.
    t.now += 1;
    let a = t.done(&inv_of(&tok), json!({"Status":"PENDING"}));
    assert_eq!(invokes(&a), 0, "{a:?}");
    assert_eq!(t.status("a"), "SUCCEEDED");
    assert_eq!(t.state.meta.next_invoke_ms, Some(NOW + window));
    assert_eq!(next_due(&t.state), Some(NOW + window));
    // "b" alone: "c" is still imminent, so "b" is held in memory (nothing to commit).
    t.now += 1;
    t.state.take_delta();
    let a = t
        .apply(Command::ChainedDone {
            op_id: "b".into(),
            outcome: ok("2"),
        })
        .unwrap();
    assert_eq!(invokes(&a), 0);
    assert!(!t.state.has_delta(), "a held result needs no commit");
    assert_eq!(t.status("b"), "STARTED");
    // The last result of the batch resumes the execution at once, with all three.
    let a = t
        .apply(Command::ChainedDone {
            op_id: "c".into(),
            outcome: ok("3"),
        })
        .unwrap();
    let [Action::Invoke { envelope, .. }] = a.as_slice() else {
        panic!("one invocation: {a:?}")
    };
    assert_eq!(envelope["UpdatedOperationIds"], json!(["a", "b", "c"]));
    assert_eq!(t.state.meta.next_invoke_ms, None);
    assert_eq!((t.status("b"), t.status("c")), ("SUCCEEDED", "SUCCEEDED"));
    assert!(t.state.held_chained().is_empty());
}

#[test]
fn a_slow_result_holds_the_others_for_the_window_only() {
    let mut t = T::new();
    let window = t.limits.reinvoke_coalesce_ms;
    let tok = t.invoke();
    t.checkpoint(
        &tok,
        "c",
        json!([
            {"Id":"fast","Type":"CHAINED_INVOKE","Action":"START","ChainedInvokeOptions":{"FunctionName":"plain"}},
            {"Id":"slow","Type":"CHAINED_INVOKE","Action":"START","ChainedInvokeOptions":{"FunctionName":"plain"}}
        ]),
    )
    .unwrap();
    assert!(t
        .done(&inv_of(&tok), json!({"Status":"PENDING"}))
        .is_empty());
    let a = t
        .apply(Command::ChainedDone {
            op_id: "fast".into(),
            outcome: ChainedOutcome {
                status: OpStatus::Succeeded,
                result: Some("1".into()),
                error: None,
            },
        })
        .unwrap();
    assert!(a.is_empty(), "held while 'slow' may still report");
    assert_eq!(
        t.status("fast"),
        "STARTED",
        "held in memory, not yet recorded"
    );
    assert_eq!(next_due(&t.state), Some(NOW + window));
    t.now += window - 1;
    assert!(t.apply(Command::Tick).unwrap().is_empty());
    t.now += 1;
    let a = t.apply(Command::Tick).unwrap();
    let [Action::Invoke { envelope, .. }] = a.as_slice() else {
        panic!("the window is over: {a:?}")
    };
    assert_eq!(envelope["UpdatedOperationIds"], json!(["fast"]));
    assert_eq!(t.status("fast"), "SUCCEEDED");
    assert_eq!(t.status("slow"), "STARTED");
    // With a window of 0 every result resumes the execution at once.
    let mut t = T::new();
    t.limits.reinvoke_coalesce_ms = 0;
    let tok = t.invoke();
    t.checkpoint(
        &tok,
        "c",
        json!([
            {"Id":"x","Type":"CHAINED_INVOKE","Action":"START","ChainedInvokeOptions":{"FunctionName":"plain"}},
            {"Id":"y","Type":"CHAINED_INVOKE","Action":"START","ChainedInvokeOptions":{"FunctionName":"plain"}}
        ]),
    )
    .unwrap();
    t.done(&inv_of(&tok), json!({"Status":"PENDING"}));
    let a = t
        .apply(Command::ChainedDone {
            op_id: "x".into(),
            outcome: ChainedOutcome {
                status: OpStatus::Succeeded,
                result: None,
                error: None,
            },
        })
        .unwrap();
    assert!(matches!(a.as_slice(), [Action::Invoke { .. }]), "{a:?}");
}
