//! `stagebench list`: each scenario under a directory with its variants, prebuilds, profiles and
//! description, or why it is invalid.

use std::process::ExitCode;

use crate::cli::ListArgs;
use crate::commands::EXIT_FAILURE;
use crate::scenario::{self, Scenario};

pub(crate) fn list_command(args: &ListArgs) -> anyhow::Result<ExitCode> {
    let dirs = scenario::discover(&args.dir)?;
    if dirs.is_empty() {
        crate::outln!("no scenarios under {}", args.dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let mut broken = 0;
    for dir in dirs {
        match Scenario::load(&dir) {
            Ok(scenario) => {
                let variants: Vec<String> = scenario
                    .variants
                    .iter()
                    .map(|v| {
                        if scenario.baseline.as_deref() == Some(&v.name) {
                            format!("{} (baseline)", v.name)
                        } else {
                            v.name.clone()
                        }
                    })
                    .collect();
                crate::outln!("{}  {}", scenario.name, dir.display());
                crate::outln!("    variants: {}", variants.join(", "));
                if !scenario.prebuilds.is_empty() {
                    let tags: Vec<&str> =
                        scenario.prebuilds.iter().map(|p| p.tag.as_str()).collect();
                    crate::outln!("    prebuilds: {}", tags.join(", "));
                }
                if !scenario.profiles.is_empty() {
                    let names: Vec<String> = scenario
                        .profiles
                        .keys()
                        .map(|name| match scenario.profile_runs.get(name) {
                            Some(runs) => format!("{name} ({runs} runs)"),
                            None => name.clone(),
                        })
                        .collect();
                    crate::outln!("    profiles: {}", names.join(", "));
                }
                if let Some(description) = &scenario.description {
                    crate::outln!("    {description}");
                }
            }
            Err(error) => {
                broken += 1;
                crate::outln!("{}  INVALID: {error}", dir.display());
            }
        }
    }
    Ok(if broken > 0 {
        ExitCode::from(EXIT_FAILURE)
    } else {
        ExitCode::SUCCESS
    })
}
