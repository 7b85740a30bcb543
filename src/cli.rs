//! Command-line flags exactly as typed; `config` turns them into checked settings.
//!
//! Arguments arrive as OS strings: a path may be any bytes the system allows, and a flag whose
//! value must be text ([`text`]) refuses one that is not UTF-8 with a sentence naming the flag.
//! Every number has a stated upper bound, checked here with one sentence, so that no value can
//! make a run plan billions of builds or overflow a duration.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

use clap::builder::{OsStringValueParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};

use crate::builder::Builder;
use crate::cache_mode::{CacheMode, PruneMode};
use crate::compare::{DEFAULT_REQUIRED_RUNS, MAX_REQUIRED_RUNS, MIN_REQUIRED_RUNS};
use crate::export_targets::{ExportFormat, ExportTargets, MarkdownLinks, parse_markdown_links};

/// Benchmark Docker image builds: single-stage against multi-stage Dockerfiles, cold, warm and
/// after a source edit.
#[derive(Debug, Parser)]
#[command(
    name = "stagebench",
    version,
    about,
    long_about = None,
    after_help = concat!(
        "Docs: docs/cli.md for every command and flag, README.md for where to start (online: ",
        env!("CARGO_PKG_REPOSITORY"),
        ")"
    )
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build every variant of each scenario repeatedly and record time and image size.
    #[command(after_help = crate::cli_docs_help!("run"))]
    Run(Box<RunArgs>),
    /// List the scenarios and variants found under a folder.
    #[command(after_help = crate::cli_docs_help!("list"))]
    List(ListArgs),
    /// Check scenarios without building: manifests, Dockerfiles, contexts and base images.
    #[command(after_help = crate::cli_docs_help!("validate"))]
    Validate(ValidateArgs),
    /// Remake summaries, report.md and charts from a results folder's results.csv and meta.json.
    #[command(after_help = crate::cli_docs_help!("report"))]
    Report(ReportArgs),
    /// Combine results folders (from several machines or CI jobs) into one and report on it.
    #[command(after_help = crate::cli_docs_help!("merge"))]
    Merge(MergeArgs),
    /// Compare current results with a baseline: exit 1 on a regression, 2 when a series cannot
    /// be judged.
    #[command(after_help = crate::cli_docs_help!("compare"))]
    Compare(CompareArgs),
    /// Trend of every results folder under a directory: CSV, charts and the step changes.
    #[command(after_help = crate::cli_docs_help!("history"))]
    History(HistoryArgs),
    /// A static site of every results folder under a directory: trends, nights, reports.
    #[command(after_help = crate::cli_docs_help!("site"))]
    Site(SiteArgs),
}

/// Flags of `stagebench site`.
#[derive(Debug, Args)]
pub struct SiteArgs {
    /// A directory holding results folders at any depth (for example `reports/`).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Where to write the site (made again in place: only what changed is written).
    #[arg(long, value_name = "SITE")]
    pub out: PathBuf,
    /// A change between nights whose whole interval lies within this many percent is `same`
    /// (from 0 up to, not including, 100).
    #[arg(long, value_name = "PERCENT", default_value = "5", value_parser = text(parse_percent))]
    pub noise_threshold: f64,
}

/// Flags of `stagebench history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// A directory holding results folders at any depth (for example `reports/`).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Where to write history.csv, history.md and the charts [default: DIR].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// A change between runs whose whole interval lies within this many percent is `same`
    /// (from 0 up to, not including, 100).
    #[arg(long, value_name = "PERCENT", default_value = "5", value_parser = text(parse_percent))]
    pub noise_threshold: f64,
}

/// Copies of the summaries for other tools, as hyperfine's exports are.
#[derive(Debug, Default, Args)]
pub struct ExportArgs {
    /// Also write the summary table as CSV to FILE (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub export_csv: Option<PathBuf>,
    /// Also write the summary document as JSON to FILE (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub export_json: Option<PathBuf>,
    /// Also write the Markdown report to FILE (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub export_markdown: Option<PathBuf>,
    /// Also write the summary in the github-action-benchmark `customSmallerIsBetter` JSON to
    /// FILE (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub export_benchmark_action: Option<PathBuf>,
    /// Also write the summary in Bencher Metric Format to FILE (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    pub export_bmf: Option<PathBuf>,
    /// Where --export-markdown's links to the results folder's files (charts, results.csv,
    /// meta.json) point: `relative` (beside them, as report.md), `none` (named as text, for a
    /// job summary with nowhere to fetch them from), or the absolute http(s) URL a copy of the
    /// folder is published at. Links that leave the folder are kept only with `relative`.
    #[arg(
        long,
        value_name = "WHERE",
        default_value = "relative",
        value_parser = text(parse_markdown_links),
        requires = "export_markdown"
    )]
    pub markdown_links: MarkdownLinks,
}

impl ExportArgs {
    /// The exports asked for, with their targets.
    pub fn targets(&self) -> ExportTargets {
        ExportTargets::new([
            (ExportFormat::SummaryCsv, &self.export_csv),
            (ExportFormat::SummaryJson, &self.export_json),
            (ExportFormat::Markdown, &self.export_markdown),
            (ExportFormat::BenchmarkAction, &self.export_benchmark_action),
            (ExportFormat::BencherMetricFormat, &self.export_bmf),
        ])
        .with_markdown_links(self.markdown_links.clone())
    }
}

/// When `compare` (or `run --baseline`) calls a change a regression.
#[derive(Debug, Args)]
pub struct GateArgs {
    /// A slow-down is a regression only when its whole interval lies above this many percent
    /// (from 0 up to, not including, 100).
    #[arg(long, value_name = "PERCENT", default_value = "10", value_parser = text(parse_percent))]
    pub time_threshold: f64,
    /// Image growth is a regression only above this many percent (from 0 up to, not including,
    /// 100)...
    #[arg(long, value_name = "PERCENT", default_value = "1", value_parser = text(parse_percent))]
    pub size_threshold: f64,
    /// ...and above this size (for example 1MB, 500kB, 2MiB, or bytes; at most 1TB).
    #[arg(long, value_name = "SIZE", default_value = "1MB", value_parser = text(parse_size))]
    pub size_floor: u64,
    /// Compare results measured on different hosts (different environment fingerprints).
    #[arg(long)]
    pub allow_different_hosts: bool,
    /// Successful runs each side needs for a series' build time to be judged, from 2 to 1000;
    /// a series with fewer is "not gated", which makes the comparison exit 2 unless something
    /// regressed.
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_REQUIRED_RUNS,
        value_parser = text(parse_required_runs)
    )]
    pub require_runs: usize,
}

/// Flags of `stagebench compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The baseline: a results folder or a summary.json.
    #[arg(value_name = "BASELINE")]
    pub baseline: PathBuf,
    /// The current results: a results folder or a summary.json.
    #[arg(value_name = "CURRENT")]
    pub current: PathBuf,
    /// When a change is a regression.
    #[command(flatten)]
    pub gate: GateArgs,
    /// A contrast whose whole interval lies within this many percent either way is `same`
    /// (from 0 up to, not including, 100).
    #[arg(long, value_name = "PERCENT", default_value = "5", value_parser = text(parse_percent))]
    pub noise_threshold: f64,
    /// Also write the comparison as Markdown to FILE (`-` for standard output), for a pull
    /// request comment or $GITHUB_STEP_SUMMARY.
    #[arg(long, value_name = "FILE")]
    pub export_markdown: Option<PathBuf>,
    /// Also write the current results in the github-action-benchmark format to FILE, the
    /// gate's sentence ending the `extra` of each series that regressed or is not gated.
    #[arg(long, value_name = "FILE")]
    pub export_benchmark_action: Option<PathBuf>,
    /// Also write the current results in Bencher Metric Format to FILE (numbers only).
    #[arg(long, value_name = "FILE")]
    pub export_bmf: Option<PathBuf>,
}

impl CompareArgs {
    /// The exports asked for, with their targets; Markdown is the comparison's own.
    pub fn export_targets(&self) -> ExportTargets {
        ExportTargets::new([
            (ExportFormat::Markdown, &self.export_markdown),
            (ExportFormat::BenchmarkAction, &self.export_benchmark_action),
            (ExportFormat::BencherMetricFormat, &self.export_bmf),
        ])
    }
}

/// Flags of `stagebench report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A results folder holding results.csv and meta.json.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Use this noise band instead of the one recorded in meta.json (a percentage from 0 up
    /// to, not including, 100).
    #[arg(long, value_name = "PERCENT", value_parser = text(parse_percent))]
    pub noise_threshold: Option<f64>,
    /// Exports.
    #[command(flatten)]
    pub export: ExportArgs,
}

/// Flags of `stagebench merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Results folders, or folders holding results folders (such as downloaded CI artifacts).
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// The folder to write the merged results and reports into; it must not hold results yet.
    #[arg(long, value_name = "DIR", required = true)]
    pub out: PathBuf,
    /// Exports.
    #[command(flatten)]
    pub export: ExportArgs,
}

/// Flags of `stagebench run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario directories, each holding `<variant>.Dockerfile` files; with --dockerfile, the
    /// one build context directory instead.
    #[arg(required_unless_present = "resume", value_name = "SCENARIO_DIR")]
    pub scenarios: Vec<PathBuf>,
    /// Benchmark this Dockerfile as variant NAME, with no scenario folder: the one directory
    /// given is the build context and names the scenario; the first --dockerfile is the
    /// baseline (repeatable).
    #[arg(
        long = "dockerfile",
        value_name = "NAME=PATH",
        value_parser = OsStringValueParser::new().try_map(parse_named_path)
    )]
    pub dockerfiles: Vec<(String, PathBuf)>,
    /// With --dockerfile: a file edited before each incremental run (repeatable).
    #[arg(long = "touch", value_name = "FILE", requires = "dockerfiles")]
    pub touch: Vec<PathBuf>,
    /// Continue the run whose results folder is DIR, with the settings recorded there: finished
    /// builds are skipped, interrupted ones redone.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with_all = [
            "scenarios", "runs", "min_runs", "max_runs", "time_budget", "warmup", "cache", "builder", "variants", "profile",
            "build_args", "out", "timeout", "keep_images", "docker_hosts", "contexts",
            "on_every_host", "seed", "noise_threshold", "dockerfiles", "touch", "prune", "rm",
            "secret_build_args", "secrets", "allow_context_above",
        ]
    )]
    pub resume: Option<PathBuf>,
    /// Timed runs per variant and cache mode, from 1 to 1000, or `auto`: each series stops
    /// once every comparison it takes part in is settled, after --min-runs to --max-runs runs
    /// [default: 3, or the `runs` of the chosen `--profile`].
    #[arg(long, value_name = "N|auto", value_parser = text(parse_runs_arg))]
    pub runs: Option<RunsArg>,
    /// With --runs auto: runs every series gets before its comparisons are first looked at,
    /// from 3 to 1000.
    #[arg(long, value_name = "N", value_parser = text(parse_min_runs))]
    pub min_runs: Option<u32>,
    /// With --runs auto: runs after which every series stops, settled or not, from --min-runs
    /// to 1000 [default: 10].
    #[arg(long, value_name = "N", value_parser = text(parse_runs))]
    pub max_runs: Option<u32>,
    /// Stop starting builds once this much time has passed (`90s`, `25m`, `1h 30m`), saying
    /// which comparisons were left unsettled; with --runs auto and an earlier run of the same
    /// scenarios to estimate from, --max-runs is lowered so that the rounds fit.
    #[arg(long, value_name = "DURATION", value_parser = text(parse_time_budget))]
    pub time_budget: Option<f64>,
    /// Untimed warmup runs per variant and cache mode, before the timed ones, from 0 to 100.
    #[arg(long, default_value_t = 0, value_parser = text(parse_warmup))]
    pub warmup: u32,
    /// Cache modes to measure, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "cold,warm,incremental"
    )]
    pub cache: Vec<CacheMode>,
    /// Builder a Docker host uses (a Podman host's builds are always Buildah's).
    #[arg(long, value_enum, default_value_t = Builder::BuildKit)]
    pub builder: Builder,
    /// What a BuildKit cold run prunes first: `new`, the build-cache records this invocation's
    /// builds made (other projects' caches survive), or `all`, the daemon's whole build
    /// cache (for a daemon kept for benchmarking).
    #[arg(long, value_enum, default_value_t = PruneMode::New)]
    pub prune: PruneMode,
    /// Only these variants (repeatable).
    #[arg(long = "variant", value_name = "NAME", value_parser = text(any_text))]
    pub variants: Vec<String>,
    /// A `[profile.NAME]` of each scenario.toml: its build arguments apply, and its `runs`
    /// unless --runs is given.
    #[arg(long, value_name = "NAME", value_parser = text(any_text))]
    pub profile: Option<String>,
    /// A build argument for every build, overriding the scenario's (repeatable).
    #[arg(long = "build-arg", value_name = "KEY=VALUE", value_parser = text(parse_build_arg))]
    pub build_args: Vec<(String, String)>,
    /// A build argument whose value is secret: used for every build, never recorded or
    /// printed (repeatable). `KEY` alone takes the value of the environment variable KEY, as
    /// `docker build --build-arg KEY` does, which keeps it out of shell history and `ps`.
    #[arg(
        long = "secret-build-arg",
        value_name = "KEY[=VALUE]",
        value_parser = text(parse_secret_build_arg)
    )]
    pub secret_build_args: Vec<(String, Option<String>)>,
    /// A BuildKit secret for `RUN --mount=type=secret,id=NAME`, as `docker build --secret`
    /// takes it: `id=NAME,src=FILE` or `id=NAME,env=VAR` (repeatable). Its value is read when
    /// the run starts and never recorded or printed.
    #[arg(long = "secret", value_name = "id=NAME,src=FILE", value_parser = text(any_text))]
    pub secrets: Vec<String>,
    /// Accept a scenario whose build context reaches above its own directory (`context = ".."`
    /// in scenario.toml) when stagebench runs from outside the repository that holds it: the
    /// whole folder above is sent to the daemon, so it is accepted without this flag only from
    /// inside that repository.
    #[arg(long)]
    pub allow_context_above: bool,
    /// Results folder [default: reports/<scenario>/<UTC timestamp>/].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Cancel a build, and record it as timed out, after this many seconds (more than 0, at
    /// most 604800: a week).
    #[arg(long, value_name = "SECONDS", value_parser = text(parse_seconds))]
    pub timeout: Option<f64>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Keep every image built (each run tagged
    /// `stagebench/<scenario>:<variant>-<run_id>-<cache>-run<N>`).
    #[arg(long)]
    pub keep_images: bool,
    /// Keep no image at all: also remove each variant's final image and the prebuilds this run
    /// built (and so the build cache behind them) when the run ends.
    #[arg(long, conflicts_with = "keep_images")]
    pub rm: bool,
    /// A Docker host to build on, optionally named (repeatable) [default: DOCKER_HOST, else the
    /// default socket]. `tcp://` hosts use TLS when DOCKER_TLS_VERIFY is set; `ssh://` runs
    /// `docker system dial-stdio` there; the socket of `podman system service` makes a Podman
    /// host.
    #[arg(long = "docker-host", value_name = "[NAME=]URL", value_parser = text(any_text))]
    pub docker_hosts: Vec<String>,
    /// A docker CLI context to build on (repeatable); its name is the host's name.
    #[arg(long = "context", value_name = "NAME", value_parser = text(any_text))]
    pub contexts: Vec<String>,
    /// Run every scenario on every host (to compare machines) instead of spreading them.
    #[arg(long)]
    pub on_every_host: bool,
    /// Seed of the per-round shuffle of the variant order, any whole number from 0 to
    /// 18446744073709551615 [default: random, recorded in meta.json].
    #[arg(long, value_name = "N", value_parser = text(parse_seed))]
    pub seed: Option<u64>,
    /// A comparison whose whole interval lies within this many percent either way is `same`
    /// (from 0 up to, not including, 100).
    #[arg(long, value_name = "PERCENT", default_value = "5", value_parser = text(parse_percent))]
    pub noise_threshold: f64,
    /// After the run, compare it with the baseline saved as NAME (reports/baselines/NAME) and
    /// exit with 1 on a regression, 2 when a series cannot be judged.
    #[arg(long, value_name = "NAME", value_parser = text(parse_baseline_name))]
    pub baseline: Option<String>,
    /// After the run (and any --baseline comparison), save it as the baseline NAME.
    #[arg(long, value_name = "NAME", value_parser = text(parse_baseline_name))]
    pub save_baseline: Option<String>,
    /// When --baseline calls a change a regression.
    #[command(flatten)]
    pub gate: GateArgs,
    /// The container registry the CI-style cache modes keep their cache and prebuilt stages
    /// in, as HOST[:PORT][/PREFIX]: plain http for a loopback host, https for any other, with
    /// the credentials `docker login` stored. Checked before any build.
    #[arg(
        long,
        env = "STAGEBENCH_REGISTRY",
        value_name = "HOST[:PORT][/PREFIX]",
        value_parser = text(any_text)
    )]
    pub registry: Option<String>,
    /// Exports.
    #[command(flatten)]
    pub export: ExportArgs,
}

/// Flags of `stagebench list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Folder holding scenario directories (or a scenario directory itself).
    #[arg(default_value = "scenarios", value_name = "DIR")]
    pub dir: PathBuf,
}

/// Flags of `stagebench validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario directories to check.
    #[arg(required = true, value_name = "SCENARIO_DIR")]
    pub scenarios: Vec<PathBuf>,
    /// A `[profile.NAME]` whose build arguments apply when reading Dockerfiles.
    #[arg(long, value_name = "NAME", value_parser = text(any_text))]
    pub profile: Option<String>,
    /// The container registry the CI-style cache modes keep their cache and prebuilt stages
    /// in, as HOST[:PORT][/PREFIX]: plain http for a loopback host, https for any other, with
    /// the credentials `docker login` stored. Checked that it answers and takes the credentials.
    #[arg(
        long,
        env = "STAGEBENCH_REGISTRY",
        value_name = "HOST[:PORT][/PREFIX]",
        value_parser = text(any_text)
    )]
    pub registry: Option<String>,
}

/// The most timed runs per variant and cache mode (`--runs`).
pub const MAX_RUNS: u32 = 1000;
/// Timed runs per variant and cache mode when neither `--runs` nor the profile says.
pub const DEFAULT_RUNS: u32 = 3;
/// The most warmup runs per variant and cache mode (`--warmup`).
pub const MAX_WARMUP: u32 = 100;
/// The longest `--timeout`: a week, in seconds.
pub const MAX_TIMEOUT_SECONDS: f64 = 7.0 * 24.0 * 3600.0;
/// The largest `--size-floor`: 1 TB, far above any image.
pub const MAX_SIZE_FLOOR_BYTES: u64 = 1_000_000_000_000;

/// The value parser of a flag whose value must be text: `parse` gets the value as UTF-8, and a
/// value that is not gets one sentence that clap prefixes with the flag's name (clap's own
/// message for it names no flag).
fn text<T: Clone + Send + Sync + 'static>(
    parse: fn(&str) -> Result<T, String>,
) -> impl TypedValueParser<Value = T> {
    OsStringValueParser::new().try_map(move |value: OsString| match value.to_str() {
        Some(text) => parse(text),
        None => Err(format!(
            "`{}` is not UTF-8 text, which this flag needs",
            value.to_string_lossy()
        )),
    })
}

/// Any UTF-8 text.
fn any_text(text: &str) -> Result<String, String> {
    Ok(text.to_string())
}

/// `NAME=PATH`: the name is text, the path any bytes the system allows in a path.
fn parse_named_path(value: OsString) -> Result<(String, PathBuf), String> {
    let bytes = value.as_bytes();
    let not_named = || {
        format!(
            "`{}` is not NAME=PATH (for example `multi=Dockerfile.multi`)",
            value.to_string_lossy()
        )
    };
    let equals = bytes
        .iter()
        .position(|&b| b == b'=')
        .ok_or_else(not_named)?;
    let (name, path) = (&bytes[..equals], &bytes[equals + 1..]);
    if name.is_empty() || path.is_empty() {
        return Err(not_named());
    }
    let name = std::str::from_utf8(name).map_err(|_| {
        format!(
            "the NAME of `{}` is not UTF-8 text, which a variant name must be",
            value.to_string_lossy()
        )
    })?;
    Ok((
        name.to_string(),
        PathBuf::from(OsString::from_vec(path.to_vec())),
    ))
}

/// A whole number from `min` to `max`, or one sentence saying so.
fn bounded_count(text: &str, min: u32, max: u32, what: &str) -> Result<u32, String> {
    match text.trim().parse::<u64>() {
        Ok(n) if (u64::from(min)..=u64::from(max)).contains(&n) => {
            u32::try_from(n).map_err(|_| format!("`{text}` is not a whole number"))
        }
        Ok(_) => Err(format!(
            "`{text}` is outside {min} to {max}, the number of {what} stagebench takes"
        )),
        Err(_) => Err(format!(
            "`{text}` is not a whole number of {what} from {min} to {max}"
        )),
    }
}

/// `--runs`: 1 to [`MAX_RUNS`].
pub fn parse_runs(text: &str) -> Result<u32, String> {
    bounded_count(text, 1, MAX_RUNS, "runs")
}

/// `--runs`: a count, or `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunsArg {
    /// This many timed runs of every series.
    Fixed(u32),
    /// Runs until each series' comparisons are settled.
    Auto,
}

/// `--runs`: 1 to [`MAX_RUNS`], or `auto`.
pub fn parse_runs_arg(text: &str) -> Result<RunsArg, String> {
    if text == "auto" {
        Ok(RunsArg::Auto)
    } else {
        parse_runs(text)
            .map(RunsArg::Fixed)
            .map_err(|problem| format!("{problem}, nor `auto`"))
    }
}

/// `--min-runs`: no look can be taken below 3 runs a side (see `stats::sequential`).
pub fn parse_min_runs(text: &str) -> Result<u32, String> {
    bounded_count(text, 3, MAX_RUNS, "runs before the first look")
}

/// The longest `--time-budget`: a week, in seconds.
pub const MAX_TIME_BUDGET_SECONDS: f64 = 7.0 * 24.0 * 3600.0;

/// `--time-budget`: a duration such as `90s`, `25m` or `1h 30m` (a bare number is seconds),
/// more than 0 and at most a week.
pub fn parse_time_budget(text: &str) -> Result<f64, String> {
    let seconds = match text.trim().parse::<f64>() {
        Ok(seconds) => seconds,
        Err(_) => humantime::parse_duration(text.trim())
            .map(|d| d.as_secs_f64())
            .map_err(|e| {
                format!("`{text}` is not a duration such as `90s`, `25m` or `1h 30m` ({e})")
            })?,
    };
    if seconds.is_finite() && seconds > 0.0 && seconds <= MAX_TIME_BUDGET_SECONDS {
        Ok(seconds)
    } else {
        Err(format!(
            "`{text}` is not a duration more than 0 and at most a week"
        ))
    }
}

/// `--warmup`: 0 to [`MAX_WARMUP`].
pub fn parse_warmup(text: &str) -> Result<u32, String> {
    bounded_count(text, 0, MAX_WARMUP, "warmup runs")
}

/// `--seed`: any `u64`.
fn parse_seed(text: &str) -> Result<u64, String> {
    text.trim()
        .parse::<u64>()
        .map_err(|_| format!("`{text}` is not a whole number from 0 to {}", u64::MAX))
}

fn parse_build_arg(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

/// `KEY=VALUE`, or `KEY` for a value read from the environment later. Never fails: clap would
/// quote the value in its error, so `config` checks the key instead.
fn parse_secret_build_arg(text: &str) -> Result<(String, Option<String>), String> {
    Ok(match text.split_once('=') {
        Some((key, value)) => (key.to_string(), Some(value.to_string())),
        None => (text.to_string(), None),
    })
}

/// "5" or "5%" as the fraction 0.05; from 0 up to 100%.
pub fn parse_percent(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('%').parse::<f64>() {
        Ok(percent) if percent.is_finite() && (0.0..100.0).contains(&percent) => {
            Ok(percent / 100.0)
        }
        _ => Err(format!("`{text}` is not a percentage from 0 up to 100")),
    }
}

/// "1MB", "500kB", "2MiB", "1GB" or plain bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let multiplier: f64 = match unit.trim() {
        "" | "B" => 1.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(format!("`{text}` is not a size such as 1MB, 500kB or 2MiB")),
    };
    match number.parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 => {
            let bytes = (value * multiplier).round();
            // Compared as a float: a cast would saturate 1e30 bytes to u64::MAX silently.
            if bytes > MAX_SIZE_FLOOR_BYTES as f64 {
                Err(format!(
                    "`{text}` is more than 1TB, the largest size stagebench takes"
                ))
            } else {
                Ok(bytes as u64)
            }
        }
        _ => Err(format!("`{text}` is not a size such as 1MB, 500kB or 2MiB")),
    }
}

/// A baseline's name becomes a folder name: letters, digits, `_`, `.` and `-`.
fn parse_baseline_name(text: &str) -> Result<String, String> {
    let valid = text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if valid {
        Ok(text.to_string())
    } else {
        Err(format!(
            "`{text}` must start with a letter or digit and hold only letters, digits, `_`, `.` and `-`"
        ))
    }
}

/// `--require-runs`: no interval, so no verdict, exists below 2 runs a side.
fn parse_required_runs(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(runs) if (MIN_REQUIRED_RUNS..=MAX_REQUIRED_RUNS).contains(&runs) => Ok(runs),
        _ => Err(format!(
            "`{text}` is not a whole number from {MIN_REQUIRED_RUNS} (the fewest runs an interval can be formed from) to {MAX_REQUIRED_RUNS}"
        )),
    }
}

/// `--timeout`: more than 0 and at most [`MAX_TIMEOUT_SECONDS`].
pub fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds > 0.0 && seconds <= MAX_TIMEOUT_SECONDS => {
            Ok(seconds)
        }
        Ok(seconds) if seconds > MAX_TIMEOUT_SECONDS => Err(format!(
            "`{text}` is more than {MAX_TIMEOUT_SECONDS} seconds (a week), the longest timeout stagebench takes"
        )),
        _ => Err(format!(
            "`{text}` is not a number of seconds more than 0 and at most {MAX_TIMEOUT_SECONDS} (a week)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;

    use clap::Parser;

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, String> {
        let mut all = vec!["stagebench"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).map_err(|e| e.to_string())
    }

    #[test]
    fn every_export_of_the_registry_is_a_flag_of_run_report_and_merge_and_reaches_its_target() {
        for format in ExportFormat::ALL {
            let flag = format.flag();
            let commands: [Vec<&str>; 3] = [
                vec!["run", "scenarios/x", flag, "out.file"],
                vec!["report", "dir", flag, "out.file"],
                vec!["merge", "a", "--out", "m", flag, "out.file"],
            ];
            for args in commands {
                let cli = parse(&args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
                let export = match &cli.command {
                    Command::Run(run) => &run.export,
                    Command::Report(report) => &report.export,
                    Command::Merge(merge) => &merge.export,
                    _ => unreachable!(),
                };
                let targets = export.targets();
                assert_eq!(
                    targets.target(format),
                    Some(std::path::Path::new("out.file")),
                    "{args:?}"
                );
                assert_eq!(targets.iter().count(), 1, "{args:?}");
            }
        }
    }

    fn run_args(args: &[&str]) -> RunArgs {
        match parse(&[&["run", "."], args].concat()) {
            Ok(Cli {
                command: Command::Run(args),
            }) => *args,
            other => panic!("{args:?}: {:?}", other.err()),
        }
    }

    #[test]
    fn every_number_has_a_bound_refused_in_one_sentence_naming_the_flag() {
        for (flag, within, beyond, says) in [
            ("--runs", "1000", "1001", "outside 1 to 1000"),
            ("--runs", "1", "0", "outside 1 to 1000"),
            ("--runs", "3", "4294967295", "outside 1 to 1000"),
            ("--runs", "3", "three", "not a whole number"),
            ("--runs", "auto", "automatic", "nor `auto`"),
            ("--min-runs", "3", "2", "outside 3 to 1000"),
            ("--max-runs", "1000", "1001", "outside 1 to 1000"),
            (
                "--time-budget",
                "1h 30m",
                "8d",
                "more than 0 and at most a week",
            ),
            ("--time-budget", "90", "soon", "not a duration"),
            ("--warmup", "100", "101", "outside 0 to 100"),
            ("--timeout", "604800", "604801", "more than 604800 seconds"),
            ("--timeout", "0.5", "1e20", "more than 604800 seconds"),
            ("--timeout", "1", "NaN", "more than 0 and at most 604800"),
            ("--timeout", "1", "0", "more than 0 and at most 604800"),
            ("--noise-threshold", "99.9", "100", "from 0 up to 100"),
            ("--time-threshold", "0", "inf", "from 0 up to 100"),
            ("--size-threshold", "5%", "five", "from 0 up to 100"),
            ("--size-floor", "1000GB", "1001GB", "more than 1TB"),
            ("--size-floor", "0", "1e30", "not a size"),
            (
                "--seed",
                "18446744073709551615",
                "18446744073709551616",
                "from 0 to 18446744073709551615",
            ),
        ] {
            run_args(&[flag, within]);
            let error = parse(&["run", ".", flag, beyond]).err().unwrap();
            assert!(error.contains(flag), "{flag} {beyond}: {error}");
            assert!(error.contains(says), "{flag} {beyond}: {error}");
            assert!(error.starts_with("error: "), "{error}");
        }
        let args = run_args(&["--runs", "1000", "--warmup", "100", "--timeout", "604800"]);
        assert_eq!((args.runs, args.warmup), (Some(RunsArg::Fixed(1000)), 100));
        assert_eq!(
            run_args(&[]).runs,
            None,
            "the profile or the default decides"
        );
        assert_eq!(args.timeout, Some(MAX_TIMEOUT_SECONDS));
        assert_eq!(
            run_args(&["--size-floor", "1000GB"]).gate.size_floor,
            MAX_SIZE_FLOOR_BYTES
        );
        for command in [
            &["report", "d"][..],
            &["history", "d"],
            &["compare", "a", "b"],
        ] {
            let error = parse(&[command, &["--noise-threshold", "250"]].concat())
                .err()
                .unwrap();
            assert!(error.contains("--noise-threshold"), "{error}");
        }
    }

    #[test]
    fn a_non_utf8_path_is_a_path_and_non_utf8_text_is_refused_naming_the_flag() {
        let bytes = |prefix: &[u8]| {
            let mut raw = prefix.to_vec();
            raw.extend_from_slice(b"caf\xe9");
            OsString::from_vec(raw)
        };
        let parsed = Cli::try_parse_from([
            OsString::from("stagebench"),
            OsString::from("run"),
            bytes(b""),
            OsString::from("--out"),
            bytes(b"out-"),
            OsString::from("--dockerfile"),
            bytes(b"multi="),
        ])
        .unwrap();
        let Command::Run(args) = parsed.command else {
            panic!("not run");
        };
        assert_eq!(args.scenarios[0].as_os_str().as_bytes(), b"caf\xe9");
        assert_eq!(args.out.unwrap().as_os_str().as_bytes(), b"out-caf\xe9");
        assert_eq!(args.dockerfiles[0].0, "multi");
        assert_eq!(args.dockerfiles[0].1.as_os_str().as_bytes(), b"caf\xe9");
        for (flag, value) in [
            ("--variant", bytes(b"")),
            ("--profile", bytes(b"")),
            ("--build-arg", bytes(b"K=")),
            ("--secret-build-arg", bytes(b"K=")),
            ("--secret", bytes(b"id=a,src=")),
            ("--docker-host", bytes(b"")),
            ("--context", bytes(b"")),
            ("--baseline", bytes(b"")),
            ("--runs", bytes(b"3")),
            ("--timeout", bytes(b"3")),
            ("--dockerfile", OsString::from_vec(b"caf\xe9=x".to_vec())),
        ] {
            let error = Cli::try_parse_from([
                OsString::from("stagebench"),
                OsString::from("run"),
                OsString::from("."),
                OsString::from(flag),
                value,
            ])
            .err()
            .unwrap()
            .to_string();
            assert!(
                error.contains(flag) && error.contains("UTF-8"),
                "{flag}: {error}"
            );
            assert!(!error.contains("one or more arguments"), "{flag}: {error}");
        }
    }
}
