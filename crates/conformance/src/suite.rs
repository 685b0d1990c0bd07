//! The whole suite: every requirement file, run concurrently (bounded), each on its own stack.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::handlers::{self, Install};
use crate::report::{self, Status};
use crate::requirement::{self, Requirement};
use crate::runner::{self, Verdict};

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The `test_requirements` directory of the unpacked wheel.
    pub requirements: PathBuf,
    /// `not-applicable.txt`.
    pub not_applicable: PathBuf,
    /// Only ids starting with one of these (all when empty).
    pub only: Vec<String>,
    /// Requirements run at the same time.
    pub jobs: usize,
    /// Wall-time limit of one requirement.
    pub limit: Duration,
}

/// One requirement's result.
#[derive(Debug, Clone)]
pub struct Result {
    /// `suite/N-M`.
    pub id: String,
    /// Passed, failed or not applicable.
    pub status: Status,
    /// Why it failed.
    pub errors: Vec<String>,
    /// Wall time.
    pub wall: Duration,
    /// Virtual time the clock skipped.
    pub skipped: Duration,
    /// The file has `ExpectedLogs`, which are not checked.
    pub logs_unchecked: bool,
}

/// Runs the selected requirements; `on_result` sees each result as it arrives. Results come back
/// in id order.
///
/// # Errors
/// The requirement files or the not-applicable list cannot be read.
pub async fn run(
    options: &Options,
    mut on_result: impl FnMut(&Result),
) -> anyhow::Result<Vec<Result>> {
    let all = requirement::load_dir(&options.requirements)?;
    let not_applicable = report::read_not_applicable(&options.not_applicable)?;
    let installs: HashMap<&'static str, Install> = handlers::all().into_iter().collect();
    let selected: Vec<Requirement> = all
        .into_iter()
        .filter(|r| options.only.is_empty() || options.only.iter().any(|p| r.id.starts_with(p)))
        .collect();
    let permits = Arc::new(tokio::sync::Semaphore::new(options.jobs.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let mut results = Vec::new();
    for req in selected {
        let logs_unchecked = req.has_expected_logs;
        if let Some(reason) = report::not_applicable(&not_applicable, &req.id) {
            let r = Result {
                id: req.id.clone(),
                status: Status::NotApplicable(reason.to_owned()),
                errors: Vec::new(),
                wall: Duration::ZERO,
                skipped: Duration::ZERO,
                logs_unchecked,
            };
            on_result(&r);
            results.push(r);
            continue;
        }
        let Some(&install) = installs.get(req.id.as_str()) else {
            let r = Result {
                id: req.id.clone(),
                status: Status::Failed,
                errors: vec!["no handler for this requirement".into()],
                wall: Duration::ZERO,
                skipped: Duration::ZERO,
                logs_unchecked,
            };
            on_result(&r);
            results.push(r);
            continue;
        };
        let permits = permits.clone();
        let limit = options.limit;
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let started = Instant::now();
            let (verdict, skipped) = runner::run(&req, install, limit).await;
            let (status, errors) = match verdict {
                Verdict::Passed => (Status::Passed, Vec::new()),
                Verdict::Failed(e) => (Status::Failed, e),
            };
            Result {
                id: req.id,
                status,
                errors,
                wall: started.elapsed(),
                skipped,
                logs_unchecked,
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let r = match joined {
            Ok(r) => r,
            Err(e) => anyhow::bail!("a requirement task failed: {e}"),
        };
        on_result(&r);
        results.push(r);
    }
    results.sort_by_key(|r| requirement::sort_key(&r.id));
    Ok(results)
}
