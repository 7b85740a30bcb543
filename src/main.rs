//! The `stagebench` binary: parse, run, print the error chain once, exit.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // As OS strings: `std::env::args` panics on an argument that is not UTF-8, where clap
    // accepts it as a path or refuses it with a sentence naming the flag. The copy kept for
    // meta.json is lossy: it is read by people, never parsed again.
    let command_line: Vec<String> = std::env::args_os()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
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
            let section = stagebench::docs::section_for(&error);
            eprintln!(
                "stagebench: {}",
                stagebench::docs::with_pointer(&format!("{error:#}"), section)
            );
            ExitCode::FAILURE
        }
    }
}
