//! The DynamoDB facade (`durapipe_local::dynamodb::handle`: decode the body for the operation,
//! run it against the table store, encode the answer) never panics and answers any input with
//! a JSON object: a success or an AWS error with `__type`, never a 5xx. Input:
//! `Operation\nbody`.
#![no_main]

use std::sync::{Arc, OnceLock};

use durapipe_fuzz::{check_response, clock, runtime, split_request, temp_database};
use durapipe_local::dynamodb::Tables;
use durapipe_local::ManualClock;
use libfuzzer_sys::fuzz_target;

struct World {
    rt: tokio::runtime::Runtime,
    clock: Arc<ManualClock>,
    tables: Tables,
    _dir: tempfile::TempDir,
}

/// One store for the whole run: table `tbl` (hash key `id`, string) exists and holds an item.
fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let rt = runtime();
        let (dir, db) = temp_database();
        let clock = clock();
        let tables = rt.block_on(async {
            let tables = Tables::open(db, clock.clone()).await.expect("open tables");
            for (op, body) in [
                (
                    "CreateTable",
                    r#"{"TableName":"tbl","KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}"#,
                ),
                (
                    "PutItem",
                    r#"{"TableName":"tbl","Item":{"id":{"S":"a"},"n":{"N":"1"},"m":{"M":{"l":{"L":[{"S":"x"},{"BOOL":true}]}}}}}"#,
                ),
            ] {
                let response = durapipe_local::dynamodb::handle(&tables, op, body.as_bytes()).await;
                assert!(response.status().is_success(), "setup {op}: {}", response.status());
            }
            tables
        });
        World {
            rt,
            clock,
            tables,
            _dir: dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    let (operation, body) = split_request(data);
    w.clock.advance_ms(1_000);
    w.rt.block_on(async {
        let response = durapipe_local::dynamodb::handle(&w.tables, &operation, body).await;
        check_response(&operation, response).await;
    });
});
