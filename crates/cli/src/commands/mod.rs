//! One module per subcommand.

mod actions;
mod bench;
mod dlq;
mod executions;
mod scan;
mod send;
mod timeline;
mod up;

use crate::args::{Cli, Command, DlqCommand};

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Up(args) => up::run(args).await,
        Command::Bench(args) => bench::run(args).await,
        Command::Send(args) => send::run(args).await,
        Command::Scan(target) => scan::run(&target).await,
        Command::Executions(args) => executions::list(args).await,
        Command::History(args) => executions::history(args).await,
        Command::Dlq(DlqCommand::List(target)) => dlq::list(&target).await,
        Command::Dlq(DlqCommand::Redrive(target)) => dlq::redrive(&target).await,
        Command::Stop(args) => actions::stop(args).await,
        Command::Callback(command) => actions::callback(command).await,
    }
}
