//! `conformance-handler`: a Lambda `bootstrap` running one conformance requirement's function,
//! as the function would run on AWS: `lambda_runtime` polls the Runtime API at
//! `AWS_LAMBDA_RUNTIME_API`, and the SDK inside the handler checkpoints to
//! `AWS_ENDPOINT_URL_LAMBDA`.
//!
//! Environment (besides Lambda's): `DURAPIPE_CONFORMANCE_HANDLER`, the requirement id
//! (`step/1-17`), and `DURAPIPE_CONFORMANCE_NAME`, the name its entry function was installed
//! under; the function run is the one named `AWS_LAMBDA_FUNCTION_NAME` (the entry function or
//! one of the requirement's helpers). Log lines go to stdout as JSON objects whose `message` is
//! a top-level field, which is what the suite's `ExpectedLogs` read.

use std::process::ExitCode;

use anyhow::Context as _;
use durapipe_conformance::handlers;
use durapipe_conformance::host::{Host, Wrapped};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;

fn env(name: &str) -> anyhow::Result<String> {
    std::env::var(name).with_context(|| format!("the environment variable {name} is not set"))
}

/// The function this process runs.
fn function() -> anyhow::Result<Wrapped> {
    let id = env("DURAPIPE_CONFORMANCE_HANDLER")?;
    let base = env("DURAPIPE_CONFORMANCE_NAME")?;
    let name = env("AWS_LAMBDA_FUNCTION_NAME")?;
    let endpoint = env("AWS_ENDPOINT_URL_LAMBDA")?;
    let install = handlers::all()
        .into_iter()
        .find(|(i, _)| *i == id)
        .map(|(_, install)| install)
        .with_context(|| format!("no conformance handler has the id {id:?}"))?;
    let host = Host::collecting(durapipe_durable::lambda_client(&endpoint));
    install(&host, &base).with_context(|| format!("installing {id}"))?;
    let registered = host.collected();
    let names: Vec<&str> = registered.iter().map(|(n, _)| n.as_str()).collect();
    let listed = names.join(", ");
    registered
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| f)
        .with_context(|| format!("{id} registers no function {name:?} (it registers {listed})"))
}

async fn serve(f: Wrapped) -> Result<(), lambda_runtime::Error> {
    match f {
        Wrapped::Durable(f) => lambda_runtime::run(service_fn(move |event| f(event))).await,
        Wrapped::Plain(f) => {
            lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
                let f = f.clone();
                async move {
                    f(event.payload).await.map_err(|e| Diagnostic {
                        error_type: e.error_type,
                        error_message: e.error_message,
                    })
                }
            }))
            .await
        }
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_writer(std::io::stdout)
        .init();
    handlers::crash_exits_the_process();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("conformance-handler: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(async {
        let f = function()?;
        serve(f)
            .await
            .map_err(|e| anyhow::anyhow!("the runtime failed: {e}"))
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("conformance-handler: {e:#}");
            ExitCode::FAILURE
        }
    }
}
