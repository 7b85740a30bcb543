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
            if command_line_was_wrong(&error) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Whether `error` is flags that do not fit together, which exits 2 as clap's own refusals do
/// (with `run --baseline`, 1 means a regression).
fn command_line_was_wrong(error: &anyhow::Error) -> bool {
    use stagebench::config::ConfigError;
    error.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<ConfigError>(),
            Some(ConfigError::Usage(_) | ConfigError::CacheModes(_) | ConfigError::RegistryFlag(_))
        )
    })
}
