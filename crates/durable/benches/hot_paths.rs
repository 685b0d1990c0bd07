//! Micro-benchmarks of the durable service's pure hot paths: applying a
//! checkpoint and building a state page, through `core::apply` only — no I/O, no clock, no
//! threads. The whole-service path (an orchestrator execution with replay, SQLite behind it) is
//! `crates/local/benches/pipeline.rs`.
//!
//! The executions are shaped like the pipeline orchestrator's: a `records` map context, and per
//! record an item context holding, per stage, a retry context around one chained invoke with a
//! small JSON result (1 + 7 operations per record). Sizes: ~150 ops (the real orchestrator makes
//! 102 for a batch of 10 records, as `crates/local/benches/pipeline.rs` prints, so this is a
//! little above one batch) and ~3,000 (the per-execution limit, the worst case).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use durapipe_durable::core::{
    apply, first_page, new_execution, Action, ChainedOutcome, Command, Env, StartParams, TargetKind,
};
use durapipe_durable::model::{OpStatus, OperationUpdate};
use durapipe_durable::state::ExecutionState;
use durapipe_durable::Limits;
use serde_json::{json, Value};

const NOW: i64 = 1_700_000_000_000;
const STAGES: [&str; 3] = ["validate", "transform", "store"];

fn resolve(name: &str) -> Option<(String, TargetKind)> {
    Some((name.to_owned(), TargetKind::Plain))
}

/// A stage's input or result: about the size of the pipeline's records (~200 bytes).
fn record_json(i: usize, stage: &str) -> String {
    json!({
        "execution_id": format!("00000000-0000-4000-8000-{i:012}"),
        "data_source": format!("source-{i}.csv"),
        "processing_type": "standard",
        "stage": stage,
        "processed_at": "2026-01-01T00:00:00.000Z",
        "metadata": { "message_id": format!("msg-{i}"), "attempt": 1 },
    })
    .to_string()
}

/// An execution driven through `apply`, with its current checkpoint token.
struct Driver {
    state: ExecutionState,
    limits: Limits,
    token: String,
    nonce: u64,
}

impl Driver {
    fn env(&self) -> Env<'_> {
        Env {
            now_ms: NOW,
            nonce: format!("inv-{}", self.nonce),
            limits: &self.limits,
            resolve: &resolve,
        }
    }

    /// A new execution with one invocation in flight.
    fn new(limits: Limits) -> Self {
        let mut state = new_execution(
            StartParams {
                arn: "arn:aws:lambda:us-east-1:000000000000:function:dev-orchestrator:$LATEST/durable-execution/bench/1".into(),
                function_name: "dev-orchestrator".into(),
                name: "bench".into(),
                id: "1".into(),
                input: json!({ "Records": [] }).to_string(),
                timeout_s: 900,
                tenant_id: None,
                parent: None,
            },
            NOW,
        );
        state.take_delta();
        let mut d = Self {
            state,
            limits,
            token: String::new(),
            nonce: 0,
        };
        let actions = d.apply(Command::Kick);
        let Some(Action::Invoke { envelope, .. }) = actions.first() else {
            panic!("no invocation: {actions:?}");
        };
        d.token = envelope["CheckpointToken"].as_str().unwrap().to_owned();
        d
    }

    fn apply(&mut self, command: Command) -> Vec<Action> {
        self.nonce += 1;
        let env = Env {
            now_ms: NOW,
            nonce: format!("inv-{}", self.nonce),
            limits: &self.limits,
            resolve: &resolve,
        };
        let actions = apply(&mut self.state, command, &env).unwrap();
        self.state.take_delta();
        actions
    }

    fn checkpoint(&mut self, updates: Value) {
        let command = Command::Checkpoint {
            token: self.token.clone(),
            client_token: Some(format!("c-{}", self.nonce)),
            updates: serde_json::from_value(updates).unwrap(),
        };
        let actions = self.apply(command);
        let Some(Action::Reply(body)) = actions.first() else {
            panic!("no reply: {actions:?}");
        };
        self.token = body["CheckpointToken"].as_str().unwrap().to_owned();
    }

    /// Appends one orchestrated record (7 operations), as the SDK checkpoints it.
    fn add_record(&mut self, i: usize) {
        let item = format!("r{i}");
        self.checkpoint(json!([{"Id": item, "ParentId": "records", "Name": format!("msg-{i}"), "Type": "CONTEXT", "Action": "START"}]));
        for stage in STAGES {
            let retry = format!("{item}-{stage}");
            let invoke = format!("{retry}-invoke");
            self.checkpoint(json!([
                {"Id": retry, "ParentId": item, "Name": format!("retry-{stage}-msg-{i}"), "Type": "CONTEXT", "Action": "START"},
                {"Id": invoke, "ParentId": retry, "Name": format!("{stage}-msg-{i}"), "Type": "CHAINED_INVOKE", "Action": "START",
                 "Payload": record_json(i, "input"), "ChainedInvokeOptions": {"FunctionName": format!("dev-{stage}")}},
            ]));
            self.apply(Command::ChainedDone {
                op_id: invoke,
                outcome: ChainedOutcome {
                    status: OpStatus::Succeeded,
                    result: Some(record_json(i, stage)),
                    error: None,
                },
            });
            self.checkpoint(json!([{"Id": retry, "ParentId": item, "Type": "CONTEXT", "Action": "SUCCEED", "Payload": record_json(i, stage)}]));
        }
        self.checkpoint(json!([{"Id": item, "ParentId": "records", "Type": "CONTEXT", "Action": "SUCCEED", "Payload": record_json(i, "store")}]));
    }

    /// An execution with at least `ops` operations, a STEP `open-step` STARTed last.
    fn with_ops(ops: usize) -> Self {
        let mut d = Self::new(Limits {
            max_operations: ops + 100,
            ..Limits::default()
        });
        d.checkpoint(
            json!([{"Id": "records", "Name": "records", "Type": "CONTEXT", "Action": "START"}]),
        );
        let mut i = 0;
        while d.state.ops().len() + 1 < ops {
            d.add_record(i);
            i += 1;
        }
        d.checkpoint(
            json!([{"Id": "open-step", "Name": "open-step", "Type": "STEP", "Action": "START"}]),
        );
        d
    }
}

fn updates(value: Value) -> Vec<OperationUpdate> {
    serde_json::from_value(value).unwrap()
}

fn checkpoint_benches(c: &mut Criterion) {
    let base = Driver::with_ops(150);
    let mut group = c.benchmark_group("apply_checkpoint");
    let ops = base.state.ops().len();
    let env = base.env();

    let succeed = updates(json!([
        {"Id": "open-step", "Name": "open-step", "Type": "STEP", "Action": "SUCCEED", "Payload": record_json(0, "step")}
    ]));
    group.bench_function(BenchmarkId::new("step_succeed", ops), |b| {
        b.iter_batched(
            || (base.state.clone(), succeed.clone()),
            |(mut state, updates)| {
                let command = Command::Checkpoint {
                    token: base.token.clone(),
                    client_token: Some("bench".into()),
                    updates,
                };
                black_box(apply(&mut state, command, &env).unwrap());
                state
            },
            BatchSize::SmallInput,
        );
    });

    // 10 updates: 5 records' item CONTEXT START + their first CHAINED_INVOKE START under it.
    let starts: Vec<Value> = (1000..1005)
        .flat_map(|i| {
            let item = format!("r{i}");
            [
                json!({"Id": item, "ParentId": "records", "Name": format!("msg-{i}"), "Type": "CONTEXT", "Action": "START"}),
                json!({"Id": format!("{item}-validate-invoke"), "ParentId": item, "Name": format!("validate-msg-{i}"),
                       "Type": "CHAINED_INVOKE", "Action": "START", "Payload": record_json(i, "input"),
                       "ChainedInvokeOptions": {"FunctionName": "dev-validate"}}),
            ]
        })
        .collect();
    let starts = updates(Value::Array(starts));
    group.bench_function(BenchmarkId::new("batch_of_10_starts", ops), |b| {
        b.iter_batched(
            || (base.state.clone(), starts.clone()),
            |(mut state, updates)| {
                let command = Command::Checkpoint {
                    token: base.token.clone(),
                    client_token: Some("bench".into()),
                    updates,
                };
                black_box(apply(&mut state, command, &env).unwrap());
                state
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

fn state_page_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("state_page");
    for target in [150, 3_000] {
        let d = Driver::with_ops(target);
        let ops = d.state.ops().len();
        let env = d.env();
        // GetState does not mutate, so one copy serves every iteration.
        let mut state = d.state.clone();
        // GetDurableExecutionState, first page (default page size: 100 ops), then the JSON text.
        group.bench_function(BenchmarkId::new("get_state_first_page", ops), |b| {
            b.iter(|| {
                let command = Command::GetState {
                    token: d.token.clone(),
                    marker: None,
                    max_items: None,
                };
                let actions = apply(&mut state, command, &env).unwrap();
                let Some(Action::Reply(body)) = actions.first() else {
                    panic!("no reply");
                };
                black_box(body.to_string())
            });
        });
        // The invocation envelope's InitialExecutionState (up to 1,000 ops), built on every
        // (re-)invocation, then the JSON text.
        group.bench_function(BenchmarkId::new("envelope_first_page", ops), |b| {
            b.iter(|| {
                let (page, marker) = first_page(&d.state, &d.limits);
                black_box((serde_json::to_string(&page).unwrap(), marker))
            });
        });
    }
    group.finish();
}

criterion_group!(benches, checkpoint_benches, state_page_benches);
criterion_main!(benches);
