//! The DynamoDB facade (`durapipe_local::dynamodb::handle`: decode the body for the operation,
//! run it against the table store, encode the answer) never panics and answers any input with
//! a JSON object: a success or an AWS error with `__type`, never a 5xx. Input:
//! `Operation\nbody`.
#![no_main]

use std::sync::OnceLock;

use durapipe_fuzz::{Answer, Facade, World};
use durapipe_local::dynamodb::Tables;
use libfuzzer_sys::fuzz_target;

struct Dynamodb(Tables);

impl Facade for Dynamodb {
    fn handle<'a>(&'a self, operation: &'a str, body: &'a [u8]) -> Answer<'a> {
        Box::pin(durapipe_local::dynamodb::handle(&self.0, operation, body))
    }
}

/// Table `tbl` (hash key `id`, string) exists and holds an item.
fn world() -> &'static World<Dynamodb> {
    static WORLD: OnceLock<World<Dynamodb>> = OnceLock::new();
    WORLD.get_or_init(|| {
        World::new(
            |db, clock| async move {
                Dynamodb(Tables::open(db, clock).await.expect("open tables"))
            },
            &[
                (
                    "CreateTable",
                    r#"{"TableName":"tbl","KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}"#,
                ),
                (
                    "PutItem",
                    r#"{"TableName":"tbl","Item":{"id":{"S":"a"},"n":{"N":"1"},"m":{"M":{"l":{"L":[{"S":"x"},{"BOOL":true}]}}}}}"#,
                ),
            ],
        )
    })
}

fuzz_target!(|data: &[u8]| world().run(data));
