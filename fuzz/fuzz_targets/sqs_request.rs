//! The SQS facade (`durapipe_local::sqs::handle`: decode the body for the operation, run it
//! against the queue store, encode the answer) never panics and answers any input with a JSON
//! object: a success or an AWS error with `__type`, never a 5xx. Input: `Operation\nbody`.
#![no_main]

use std::sync::OnceLock;

use durapipe_fuzz::{Answer, Facade, World};
use durapipe_local::sqs::{QueueConfig, Queues};
use libfuzzer_sys::fuzz_target;

const HOST: &str = "localhost:4566";

struct Sqs(Queues);

impl Facade for Sqs {
    fn handle<'a>(&'a self, operation: &'a str, body: &'a [u8]) -> Answer<'a> {
        Box::pin(durapipe_local::sqs::handle(&self.0, operation, HOST, body))
    }
}

/// Queues `q` and `dlq` exist (with a redrive policy) and `q` holds a message.
fn world() -> &'static World<Sqs> {
    static WORLD: OnceLock<World<Sqs>> = OnceLock::new();
    WORLD.get_or_init(|| {
        World::new(
            |db, clock| async move {
                let queues = Queues::open(db, clock, QueueConfig::default()).await;
                Sqs(queues.expect("open queues"))
            },
            &[
                ("CreateQueue", r#"{"QueueName":"dlq"}"#),
                (
                    "CreateQueue",
                    r#"{"QueueName":"q","Attributes":{"RedrivePolicy":"{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:dlq\",\"maxReceiveCount\":\"2\"}"}}"#,
                ),
                (
                    "SendMessage",
                    r#"{"QueueUrl":"http://localhost:4566/000000000000/q","MessageBody":"{\"data_source\":\"a\",\"processing_type\":\"b\"}"}"#,
                ),
            ],
        )
    })
}

fuzz_target!(|data: &[u8]| world().run(data));
