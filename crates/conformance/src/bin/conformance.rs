//! `conformance`: runs AWS's durable-execution conformance requirements against the local
//! durable service and prints one line per requirement, a per-suite table, and last
//! `conformance: P passed, F failed, N not applicable (of T)`. Exits non-zero when a
//! requirement of the expected-pass list did not pass.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use durapipe_conformance::report::{self, Status};
use durapipe_conformance::stack::Hosting;
use durapipe_conformance::suite::{self, Options};

#[derive(Debug, Parser)]
#[command(about = "Runs AWS's durable-execution conformance requirements against durapipe")]
struct Args {
    /// The `test_requirements` directory of the unpacked conformance wheel.
    #[arg(long, env = "DURAPIPE_CONFORMANCE_REQUIREMENTS")]
    requirements: PathBuf,
    /// Requirements that must pass (one id per line).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/expected-pass.txt"))]
    expected: PathBuf,
    /// Requirements that do not apply (`id: reason` per line).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/not-applicable.txt"))]
    not_applicable: PathBuf,
    /// Only requirements whose id starts with this (repeatable), e.g. `callback/` or `step/1-1`.
    #[arg(long)]
    only: Vec<String>,
    /// Requirements run at the same time.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: u16,
    /// Wall-time limit of one requirement, seconds.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=3600))]
    limit: u64,
    /// Print every error of a failed requirement (default: the first three).
    #[arg(long, short)]
    verbose: bool,
    /// Run the handlers in the harness's own process instead of as `conformance-handler`
    /// processes (crashes become panics; `ExpectedLogs` cannot be checked).
    #[arg(long)]
    in_process: bool,
    /// Rewrite the expected-pass list with the requirements that passed in this run.
    #[arg(long)]
    update_expected: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("conformance: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("conformance: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let expected = report::read_expected(&args.expected)?;
    let options = Options {
        requirements: args.requirements.clone(),
        not_applicable: args.not_applicable.clone(),
        only: args.only.clone(),
        jobs: usize::from(args.jobs),
        limit: Duration::from_secs(args.limit),
        hosting: if args.in_process {
            Hosting::InProcess
        } else {
            Hosting::process()?
        },
    };
    let started = Instant::now();
    let verbose = args.verbose;
    let results = suite::run(&options, |r| match &r.status {
        Status::Passed => println!(
            "PASS {} ({:.1} s wall, {} s skipped)",
            r.id,
            r.wall.as_secs_f64(),
            r.skipped.as_secs()
        ),
        Status::NotApplicable(reason) => println!("N/A  {}: {reason}", r.id),
        Status::Failed => {
            println!("FAIL {} ({:.1} s wall)", r.id, r.wall.as_secs_f64());
            let shown = if verbose { r.errors.len() } else { 3 };
            for e in r.errors.iter().take(shown) {
                println!("       {e}");
            }
            if r.errors.len() > shown {
                println!("       ... {} more", r.errors.len() - shown);
            }
        }
    })
    .await?;
    let statuses: Vec<(String, Status)> = results
        .iter()
        .map(|r| (r.id.clone(), r.status.clone()))
        .collect();
    println!();
    println!(
        "{:<20} {:>6} {:>6} {:>6}",
        "suite", "passed", "failed", "n/a"
    );
    for (suite, (p, f, n)) in report::by_suite(&statuses) {
        println!("{suite:<20} {p:>6} {f:>6} {n:>6}");
    }
    println!("wall time: {:.1} s", started.elapsed().as_secs_f64());
    if args.update_expected {
        let passed: Vec<&str> = statuses
            .iter()
            .filter(|(_, s)| *s == Status::Passed)
            .map(|(id, _)| id.as_str())
            .collect();
        let text = format!(
            "# Conformance requirements that pass; scripts/conformance fails when one of them \
             does not.\n# Regenerate with scripts/conformance --update-expected.\n{}\n",
            passed.join("\n")
        );
        std::fs::write(&args.expected, text)?;
        println!("wrote {} ids to {}", passed.len(), args.expected.display());
    }
    let regressions = if args.only.is_empty() {
        report::regressions(&expected, &statuses)
    } else {
        let ran: Vec<String> = expected
            .iter()
            .filter(|id| statuses.iter().any(|(r, _)| r == *id))
            .cloned()
            .collect();
        report::regressions(&ran, &statuses)
    };
    if !regressions.is_empty() && !args.update_expected {
        println!("expected to pass but did not: {}", regressions.join(", "));
    }
    println!("{}", report::summary_line(&statuses));
    Ok(if regressions.is_empty() || args.update_expected {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
