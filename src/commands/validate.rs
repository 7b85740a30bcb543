//! `stagebench validate`: every problem in the scenarios named, before any build runs.

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::ValidateArgs;
use crate::commands::EXIT_FAILURE;
use crate::context::BuildContext;
use crate::dockerfile;
use crate::engine::{BuildEngine, Endpoint, Engine};
use crate::scenario::{self, Scenario};

pub(crate) async fn validate_command(args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    if let Some(access) = crate::config::registry_access(args.registry.as_deref())? {
        access.client()?.check().await?;
    }
    // One connection for all scenarios; without a daemon the static checks still run.
    let engine = match Endpoint::from_environment() {
        Ok(endpoint) => Engine::connect(&endpoint).await,
        Err(error) => Err(crate::error::EngineError::Unreachable {
            endpoint: "DOCKER_HOST".to_string(),
            reason: error.to_string(),
        }),
    };
    let mut problems_total = 0;
    for dir in &args.scenarios {
        let problems = validate_scenario(dir, args.profile.as_deref(), engine.as_ref()).await;
        match problems {
            Ok(problems) if problems.is_empty() => crate::outln!("ok: {}", dir.display()),
            Ok(problems) => {
                problems_total += problems.len();
                for problem in problems {
                    crate::outln!("problem: {problem}");
                }
            }
            Err(error) => {
                problems_total += 1;
                let section = crate::docs::section_for(&error);
                crate::outln!(
                    "problem: {}",
                    crate::docs::with_pointer(&format!("{error:#}"), section)
                );
            }
        }
    }
    Ok(if problems_total > 0 {
        ExitCode::from(EXIT_FAILURE)
    } else {
        ExitCode::SUCCESS
    })
}

/// Every problem found in one scenario, each a sentence naming the file at fault.
async fn validate_scenario(
    dir: &std::path::Path,
    profile: Option<&str>,
    engine: Result<&Engine, &crate::error::EngineError>,
) -> anyhow::Result<Vec<String>> {
    let scenario = Scenario::load(dir)?;
    let profile_args = match profile {
        Some(name) => Some(scenario.profile(name)?),
        None => None,
    };
    let mut problems = Vec::new();
    let prebuild_tags: Vec<&str> = scenario.prebuilds.iter().map(|p| p.tag.as_str()).collect();
    let no_args = scenario::BuildArgs::new();
    let builds = scenario
        .variants
        .iter()
        .map(|v| (&v.dockerfile, &scenario.context_dir, &v.build_args))
        .chain(
            scenario
                .prebuilds
                .iter()
                .map(|p| (&p.dockerfile, &p.context_dir, &p.build_args)),
        );
    let mut images = Vec::new();
    for (dockerfile_path, context_dir, own_args) in builds {
        if let Err(error) =
            BuildContext::new(context_dir, dockerfile_path).and_then(|c| c.included_paths())
        {
            problems.push(error.to_string());
        }
        let text = crate::text_file::read_string_no_follow(dockerfile_path)
            .with_context(|| format!("cannot read {}", dockerfile_path.display()))?;
        let args = scenario.merged_build_args(own_args, profile_args, &no_args);
        let facts = dockerfile::read_facts(&text, &args);
        if let Some(syntax) = facts.syntax_directive {
            problems.push(format!(
                "{}:1: `# syntax={syntax}` makes BuildKit pull a frontend image, which fails without a registry; the built-in frontend needs no directive",
                dockerfile_path.display()
            ));
        }
        for image in facts.images {
            if !prebuild_tags.contains(&image.name.as_str()) {
                images.push((dockerfile_path.clone(), image));
            }
        }
    }
    match engine {
        Ok(engine) => {
            for (path, image) in images {
                if engine.image(&image.name).await?.is_some() {
                    continue;
                }
                if let Err(error) = engine.check_pullable(&image.name).await {
                    problems.push(format!(
                        "{}:{}: image {} is not present locally and cannot be pulled ({error})",
                        path.display(),
                        image.line,
                        image.name
                    ));
                }
            }
        }
        Err(error) if !images.is_empty() => {
            problems.push(format!("base images not checked: {error}"));
        }
        Err(_) => {}
    }
    Ok(problems)
}
