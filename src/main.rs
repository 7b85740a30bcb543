//! The `stagebench` binary: parse, run, print the error chain once, exit.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let command_line: Vec<String> = std::env::args().collect();
    let cli = stagebench::cli::Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("stagebench: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(stagebench::app::run(cli, command_line)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("stagebench: {error:#}");
            ExitCode::FAILURE
        }
    }
}
