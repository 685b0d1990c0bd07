//! A differential test of the DynamoDB endpoint against moto's server (started here from the
//! tools venv): the same generated operations and expressions (conditions, filters, key
//! conditions, projections, updates; single items, batches, transactions) must give the same
//! items and the same error codes. See `support/dynamodb_differential.py` for the generator and
//! the known moto gaps it avoids.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "../../aws/tests/support/moto.rs"]
mod moto_server;

use moto_server::Moto;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_operations_agree_with_moto() {
    let stack = common::stack().await;
    let moto = Moto::start(common::venv_python().with_file_name("moto_server"));
    for seed in [1, 2, 3] {
        let out = common::support_script("dynamodb_differential.py")
            .args([&stack.endpoint, &moto.endpoint, &seed.to_string(), "150"])
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "seed {seed}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["compared"], 150);
        assert_eq!(
            report["mismatch_count"],
            0,
            "seed {seed}: {}",
            serde_json::to_string_pretty(&report).unwrap()
        );
    }
}
