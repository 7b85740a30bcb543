//! Checked settings for a run, made from the raw flags (or from the folder being resumed) in one
//! step, so that every mistake in them is reported before the first build starts, and the
//! runner, the plan and the progress display all read the same resolved values. After it nothing
//! reads a raw flag: `handout` makes what the plan and the runner are given from these settings.

mod handout;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use time::OffsetDateTime;
use time::macros::format_description;

use crate::builder::Builder;
use crate::cache_mode::CacheMode;
use crate::cli::{
    DEFAULT_RUNS, GateArgs, MAX_RUNS, MAX_TIMEOUT_SECONDS, MAX_WARMUP, RunArgs, RunsArg,
};
use crate::compare::Thresholds;
use crate::engine::{Endpoint, EndpointError, Scheme};
use crate::error::ScenarioError;
use crate::export_targets::ExportTargets;
use crate::planned_scenario::PlannedScenario;
use crate::progress_mode::ProgressMode;
use crate::recorded_scenario::{AdHoc, ScenarioInputs};
use crate::registry::{Registry, RegistryAccess, RegistryError};
use crate::results::{ResultSet, StoreError, is_results_folder};
use crate::run_options::{DEFAULT_MAX_RUNS, DEFAULT_MIN_RUNS, RunOptions, Stopping};
use crate::scenario::{BuildArgs, MANIFEST_FILE, Scenario};
use crate::secrets::{self, BuildSecret, BuildSecretValues, Secrets};
use crate::workdir::{check_started_here, recorded_command_line};

/// Where results go.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// `--resume DIR`: the rows go on in the folder being continued.
    Resume(PathBuf),
}

/// A setting that cannot be used; the message names the flag, file or endpoint.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A scenario is wrong.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A Docker host is wrong.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// The folder to resume cannot be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The registry's credentials cannot be read.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Flags that do not fit together.
    #[error("{0}")]
    Usage(String),
    /// A CI cache mode without what it needs: a registry, a builder that imports its cache.
    #[error("{0}")]
    CacheModes(String),
    /// A `--registry` value that does not name a registry.
    #[error("{0}")]
    RegistryFlag(String),
    /// A secret that cannot be used as given: a file or variable missing, a value too short.
    #[error("{0}")]
    Secrets(String),
    /// The current directory cannot be read.
    #[error("cannot read the current directory: {0}")]
    WorkingDir(String),
    /// The folder to resume cannot be continued.
    #[error("cannot resume {}: {reason}", dir.display())]
    Resume {
        /// The folder.
        dir: PathBuf,
        /// Why.
        reason: String,
    },
}

/// The run's secrets, in one place: the values of `--secret-build-arg`, which go after every
/// other build argument; every secret value's forms, which every text the run writes or prints
/// is redacted of; and the values of `--secret`, which the BuildKit session hands to `RUN
/// --mount=type=secret`.
#[derive(Debug, Clone, Default)]
pub struct RunSecrets {
    build_arg_values: BuildArgs,
    redaction: Secrets,
    mounted: Arc<BuildSecretValues>,
}

impl RunSecrets {
    /// `text` with every form of every secret value replaced.
    pub fn redact(&self, text: &str) -> String {
        self.redaction.redact(text)
    }

    /// What redaction finds, for the daemon's streams.
    pub fn redaction(&self) -> &Secrets {
        &self.redaction
    }

    /// The values of `--secret`, for the engine's session.
    pub fn mounted(&self) -> &Arc<BuildSecretValues> {
        &self.mounted
    }
}

/// The baseline settings of a run: `--baseline` and `--save-baseline` with the gate's
/// thresholds.
#[derive(Debug, Clone)]
pub struct Gate {
    /// `--baseline NAME`: the saved run this one is compared with at its end.
    pub baseline: Option<String>,
    /// `--save-baseline NAME`: the name this run is saved under when it ran cleanly.
    pub save_baseline: Option<String>,
    /// When a change is a regression, and when the gate can judge one.
    pub thresholds: Thresholds,
    /// `--allow-different-hosts`.
    pub allow_different_hosts: bool,
}

/// When `compare` (or `run --baseline`) calls a change a regression: the gate's flags, with
/// the noise threshold of the run (or of `compare --noise-threshold`).
pub fn gate_thresholds(gate: &GateArgs, noise_threshold: f64) -> Thresholds {
    Thresholds {
        noise: noise_threshold,
        time: gate.time_threshold,
        size: gate.size_threshold,
        size_floor_bytes: gate.size_floor,
        required_runs: gate.require_runs,
    }
}

/// Everything `stagebench run` needs, checked and resolved once: after it, nothing reads a
/// flag. The runner is handed what it needs (see its `handout` module) as a
/// [`RunPolicy`](crate::run_policy::RunPolicy), a
/// [`ResultsLayout`](crate::results_layout::ResultsLayout) and the scenarios as this run builds
/// them ([`PlannedScenario`]), which the plan carries.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Scenarios, loaded and checked, in the order given.
    scenarios: Vec<Scenario>,
    /// The same scenarios as this run builds them: variants chosen, build arguments merged,
    /// image tags carrying the run's identity.
    planned: Vec<Arc<PlannedScenario>>,
    /// How they are measured; meta.json records exactly these.
    options: RunOptions,
    /// Results location.
    out: OutputLocation,
    /// The command line, for meta.json.
    command_line: Vec<String>,
    /// The Docker hosts, in the order given.
    endpoints: Vec<Endpoint>,
    /// This invocation's id, the `run_id` of its rows.
    run_id: String,
    /// The content of every scenario's inputs when the run started, in scenario order.
    inputs: Vec<ScenarioInputs>,
    /// With `--resume`: the folder as this invocation found it.
    resumed: Option<ResultSet>,
    /// Sentences about settings that work but deserve attention.
    warnings: Vec<String>,
    /// The run's secrets, in one place.
    secrets: RunSecrets,
    /// The working directory (canonical), which meta.json's paths are relative to.
    working_dir: PathBuf,
    /// `--registry` (or `STAGEBENCH_REGISTRY`) with the credentials the docker config holds
    /// for it, read once here; `options.registry` records its location only.
    registry: Option<RegistryAccess>,
    /// `--baseline` and `--save-baseline`; `None` without either.
    gate: Option<Gate>,
    /// `--export-*`: the summaries' copies and where they go.
    exports: ExportTargets,
    /// How progress is shown (`--quiet`, or whether stderr is a terminal).
    progress: ProgressMode,
}

impl RunSettings {
    /// Loads the scenarios and checks every flag against them.
    pub fn from_args(
        args: &RunArgs,
        command_line: Vec<String>,
    ) -> Result<RunSettings, ConfigError> {
        let mut settings = match &args.resume {
            Some(dir) => RunSettings::resumed_from_args(args, dir, command_line)?,
            None => RunSettings::new_from_args(args, command_line)?,
        };
        settings.gate = (args.baseline.is_some() || args.save_baseline.is_some()).then(|| Gate {
            baseline: args.baseline.clone(),
            save_baseline: args.save_baseline.clone(),
            thresholds: gate_thresholds(&args.gate, settings.options.noise_threshold),
            allow_different_hosts: args.gate.allow_different_hosts,
        });
        settings.exports = args.export.targets();
        settings.progress = ProgressMode::detect(args.quiet);
        Ok(settings)
    }

    /// `--resume DIR`: the settings recorded there, unless `--registry` names another registry.
    fn resumed_from_args(
        args: &RunArgs,
        dir: &Path,
        command_line: Vec<String>,
    ) -> Result<RunSettings, ConfigError> {
        {
            let settings = RunSettings::for_resume(dir, command_line)?;
            match (&args.registry, &settings.options.registry) {
                (Some(given), recorded) if Some(given) != recorded.as_ref() => {
                    Err(ConfigError::Resume {
                        dir: dir.to_path_buf(),
                        reason: format!(
                            "--registry (or STAGEBENCH_REGISTRY) {given} is not the registry the run started with ({}); continue it with that one",
                            recorded.as_deref().unwrap_or("none")
                        ),
                    })
                }
                _ => Ok(settings),
            }
        }
    }

    /// A new run: the scenarios loaded and every flag checked against them.
    fn new_from_args(
        args: &RunArgs,
        command_line: Vec<String>,
    ) -> Result<RunSettings, ConfigError> {
        let working_dir = working_dir()?;
        let scenarios = if args.dockerfiles.is_empty() {
            args.scenarios
                .iter()
                .map(|dir| Scenario::load(dir))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            let [context] = args.scenarios.as_slice() else {
                return Err(ConfigError::Usage(format!(
                    "--dockerfile takes exactly one build context directory, not {} directories",
                    args.scenarios.len()
                )));
            };
            vec![Scenario::ad_hoc(&AdHoc {
                context: context.clone(),
                dockerfiles: args.dockerfiles.clone(),
                touch: args.touch.clone(),
            })?]
        };
        check_variants_and_profile(&scenarios, &args.variants, args.profile.as_deref())?;
        check_unique_names(&scenarios)?;
        for scenario in &scenarios {
            scenario.check_context_reach(&working_dir, args.allow_context_above)?;
        }
        let out = match &args.out {
            Some(dir) if dir.join(crate::results::RESULTS_FILE).exists() => {
                return Err(ConfigError::Usage(format!(
                    "--out {0} already holds the results of a run; continue it with `stagebench run --resume {0}`, or give another folder",
                    dir.display()
                )));
            }
            Some(dir) => OutputLocation::Explicit(dir.clone()),
            None => OutputLocation::Default {
                reports_root: PathBuf::from("reports"),
                timestamp: utc_timestamp(OffsetDateTime::now_utc()),
            },
        };
        let endpoints = endpoints_from_flags(&args.docker_hosts, &args.contexts)?;
        let registry = registry_access(args.registry.as_deref())?;
        check_ci_modes(&args.cache, args.builder, registry.is_some())?;
        let build_secrets = parse_build_secrets(&args.secrets, args.builder, &working_dir)?;
        let (runs, stopping) = resolve_runs_and_stopping(&scenarios, args)?;
        let options = RunOptions {
            runs,
            warmup: args.warmup,
            cache_modes: CacheMode::ALL
                .into_iter()
                .filter(|m| args.cache.contains(m))
                .collect(),
            builder: args.builder,
            variants: args.variants.clone(),
            profile: args.profile.clone(),
            build_args: args.build_args.iter().cloned().collect(),
            timeout_seconds: args.timeout,
            keep_images: args.keep_images,
            rm: args.rm,
            secret_build_arg_names: args
                .secret_build_args
                .iter()
                .map(|(k, _)| k.clone())
                .collect(),
            build_secrets,
            allow_context_above: args.allow_context_above,
            seed: args.seed.unwrap_or_else(|| fastrand::u64(..)),
            on_every_host: args.on_every_host,
            prune: args.prune,
            noise_threshold: args.noise_threshold,
            registry: registry.as_ref().map(|a| a.registry.to_string()),
            stopping,
            time_budget_seconds: args.time_budget,
            gated_looks: None,
        };
        let mut settings = RunSettings::assemble(scenarios, options, endpoints, out, working_dir)?;
        settings.command_line = recorded_command_line(&command_line, &settings.working_dir);
        settings.registry = registry;
        settings.with_secrets(
            secrets::secret_build_args_from_flags(&args.secret_build_args)
                .map_err(ConfigError::Secrets)?,
        )
    }

    /// A run of `scenarios` measured as `options` on `endpoints`, into the folder `out`: what a
    /// command line resolves to, made without one (the runner's tests make their runs so). The
    /// scenarios' names, inputs and secret build arguments are checked as for `from_args`.
    pub fn new(
        scenarios: Vec<Scenario>,
        options: RunOptions,
        endpoints: Vec<Endpoint>,
        out: PathBuf,
    ) -> Result<RunSettings, ConfigError> {
        RunSettings::assemble(
            scenarios,
            options,
            endpoints,
            OutputLocation::Explicit(out),
            working_dir()?,
        )?
        .with_secrets(BuildArgs::new())
    }

    /// The settings of a new run, before its secrets: what `from_args` and `new` share.
    fn assemble(
        scenarios: Vec<Scenario>,
        options: RunOptions,
        endpoints: Vec<Endpoint>,
        out: OutputLocation,
        working_dir: PathBuf,
    ) -> Result<RunSettings, ConfigError> {
        check_unique_names(&scenarios)?;
        let (inputs, mut warnings) = scan_inputs(&scenarios, &out)?;
        warnings.extend(plain_tcp_warnings(&endpoints));
        Ok(RunSettings {
            scenarios,
            planned: Vec::new(),
            options,
            out,
            command_line: Vec::new(),
            endpoints,
            run_id: new_run_id(),
            inputs,
            resumed: None,
            warnings,
            secrets: RunSecrets::default(),
            working_dir,
            registry: None,
            gate: None,
            exports: ExportTargets::default(),
            progress: ProgressMode::Quiet,
        })
    }

    /// The settings recorded in `dir`'s meta.json, after checking that every scenario's files
    /// are as they were when the run started.
    pub fn for_resume(dir: &Path, command_line: Vec<String>) -> Result<RunSettings, ConfigError> {
        let refuse = |reason: String| ConfigError::Resume {
            dir: dir.to_path_buf(),
            reason,
        };
        if !is_results_folder(dir) {
            return Err(refuse(
                "it holds no results.csv and meta.json of a stagebench run".to_string(),
            ));
        }
        let resumed = ResultSet::load(dir)?;
        let meta = &resumed.meta;
        if !meta.merged_from.is_empty() {
            return Err(refuse(
                "it was made by `stagebench merge`; resume the folders it was merged from"
                    .to_string(),
            ));
        }
        let recorded_inputs = meta.scenarios.iter().all(|s| !s.inputs.sha256.is_empty());
        if meta.settings.hosts.is_empty()
            || meta.settings.scenario_dirs.is_empty()
            || !recorded_inputs
        {
            return Err(refuse(
                "its meta.json predates --resume (schema 1) and records no settings to continue with"
                    .to_string(),
            ));
        }
        let recorded = meta.settings.clone();
        if let Some(name) = recorded.options.secret_build_arg_names.first() {
            return Err(refuse(format!(
                "it used --secret-build-arg {name}, whose value is never recorded; start a new run"
            )));
        }
        check_recorded_bounds(&recorded.options).map_err(refuse)?;
        let working_dir = working_dir()?;
        if let Some(results_dir) = &recorded.results_dir {
            check_started_here(dir, results_dir, &working_dir).map_err(refuse)?;
        }
        let scenarios = match &recorded.ad_hoc {
            Some(spec) => vec![Scenario::ad_hoc(spec)?],
            None => recorded
                .scenario_dirs
                .iter()
                .map(|d| Scenario::load(Path::new(d)))
                .collect::<Result<Vec<_>, _>>()?,
        };
        for scenario in &scenarios {
            scenario.check_context_reach(&working_dir, recorded.options.allow_context_above)?;
        }
        let out = OutputLocation::Resume(dir.to_path_buf());
        let (inputs, mut warnings) = scan_inputs(&scenarios, &out)?;
        for (scenario, now) in scenarios.iter().zip(&inputs) {
            if let Some(earlier) = meta.scenarios.iter().find(|s| s.name == scenario.name)
                && let Some(difference) =
                    now.first_difference(&earlier.inputs.with_relative_names(&scenario.root()))
            {
                return Err(refuse(format!(
                    "in scenario {}, {difference} since the run started; start a new run instead",
                    scenario.dir.display()
                )));
            }
        }
        let endpoints = recorded
            .hosts
            .iter()
            .map(|spec| match &spec.context {
                Some(context) => Endpoint::from_context(context),
                None => Endpoint::parse_flag(&format!("{}={}", spec.name, spec.endpoint)),
            })
            .collect::<Result<Vec<_>, _>>()?;
        warnings.extend(plain_tcp_warnings(&endpoints));
        let registry = registry_access(recorded.options.registry.as_deref())?;
        RunSettings {
            scenarios,
            planned: Vec::new(),
            options: recorded.options,
            out,
            command_line: recorded_command_line(&command_line, &working_dir),
            endpoints,
            run_id: new_run_id(),
            inputs,
            resumed: Some(resumed),
            warnings,
            secrets: RunSecrets::default(),
            working_dir,
            registry,
            gate: None,
            exports: ExportTargets::default(),
            progress: ProgressMode::Quiet,
        }
        .with_secrets(BuildArgs::new())
        .map_err(|error| match error {
            ConfigError::Usage(reason) | ConfigError::Secrets(reason) => refuse(reason),
            other => other,
        })
    }

    /// These settings with `secret_args` (from `--secret-build-arg`) applied, the BuildKit
    /// secrets read, every secret value checked and known for redaction, and the command line
    /// as it may be recorded; then the builds resolved, whose arguments end with the secret ones.
    pub fn with_secrets(mut self, mut secret_args: BuildArgs) -> Result<RunSettings, ConfigError> {
        let mut flag_of: BTreeMap<String, &str> = secret_args
            .keys()
            .map(|k| (k.clone(), "--secret-build-arg"))
            .collect();
        let mut names: Vec<String> = self
            .scenarios
            .iter()
            .flat_map(|s| s.secret_build_args.iter().cloned())
            .chain(secret_args.keys().cloned())
            .collect();
        // A build argument whose value is a URL with credentials is kept secret too, or
        // meta.json would record the password with the build arguments.
        let mut sets: Vec<&BuildArgs> = vec![&self.options.build_args];
        for scenario in &self.scenarios {
            sets.push(&scenario.build_args);
            sets.extend(scenario.variants.iter().map(|v| &v.build_args));
            sets.extend(scenario.prebuilds.iter().map(|p| &p.build_args));
            sets.extend(scenario.profiles.values());
        }
        for name in secrets::build_args_with_url_credentials(&sets) {
            if !names.contains(&name) {
                self.warnings.push(format!(
                    "build argument {name} holds a URL with credentials, so it is kept secret like a --secret-build-arg: its value is never recorded or printed"
                ));
                names.push(name);
            }
        }
        // A `--build-arg` a scenario calls secret is one: meta.json must not record its value.
        let named_secret: Vec<String> = self
            .options
            .build_args
            .keys()
            .filter(|k| names.contains(k))
            .cloned()
            .collect();
        for name in named_secret {
            if let Some(value) = self.options.build_args.remove(&name) {
                flag_of.entry(name.clone()).or_insert("--build-arg");
                secret_args.entry(name.clone()).or_insert(value);
                self.options.secret_build_arg_names.push(name);
            }
        }
        let build_secret_values =
            BuildSecretValues::load(&self.options.build_secrets).map_err(ConfigError::Secrets)?;
        let mut values: Vec<(String, secrets::GivenSecret<'_>)> = secret_args
            .iter()
            .map(|(key, value)| {
                let flag = flag_of.get(key).copied().unwrap_or("--secret-build-arg");
                let given = secrets::GivenSecret {
                    build_arg: Some(key),
                    value: value.as_bytes(),
                };
                (format!("{flag} {key}"), given)
            })
            .collect();
        for scenario in &self.scenarios {
            values.extend(secrets::scenario_secret_values(scenario, &names));
        }
        values.extend(build_secret_values.iter().map(|(id, value)| {
            let given = secrets::GivenSecret {
                build_arg: None,
                value,
            };
            (format!("--secret id={id}"), given)
        }));
        secrets::refuse_short_values(&values).map_err(ConfigError::Secrets)?;
        // The registry password reaches the daemon with every push and cached build; should a
        // build print it, it is redacted like any other secret. A password too short to search
        // for without redacting ordinary words is left out.
        let registry_secret = self
            .registry
            .as_ref()
            .and_then(|access| access.credentials.as_ref())
            .map(|credentials| credentials.secret().as_bytes())
            .filter(|secret| secrets::too_short(secret).is_none());
        self.secrets.redaction = Secrets::new(
            names,
            values
                .iter()
                .map(|(_, given)| given.value)
                .chain(registry_secret),
        )
        .map_err(ConfigError::Usage)?;
        if self.secrets.redaction.unencoded_parts() > 0 {
            self.warnings.push(format!(
                "the secret values are too large to search for in every form: the {} longest parts of them (a whole value, or a line of one) are redacted as written, but not percent-encoded, JSON-escaped or in base64",
                self.secrets.redaction.unencoded_parts()
            ));
        }
        self.warnings.extend(secrets::kept_image_warning(
            self.options.keep_images,
            self.options.rm,
            &secrets::build_args_with_values(&values),
        ));
        self.secrets.mounted = Arc::new(build_secret_values);
        self.secrets.build_arg_values = secret_args;
        self.command_line = self
            .command_line
            .iter()
            .map(|arg| secrets::without_url_credentials(&self.secrets.redact(arg)))
            .collect();
        // The builds' arguments end with the secret ones, so the builds are resolved last.
        self.planned = (0..self.scenarios.len())
            .map(|index| Arc::new(self.planned_scenario(index)))
            .collect();
        Ok(self)
    }
}

/// Every scenario's inputs, leaving out the run's own results folders, and a warning for each
/// results folder a build context would send.
fn scan_inputs(
    scenarios: &[Scenario],
    out: &OutputLocation,
) -> Result<(Vec<ScenarioInputs>, Vec<String>), ScenarioError> {
    let outputs = results_roots(out);
    let mut inputs = Vec::new();
    let mut warnings = Vec::new();
    for scenario in scenarios {
        let scan = ScenarioInputs::scan(scenario, &outputs)?;
        // What an accepted context above the scenario directory sends, said before it is sent.
        for context in scan
            .contexts
            .iter()
            .filter(|c| scenario.contexts_above.iter().any(|a| a.dir == c.dir))
        {
            warnings.push(format!(
                "scenario {} sends the build context {}, above its directory: {} files, {}",
                scenario.name,
                context.dir.display(),
                context.files,
                decimal_bytes(context.bytes)
            ));
        }
        for output in &scan.outputs_in_context {
            warnings.push(format!(
                "the results folder {} is inside the build context of scenario {} and not excluded by its .dockerignore: every row written changes the context, so a step that copies it is never cached; add it to {}",
                output.display(),
                scenario.name,
                scenario.context_dir.join(".dockerignore").display()
            ));
        }
        inputs.push(scan.inputs);
    }
    Ok((inputs, warnings))
}

/// `812 kB`, `41.2 MB`, `3.1 GB`: a context's size, as `docker build` prints it.
fn decimal_bytes(bytes: u64) -> String {
    let value = bytes as f64;
    if value < 1e6 {
        format!("{:.1} kB", value / 1e3)
    } else if value < 1e9 {
        format!("{:.1} MB", value / 1e6)
    } else {
        format!("{:.1} GB", value / 1e9)
    }
}

/// The folders a run writes its results under, resolved: never inputs of its scenarios.
fn results_roots(out: &OutputLocation) -> Vec<PathBuf> {
    let results_root = match out {
        OutputLocation::Explicit(dir) | OutputLocation::Resume(dir) => dir.clone(),
        OutputLocation::Default { reports_root, .. } => reports_root.clone(),
    };
    vec![resolved(&results_root)]
}

/// `path` made absolute with symbolic links resolved as far as it exists, so that it compares
/// with the canonical paths a build context walks.
fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(canonical) = std::fs::canonicalize(existing) {
            return rest.iter().rev().fold(canonical, |p, part| p.join(part));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return absolute,
        }
    }
}

fn check_variants_and_profile(
    scenarios: &[Scenario],
    variants: &[String],
    profile: Option<&str>,
) -> Result<(), ScenarioError> {
    for scenario in scenarios {
        for name in variants {
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
        if let Some(profile) = profile {
            scenario.profile(profile)?;
        }
    }
    Ok(())
}

/// Timed runs per cell: `--runs` when given, else the `runs` the chosen profile sets (every
/// scenario's profile that sets one must agree, since the plan has one count), else
/// [`DEFAULT_RUNS`].
/// `--runs`, `--min-runs` and `--max-runs`: the timed runs planned for every series (with
/// `--runs auto`, `--max-runs`) and how an automatic run stops.
fn resolve_runs_and_stopping(
    scenarios: &[Scenario],
    args: &RunArgs,
) -> Result<(u32, Option<Stopping>), ConfigError> {
    match args.runs {
        Some(RunsArg::Auto) => {
            let min_runs = args.min_runs.unwrap_or(DEFAULT_MIN_RUNS);
            let max_runs = args.max_runs.unwrap_or(DEFAULT_MAX_RUNS.max(min_runs));
            if max_runs < min_runs {
                return Err(ConfigError::Usage(format!(
                    "--max-runs {max_runs} is below --min-runs {min_runs}; the last look cannot come before the first"
                )));
            }
            Ok((
                max_runs,
                Some(Stopping {
                    min_runs,
                    max_runs,
                    paired_by_round: true,
                }),
            ))
        }
        fixed => {
            if args.min_runs.is_some() || args.max_runs.is_some() {
                return Err(ConfigError::Usage(
                    "--min-runs and --max-runs apply only with --runs auto".to_string(),
                ));
            }
            let flag = match fixed {
                Some(RunsArg::Fixed(runs)) => Some(runs),
                _ => None,
            };
            Ok((
                resolve_runs(scenarios, flag, args.profile.as_deref())?,
                None,
            ))
        }
    }
}

fn resolve_runs(
    scenarios: &[Scenario],
    flag: Option<u32>,
    profile: Option<&str>,
) -> Result<u32, ConfigError> {
    if let Some(runs) = flag {
        return Ok(runs);
    }
    let Some(profile) = profile else {
        return Ok(DEFAULT_RUNS);
    };
    let mut chosen: Option<(&Scenario, u32)> = None;
    for scenario in scenarios {
        let Some(&runs) = scenario.profile_runs.get(profile) else {
            continue;
        };
        match chosen {
            Some((first, first_runs)) if first_runs != runs => {
                return Err(ConfigError::Usage(format!(
                    "[profile.{profile}] sets runs = {first_runs} in {} and runs = {runs} in {}; one run has one count, so give --runs",
                    first.dir.join(MANIFEST_FILE).display(),
                    scenario.dir.join(MANIFEST_FILE).display()
                )));
            }
            Some(_) => {}
            None => chosen = Some((scenario, runs)),
        }
    }
    Ok(chosen.map_or(DEFAULT_RUNS, |(_, runs)| runs))
}

fn check_unique_names(scenarios: &[Scenario]) -> Result<(), ScenarioError> {
    let mut names: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    match names.windows(2).find(|w| w[0] == w[1]) {
        Some(pair) => Err(ScenarioError::Invalid {
            file: PathBuf::from(MANIFEST_FILE),
            message: format!("two scenarios are both named `{}`", pair[0]),
        }),
        None => Ok(()),
    }
}

/// The working directory, canonical, so that it compares with canonical scenario paths.
fn working_dir() -> Result<PathBuf, ConfigError> {
    std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .map_err(|e| ConfigError::WorkingDir(e.to_string()))
}

/// Refuses numbers in a folder's recorded settings that `stagebench run` would refuse as flags:
/// a hostile meta.json must not plan billions of builds or overflow a timeout.
fn check_recorded_bounds(options: &RunOptions) -> Result<(), String> {
    let meta = crate::results::META_FILE;
    let problem = if !(1..=MAX_RUNS).contains(&options.runs) {
        Some(format!("runs = {}, outside 1 to {MAX_RUNS}", options.runs))
    } else if options.warmup > MAX_WARMUP {
        Some(format!(
            "warmup = {}, more than {MAX_WARMUP}",
            options.warmup
        ))
    } else if let Some(seconds) = options
        .timeout_seconds
        .filter(|s| !(s.is_finite() && *s > 0.0 && *s <= MAX_TIMEOUT_SECONDS))
    {
        Some(format!(
            "timeout_seconds = {seconds}, outside 0 to {MAX_TIMEOUT_SECONDS}"
        ))
    } else if !(options.noise_threshold.is_finite()
        && (0.0..1.0).contains(&options.noise_threshold))
    {
        Some(format!(
            "noise_threshold = {}, outside 0 up to 1 (a fraction)",
            options.noise_threshold
        ))
    } else if let Some(stopping) = options.stopping.filter(|s| {
        !(DEFAULT_MIN_RUNS..=s.max_runs).contains(&s.min_runs) || s.max_runs != options.runs
    }) {
        Some(format!(
            "stopping min_runs = {} and max_runs = {} with runs = {}; min_runs must be 3 or more and at most max_runs, which must equal runs",
            stopping.min_runs, stopping.max_runs, options.runs
        ))
    } else {
        options
            .time_budget_seconds
            .filter(|s| !(s.is_finite() && *s > 0.0 && *s <= crate::cli::MAX_TIME_BUDGET_SECONDS))
            .map(|seconds| {
                format!(
                    "time_budget_seconds = {seconds}, outside 0 to {}",
                    crate::cli::MAX_TIME_BUDGET_SECONDS
                )
            })
    };
    match problem {
        Some(problem) => Err(format!(
            "its {meta} records {problem}, which stagebench run would refuse"
        )),
        None => Ok(()),
    }
}

/// The `--secret` flags, parsed; they need BuildKit, as only it mounts secrets.
fn parse_build_secrets(
    flags: &[String],
    builder: Builder,
    cwd: &Path,
) -> Result<Vec<BuildSecret>, ConfigError> {
    let secrets = flags
        .iter()
        .map(|flag| {
            BuildSecret::parse(flag, cwd)
                .map_err(|reason| ConfigError::Secrets(format!("--secret {reason}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if !secrets.is_empty() && !builder.capabilities().mounts_secrets {
        return Err(ConfigError::Secrets(format!(
            "--secret needs BuildKit: the {builder} builder cannot mount secrets (drop --builder {builder})"
        )));
    }
    Ok(secrets)
}

/// A warning for each host reached over plain TCP on another machine: no TLS means no
/// authentication, so whoever reaches the port runs builds there, and build contexts and
/// arguments cross the network in the clear.
fn plain_tcp_warnings(endpoints: &[Endpoint]) -> Vec<String> {
    endpoints
        .iter()
        .filter(|e| e.scheme() == Scheme::Tcp && e.tls.is_none() && !e.is_on_this_machine())
        .map(|e| {
            format!(
                "host {} ({}) is plain TCP without TLS: the connection is unauthenticated and unencrypted, so anyone who reaches that port controls the daemon and sees the build contexts and arguments; set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH, or use ssh://",
                e.name,
                e.display_url()
            )
        })
        .collect()
}

/// `--docker-host` values, then `--context` ones; `DOCKER_HOST` or the default socket when
/// neither is given. Two hosts may not share a name, since rows are told apart by it.
fn endpoints_from_flags(
    docker_hosts: &[String],
    contexts: &[String],
) -> Result<Vec<Endpoint>, EndpointError> {
    let mut endpoints = docker_hosts
        .iter()
        .map(|flag| Endpoint::parse_flag(flag))
        .chain(contexts.iter().map(|name| Endpoint::from_context(name)))
        .collect::<Result<Vec<_>, _>>()?;
    if endpoints.is_empty() {
        endpoints.push(Endpoint::from_environment()?);
    }
    let mut names: Vec<&str> = endpoints.iter().map(|e| e.name.as_str()).collect();
    names.sort_unstable();
    if let Some(pair) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(EndpointError(format!(
            "two Docker hosts are both named `{}`; name them with --docker-host NAME=URL",
            pair[0]
        )));
    }
    Ok(endpoints)
}

/// `20261128T043000Z`.
fn utc_timestamp(now: OffsetDateTime) -> String {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    now.format(&format).unwrap_or_else(|_| "run".to_string())
}

/// A sortable, readable id: the start time and six random hex digits.
fn new_run_id() -> String {
    format!(
        "{}-{:06x}",
        utc_timestamp(OffsetDateTime::now_utc()),
        fastrand::u32(..0x0100_0000)
    )
}

/// `--registry` parsed, with the docker config's credentials for it; none without the flag.
/// The CI cache modes import and push through a registry, and only BuildKit imports an inline
/// cache: refused before anything runs when either is missing.
fn check_ci_modes(
    modes: &[CacheMode],
    builder: Builder,
    has_registry: bool,
) -> Result<(), ConfigError> {
    let Some(mode) = modes.iter().find(|m| m.is_ci()) else {
        return Ok(());
    };
    if !has_registry {
        return Err(ConfigError::CacheModes(format!(
            "--cache {mode} builds as on a fresh CI machine whose cache and prebuilds come from a registry: name one with --registry HOST[:PORT][/PREFIX] (or STAGEBENCH_REGISTRY); scripts/with-registry starts one on this machine"
        )));
    }
    if builder.capabilities().imports_registry_cache {
        Ok(())
    } else {
        Err(ConfigError::CacheModes(format!(
            "--cache {mode} needs --builder buildkit: the {builder} builder cannot import an inline cache from a registry"
        )))
    }
}

/// Resolves `--registry` (or `STAGEBENCH_REGISTRY`) with its credentials, read once.
pub fn registry_access(value: Option<&str>) -> Result<Option<RegistryAccess>, ConfigError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let registry = Registry::parse(value).map_err(ConfigError::RegistryFlag)?;
    Ok(Some(RegistryAccess::resolve(registry)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::EngineKind;
    use crate::daemon_facts::DaemonFacts;
    use crate::run_policy::HostNeeds;

    /// Why host `name` cannot run builds measured with `options` (and `--secret`s when
    /// `has_secrets`), its builder being the one its engine (`facts`) runs.
    fn host_refusal(
        options: &RunOptions,
        has_secrets: bool,
        name: &str,
        facts: &DaemonFacts,
    ) -> Option<String> {
        HostNeeds::new(options, has_secrets).refusal(name, facts)
    }

    #[test]
    fn runs_come_from_the_flag_then_the_profile_then_the_default() {
        let scenario = |name: &str, profile: &str| {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("single.Dockerfile"), "FROM busybox\n").unwrap();
            std::fs::write(
                dir.path().join(MANIFEST_FILE),
                format!("name = \"{name}\"\n[profile.quick]\n{profile}\n[profile.full]\n"),
            )
            .unwrap();
            let scenario = Scenario::load(dir.path()).unwrap();
            (dir, scenario)
        };
        let (_a, two) = scenario("a", "runs = 2");
        let (_b, unset) = scenario("b", "");
        let (_c, five) = scenario("c", "runs = 5");
        let runs = |scenarios: &[&Scenario], flag, profile| {
            let scenarios: Vec<Scenario> = scenarios.iter().map(|s| (*s).clone()).collect();
            resolve_runs(&scenarios, flag, profile).map_err(|e| e.to_string())
        };
        assert_eq!(runs(&[&two], Some(7), Some("quick")).unwrap(), 7);
        assert_eq!(runs(&[&two, &unset], None, Some("quick")).unwrap(), 2);
        assert_eq!(runs(&[&two], None, Some("full")).unwrap(), DEFAULT_RUNS);
        assert_eq!(runs(&[&two], None, None).unwrap(), DEFAULT_RUNS);
        assert_eq!(runs(&[&two, &five], Some(4), Some("quick")).unwrap(), 4);
        let message = runs(&[&two, &unset, &five], None, Some("quick")).unwrap_err();
        assert!(
            message.contains("[profile.quick] sets runs = 2 in")
                && message.contains("and runs = 5 in")
                && message.ends_with("give --runs"),
            "{message}"
        );
    }

    #[test]
    fn ci_modes_need_a_registry_and_buildkit() {
        let ci = [CacheMode::Cold, CacheMode::CiInline];
        let message = |result: Result<(), ConfigError>| {
            result.err().map(|e| e.to_string()).unwrap_or_default()
        };
        assert!(check_ci_modes(&CacheMode::LOCAL, Builder::Classic, false).is_ok());
        assert!(check_ci_modes(&ci, Builder::BuildKit, true).is_ok());
        assert!(
            message(check_ci_modes(&ci, Builder::BuildKit, false)).contains("--cache ci-inline")
        );
        assert!(message(check_ci_modes(&ci, Builder::BuildKit, false)).contains("--registry"));
        assert!(
            message(check_ci_modes(&ci, Builder::Classic, true)).contains("--builder buildkit")
        );
    }

    #[test]
    fn run_ids_sort_by_time_and_differ() {
        let a = new_run_id();
        let b = new_run_id();
        assert_eq!(a.len(), "20261128T043000Z-0a1b2c".len());
        assert_ne!(a, b);
    }

    #[test]
    fn plain_tcp_to_another_machine_is_warned_about() {
        for (url, warned) in [
            ("tcp://10.0.0.5:2375", true),
            ("tcp://build-box.example:2375", true),
            ("tcp://user:pw@10.0.0.5:2375", true),
            ("tcp://127.0.0.1:2375", false),
            ("tcp://localhost:2375", false),
            ("tcp://[::1]:2375", false),
            ("unix:///var/run/docker.sock", false),
        ] {
            let endpoints = endpoints_from_flags(&[format!("x={url}")], &[]).unwrap();
            let warnings = plain_tcp_warnings(&endpoints);
            assert_eq!(warnings.len(), usize::from(warned), "{url}: {warnings:?}");
            for warning in &warnings {
                assert!(
                    warning.contains("unauthenticated") && !warning.contains("pw"),
                    "{warning}"
                );
            }
        }
    }

    #[test]
    fn a_resumed_folder_s_numbers_are_held_to_the_flags_bounds() {
        let options = crate::results::RunMeta::read(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/go-service"),
        )
        .unwrap()
        .settings
        .options;
        assert_eq!(check_recorded_bounds(&options), Ok(()));
        for (change, says) in [
            (
                (|o: &mut RunOptions| o.runs = u32::MAX) as fn(&mut RunOptions),
                "meta.json records runs = 4294967295, outside 1 to 1000",
            ),
            (|o| o.runs = 0, "runs = 0"),
            (|o| o.warmup = 101, "warmup = 101, more than 100"),
            (
                |o| o.timeout_seconds = Some(1e20),
                "timeout_seconds = 100000000000000000000",
            ),
            (
                |o| o.timeout_seconds = Some(f64::NAN),
                "timeout_seconds = NaN",
            ),
            (|o| o.noise_threshold = 7.0, "noise_threshold = 7"),
        ] {
            let mut hostile = options.clone();
            change(&mut hostile);
            let error = check_recorded_bounds(&hostile).unwrap_err();
            assert!(error.contains(says), "{error}");
        }
    }

    #[test]
    fn a_podman_host_is_refused_a_secret_or_a_ci_mode_and_a_docker_host_is_not() {
        let mut options = crate::results::RunMeta::read(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/go-service"),
        )
        .unwrap()
        .settings
        .options;
        let podman = DaemonFacts {
            engine: EngineKind::Podman,
            version: "4.3.1".to_string(),
            ..DaemonFacts::default()
        };
        let docker = DaemonFacts {
            engine: EngineKind::Docker,
            version: "20.10.24".to_string(),
            ..DaemonFacts::default()
        };
        options.builder = Builder::BuildKit;
        assert_eq!(host_refusal(&options, false, "p", &podman), None);
        let secret = host_refusal(&options, true, "p", &podman).unwrap();
        assert_eq!(
            secret,
            "host p is Podman 4.3.1, whose builds are buildah's, which cannot mount --secret: drop --secret, or run on a Docker host"
        );
        assert_eq!(host_refusal(&options, true, "d", &docker), None);
        options.cache_modes = vec![CacheMode::Cold, CacheMode::CiInline];
        let ci = host_refusal(&options, false, "p", &podman).unwrap();
        assert!(ci.contains("--cache ci-inline"), "{ci}");
        assert!(ci.starts_with("host p is Podman 4.3.1"), "{ci}");
        assert_eq!(host_refusal(&options, false, "d", &docker), None);
    }

    #[test]
    fn hosts_need_distinct_names() {
        let error = endpoints_from_flags(
            &[
                "unix:///a/x.sock".to_string(),
                "unix:///b/x.sock".to_string(),
            ],
            &[],
        )
        .unwrap_err();
        assert!(error.0.contains("both named `x`"), "{error}");
        let named = endpoints_from_flags(
            &[
                "a=unix:///a/x.sock".to_string(),
                "b=unix:///b/x.sock".to_string(),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(named.len(), 2);
    }
}
