//! Checked settings for a run, made from the raw flags in one step so that every mistake in
//! them is reported before the first build starts.

use std::path::PathBuf;
use std::time::Duration;

use time::OffsetDateTime;
use time::macros::format_description;

use crate::builder::Builder;
use crate::cache_mode::CacheMode;
use crate::cli::RunArgs;
use crate::error::ScenarioError;
use crate::plan::PlanSettings;
use crate::scenario::{BuildArgs, MANIFEST_FILE, Scenario, Variant};

/// Where results go.
#[derive(Debug, Clone)]
pub enum OutputLocation {
    /// `--out DIR`: every scenario's rows in one folder.
    Explicit(PathBuf),
    /// `reports/<scenario>/<timestamp>/` for each scenario.
    Default {
        /// The `reports` folder.
        reports_root: PathBuf,
        /// UTC start time, e.g. `20261128T043000Z`.
        timestamp: String,
    },
}

/// Everything `stagebench run` needs, checked.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Scenarios, loaded and checked.
    pub scenarios: Vec<Scenario>,
    /// Timed runs per variant and cache mode.
    pub runs: u32,
    /// Warmup runs per variant and cache mode.
    pub warmup: u32,
    /// Cache modes, in measuring order, without repeats.
    pub cache_modes: Vec<CacheMode>,
    /// Builder.
    pub builder: Builder,
    /// Variant names to build; empty means all.
    pub variants: Vec<String>,
    /// Profile name.
    pub profile: Option<String>,
    /// `--build-arg` values.
    pub build_args: BuildArgs,
    /// Results location.
    pub out: OutputLocation,
    /// Per-build limit.
    pub timeout: Option<Duration>,
    /// Keep every image built.
    pub keep_images: bool,
    /// The command line, for meta.json.
    pub command_line: Vec<String>,
}

impl RunSettings {
    /// Loads the scenarios and checks every flag against them.
    pub fn from_args(
        args: &RunArgs,
        command_line: Vec<String>,
    ) -> Result<RunSettings, ScenarioError> {
        let scenarios = args
            .scenarios
            .iter()
            .map(|dir| Scenario::load(dir))
            .collect::<Result<Vec<_>, _>>()?;
        for scenario in &scenarios {
            for name in &args.variants {
                if !scenario.variants.iter().any(|v| &v.name == name) {
                    return Err(ScenarioError::Invalid {
                        file: scenario.dir.clone(),
                        message: format!(
                            "has no variant `{name}` (variants: {})",
                            scenario
                                .variants
                                .iter()
                                .map(|v| v.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                }
            }
            if let Some(profile) = &args.profile {
                scenario.profile(profile)?;
            }
        }
        let mut names: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        if let Some(pair) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(ScenarioError::Invalid {
                file: PathBuf::from(MANIFEST_FILE),
                message: format!("two scenarios are both named `{}`", pair[0]),
            });
        }
        let out = match &args.out {
            Some(dir) => OutputLocation::Explicit(dir.clone()),
            None => OutputLocation::Default {
                reports_root: PathBuf::from("reports"),
                timestamp: utc_timestamp(),
            },
        };
        Ok(RunSettings {
            scenarios,
            runs: args.runs,
            warmup: args.warmup,
            cache_modes: CacheMode::ALL
                .into_iter()
                .filter(|m| args.cache.contains(m))
                .collect(),
            builder: args.builder,
            variants: args.variants.clone(),
            profile: args.profile.clone(),
            build_args: args.build_args.iter().cloned().collect(),
            out,
            timeout: args.timeout.map(Duration::from_secs_f64),
            keep_images: args.keep_images,
            command_line,
        })
    }

    /// The variants of `scenario` this run builds.
    pub fn selected_variants<'s>(&self, scenario: &'s Scenario) -> Vec<&'s Variant> {
        scenario
            .variants
            .iter()
            .filter(|v| self.variants.is_empty() || self.variants.contains(&v.name))
            .collect()
    }

    /// The chosen profile's build arguments for `scenario` (checked to exist when loading).
    pub fn profile_args<'s>(&self, scenario: &'s Scenario) -> Option<&'s BuildArgs> {
        self.profile.as_ref().and_then(|p| scenario.profiles.get(p))
    }

    /// What the planner needs from these settings.
    pub fn plan_settings(&self) -> PlanSettings {
        PlanSettings {
            runs: self.runs,
            warmup: self.warmup,
            cache_modes: self.cache_modes.clone(),
            builder: self.builder,
        }
    }

    /// Number of builds the plan will run, for the progress bar.
    pub fn planned_builds(&self) -> u64 {
        self.scenarios
            .iter()
            .map(|s| {
                let plan = crate::plan::plan_scenario(
                    self.selected_variants(s).len(),
                    !s.touch.is_empty(),
                    &self.plan_settings(),
                );
                (plan.builds.len() + s.prebuilds.len()) as u64
            })
            .sum()
    }
}

fn utc_timestamp() -> String {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_else(|_| "run".to_string())
}
