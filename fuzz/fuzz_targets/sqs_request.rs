//! The SQS facade (`durapipe_local::sqs::handle`: decode the body for the operation, run it
//! against the queue store, encode the answer) never panics and answers any input with a JSON
//! object: a success or an AWS error with `__type`, never a 5xx. Input: `Operation\nbody`.
#![no_main]

use std::sync::{Arc, OnceLock};

use durapipe_fuzz::{check_response, clock, runtime, split_request, temp_database};
use durapipe_local::sqs::{QueueConfig, Queues};
use durapipe_local::ManualClock;
use libfuzzer_sys::fuzz_target;

const HOST: &str = "localhost:4566";

struct World {
    rt: tokio::runtime::Runtime,
    clock: Arc<ManualClock>,
    queues: Queues,
    _dir: tempfile::TempDir,
}

/// One store for the whole run (opening SQLite per input would dominate): queues `q` and `dlq`
/// exist (with a redrive policy) and `q` holds a message, so the operations reach real rows.
fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let rt = runtime();
        let (dir, db) = temp_database();
        let clock = clock();
        let queues = rt.block_on(async {
            let queues = Queues::open(db, clock.clone(), QueueConfig::default())
                .await
                .expect("open queues");
            for (op, body) in [
                ("CreateQueue", r#"{"QueueName":"dlq"}"#),
                (
                    "CreateQueue",
                    r#"{"QueueName":"q","Attributes":{"RedrivePolicy":"{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:dlq\",\"maxReceiveCount\":\"2\"}"}}"#,
                ),
                (
                    "SendMessage",
                    r#"{"QueueUrl":"http://localhost:4566/000000000000/q","MessageBody":"{\"data_source\":\"a\",\"processing_type\":\"b\"}"}"#,
                ),
            ] {
                let response = durapipe_local::sqs::handle(&queues, op, HOST, body.as_bytes()).await;
                assert!(response.status().is_success(), "setup {op}: {}", response.status());
            }
            queues
        });
        World {
            rt,
            clock,
            queues,
            _dir: dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    let (operation, body) = split_request(data);
    w.clock.advance_ms(1_000);
    w.rt.block_on(async {
        let response = durapipe_local::sqs::handle(&w.queues, &operation, HOST, body).await;
        check_response(&operation, response).await;
    });
});
