//! `stagebench run`: the builds planned, run on every host and reported, the baseline gate and
//! its saving, and what Ctrl-C or SIGTERM do meanwhile.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::cli::RunArgs;
use crate::commands::compare::gate;
use crate::commands::report::print_table;
use crate::commands::{EXIT_FAILURE, EXIT_USAGE};
use crate::compare::{DEFAULT_REQUIRED_RUNS, DEFAULT_TIME_THRESHOLD};
use crate::config::{Gate, RunSettings};
use crate::docs::{self, Documented};
use crate::engine::{self, Endpoint, RegistryLogin};
use crate::plan;
use crate::progress::Progress;
use crate::registry::RegistryAccess;
use crate::report::{self, ReportData};
use crate::results::{BuildStatus, RESULTS_FILE, ResultSet, is_results_folder};
use crate::run_options::GatedLooks;
use crate::runner::{self, Host};
use crate::secrets::BuildSecretValues;

/// Exit code after Ctrl-C (128 + SIGINT), as shells report death by SIGINT.
const EXIT_INTERRUPTED: u8 = 130;
/// Exit code after SIGTERM (128 + SIGTERM).
const EXIT_TERMINATED: u8 = 143;

/// Which signal stopped the run, for its exit code: set once by the listener.
static STOPPED_BY: std::sync::OnceLock<u8> = std::sync::OnceLock::new();

pub(crate) async fn run_command(
    args: &RunArgs,
    command_line: Vec<String>,
) -> anyhow::Result<ExitCode> {
    // The program as typed, for the resume hint; meta.json records only its file name.
    let program = command_line
        .first()
        .cloned()
        .unwrap_or_else(|| "stagebench".to_string());
    // Every flag is resolved here; nothing below reads `args`.
    let mut settings = RunSettings::from_args(args, command_line)?;
    let budget_note = fit_rounds_to_budget(&mut settings);
    let plan_for = |settings: &RunSettings,
                    engines: &BTreeMap<String, crate::builder::EngineKind>| {
        plan::plan(
            settings.scenarios(),
            &settings.host_names(),
            &settings.plan_settings(engines),
            &settings.already_done(),
            &settings.pinned_hosts(),
        )
    };
    if let Some(dir) = settings.resumed_dir()
        && plan_for(&settings, &BTreeMap::new())
            .scenario_plans()
            .all(|s| s.builds.is_empty())
    {
        eprintln!(
            "stagebench: nothing to resume: every planned build of {} has finished",
            dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    // The baseline is read and checked before anything is built, and that same reading is
    // what the run is compared with at its end.
    let saved = match settings
        .gate()
        .and_then(|g| Some((g, g.baseline.as_ref()?)))
    {
        Some((gate, name)) => {
            // With --runs auto a series may stop after --min-runs.
            let fewest_runs = settings
                .stopping()
                .map_or(("--runs", settings.runs()), |s| ("--min-runs", s.min_runs));
            match gateable(name, fewest_runs, gate.thresholds.required_runs) {
                Ok(saved) => Some(saved),
                Err(problem) => {
                    eprintln!(
                        "stagebench: {}",
                        docs::with_pointer(&problem, Some(docs::BASELINES))
                    );
                    return Ok(ExitCode::from(EXIT_USAGE));
                }
            }
        }
        None => None,
    };
    match looks_gate(&settings, saved.as_ref()) {
        Ok(looks) => settings.set_gated_looks(looks),
        Err(problem) => {
            eprintln!(
                "stagebench: {}",
                docs::with_pointer(&problem, Some(docs::BASELINES))
            );
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    }
    // A registry that does not answer or refuses the credentials would fail the first cached
    // build minutes in; it is asked once before any build instead.
    if let Some(access) = settings.registry() {
        access.client()?.check().await?;
    }
    let registry_logins = Arc::new(
        settings
            .registry()
            .map(RegistryAccess::logins)
            .unwrap_or_default(),
    );
    let hosts = connect_all(
        settings.endpoints(),
        settings.secrets().mounted(),
        &registry_logins,
    )
    .await;
    // A host's engine may run its builds with another builder, which changes what a cold reset
    // empties and so where priming builds go.
    let plan = plan_for(&settings, &runner::engines(&hosts));
    let cancel = CancellationToken::new();
    spawn_interrupt_listener(cancel.clone());

    let progress = Arc::new(Progress::new(
        settings.progress(),
        plan.total_builds(),
        hosts.len(),
    ));
    for warning in settings.warnings() {
        progress.note(&format!("stagebench: warning: {warning}"));
    }
    if let Some(note) = &budget_note {
        progress.note(note);
    }
    for host in &hosts {
        if let Err(error) = &host.connection
            && hosts.len() > 1
        {
            progress.note(&format!(
                "stagebench: host {} is not reachable; its scenarios are not run: {error}",
                host.endpoint.name
            ));
        }
    }
    let announcing = Arc::new(AnnouncingSink {
        progress: Arc::clone(&progress),
        lines: std::sync::Mutex::new(plan_lines(&settings, &plan)),
    });
    let mut policy = settings.policy();
    if settings.stopping().is_some() {
        let gate = settings.gate().zip(saved.as_ref()).map(|(gate, saved)| {
            crate::stats::stopping::GateSettings {
                baseline: Arc::new(saved.clone()),
                time_threshold: gate.thresholds.time,
                required_runs: gate.thresholds.required_runs,
                allow_different_hosts: gate.allow_different_hosts,
            }
        });
        policy.round_judge = Some(Arc::new(crate::stats::stopping::RecordedLooks { gate }));
    }
    let result = runner::run(
        plan,
        policy,
        settings.results_layout(),
        hosts,
        announcing as Arc<dyn runner::EventSink>,
        cancel,
    )
    .await;
    progress.finish();
    let mut outcome = result.map_err(|error| {
        // The sentence may quote a build; the pointer is added after redaction, as it is ours.
        let sentence = settings.secrets().redact(&error.to_string());
        anyhow::anyhow!(docs::with_pointer(&sentence, error.doc_section()))
    })?;

    // Reports are made from the files on disk, exactly as `stagebench report` would make them.
    let mut reports = Vec::new();
    for dir in &outcome.out_dirs {
        match ReportData::load(dir).and_then(|data| report::write_all(&data, dir).map(|_| data)) {
            Ok(data) => reports.push(data),
            Err(error) => outcome
                .problems
                .push(format!("report for {}: {error}", dir.display())),
        }
    }
    if let Some(data) = ReportData::combine(reports) {
        if !settings.is_quiet() {
            print_table(&data, settings.exports().use_stdout());
            if let Some(sentence) = report::stopping_builds_sentence(&data) {
                eprintln!("{sentence}");
            }
            let several_hosts = data.meta.hosts.len() > 1;
            for scenario in &data.meta.scenarios {
                if let Some(cost) = &scenario.cost {
                    let on = if several_hosts {
                        format!(" on {}", scenario.host)
                    } else {
                        String::new()
                    };
                    eprintln!(
                        "cost of {}{on}: {}",
                        scenario.name,
                        report::cost_sentence(cost)
                    );
                }
            }
        }
        report::write_exports(settings.exports(), &data, None)?;
    }

    for problem in &outcome.problems {
        eprintln!("stagebench: {problem}");
    }
    if !settings.is_quiet() {
        for dir in &outcome.out_dirs {
            eprintln!("results: {}", dir.join(RESULTS_FILE).display());
        }
    }
    let resume_hint = || {
        let commands: Vec<String> = outcome
            .out_dirs
            .iter()
            .map(|dir| resume_command(&program, dir, settings.gated_looks()))
            .collect();
        commands.join(" && ")
    };
    if outcome.interrupted {
        eprintln!(
            "stagebench: interrupted; the {} builds measured so far are kept; continue with: {}",
            outcome.count(BuildStatus::Ok)
                + outcome.count(BuildStatus::Failed)
                + outcome.count(BuildStatus::TimedOut)
                + outcome.count(BuildStatus::CacheMismatch),
            resume_hint()
        );
        let code = STOPPED_BY.get().copied().unwrap_or(EXIT_INTERRUPTED);
        return Ok(ExitCode::from(code));
    }
    let failed = outcome.count(BuildStatus::Failed) + outcome.count(BuildStatus::TimedOut);
    if failed > 0 {
        eprintln!(
            "stagebench: {failed} of {} builds failed or timed out; see the error column of results.csv",
            outcome.records.len()
        );
    }
    if outcome.unfinished {
        eprintln!(
            "stagebench: some planned builds did not run; continue with: {}",
            resume_hint()
        );
    }
    let clean = failed == 0 && !outcome.unfinished && outcome.problems.is_empty();
    let gate_exit = settings
        .gate()
        .and_then(|gate| baselines(gate, saved, &outcome.out_dirs, clean));
    if !clean {
        return Ok(ExitCode::from(EXIT_FAILURE));
    }
    Ok(gate_exit.unwrap_or(ExitCode::SUCCESS))
}

/// The progress display, which says the plan's lines once the runner has accepted every host
/// and named its results folders, before anything else it reports: a run refused before that
/// says only why.
struct AnnouncingSink {
    progress: Arc<Progress>,
    /// Said at the first event after the results folders are named, then empty.
    lines: std::sync::Mutex<Vec<String>>,
}

impl runner::EventSink for AnnouncingSink {
    fn emit(&self, event: runner::RunEvent) {
        let naming_folders = matches!(
            &event,
            runner::RunEvent::Note {
                note: runner::RunNote::WritingResults { .. } | runner::RunNote::LastRowCut { .. },
                ..
            }
        );
        if !naming_folders {
            let lines = match self.lines.lock() {
                Ok(mut lines) => std::mem::take(&mut *lines),
                Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
            };
            for line in lines {
                self.progress.note(&line);
            }
        }
        self.progress.emit(event);
    }
}

/// `--time-budget` on a new run: when an earlier run of every scenario gives an estimate, the
/// rounds planned (`--runs`, or `--max-runs` with `--runs auto`) are lowered to as many as the
/// slowest host's estimate fits, never below one (or `--min-runs`). Returns what it did or why it
/// could not, for the user; `None` without a budget.
fn fit_rounds_to_budget(settings: &mut RunSettings) -> Option<String> {
    let budget_seconds = settings.time_budget_seconds()?;
    if settings.resumed_dir().is_some() {
        return None;
    }
    let planned_runs = settings.runs();
    let plan = plan::plan(
        settings.scenarios(),
        &settings.host_names(),
        &settings.plan_settings(&BTreeMap::new()),
        &settings.already_done(),
        &settings.pinned_hosts(),
    );
    let host_names = settings.host_names();
    let mut seconds_by_host = vec![0.0_f64; host_names.len()];
    for host_plan in &plan.hosts {
        let host = host_names
            .get(host_plan.host)
            .map_or(crate::host_name::LOCAL_HOST_NAME, String::as_str);
        for scenario_plan in &host_plan.scenarios {
            let scenario = &scenario_plan.scenario;
            let (_, estimated) = prior_and_estimate(settings, scenario_plan, host);
            match estimated {
                Some(Ok(estimate)) => seconds_by_host[host_plan.host] += estimate.high_seconds,
                _ => {
                    return Some(format!(
                        "--time-budget: no estimate for {} yet, so {planned_runs} rounds are planned and the budget stops the run when it is spent",
                        scenario.name
                    ));
                }
            }
        }
    }
    let slowest_seconds = seconds_by_host.into_iter().fold(0.0, f64::max);
    if slowest_seconds <= budget_seconds {
        return Some(format!(
            "--time-budget: by the estimate (at most {}), all {planned_runs} rounds fit",
            crate::run_estimate::minutes_or_seconds(slowest_seconds)
        ));
    }
    let floor = settings.stopping().map_or(1, |s| s.min_runs);
    let fitting = ((f64::from(planned_runs) * budget_seconds / slowest_seconds).floor() as u32)
        .clamp(floor.min(planned_runs), planned_runs);
    settings.plan_runs(fitting);
    let flag = if settings.stopping().is_some() {
        "--max-runs"
    } else {
        "--runs"
    };
    Some(format!(
        "--time-budget: by the estimate, {planned_runs} rounds would take up to {}; {flag} lowered to {fitting}{}",
        crate::run_estimate::minutes_or_seconds(slowest_seconds),
        if fitting == floor
            && f64::from(fitting) * slowest_seconds / f64::from(planned_runs) > budget_seconds
        {
            ", which may not fit either: the budget stops the run when it is spent"
        } else {
            ""
        }
    ))
}

/// The earlier run of `scenario_plan`'s scenario and profile on `host` that `run` judges by, and
/// its estimate of the plan (see [`crate::run_estimate`]).
fn prior_and_estimate(
    settings: &RunSettings,
    scenario_plan: &plan::ScenarioPlan,
    host: &str,
) -> (
    Option<crate::run_estimate::PriorRun>,
    Option<Result<crate::run_estimate::Estimate, String>>,
) {
    let scenario = &scenario_plan.scenario;
    let (dirs, writes) = settings.prior_search_dirs(&scenario.name);
    let prior = crate::run_estimate::find_prior(
        &dirs,
        &scenario.name,
        settings.profile(),
        host,
        settings.inputs_sha256(scenario.index),
        &writes,
    );
    let estimated = prior
        .as_ref()
        .map(|p| crate::run_estimate::estimate(scenario_plan, p));
    (prior, estimated)
}

/// One line a scenario plan: how many builds it makes and about how long they take, judged by an
/// earlier run of the scenario and profile (see [`crate::run_estimate`]). None when quiet.
fn plan_lines(settings: &RunSettings, plan: &plan::Plan) -> Vec<String> {
    use crate::run_estimate::{PlanCount, plan_line};
    let mut lines = Vec::new();
    if settings.is_quiet() {
        return lines;
    }
    let host_names = settings.host_names();
    for host_plan in &plan.hosts {
        let host = host_names
            .get(host_plan.host)
            .map_or(crate::host_name::LOCAL_HOST_NAME, String::as_str);
        for scenario_plan in &host_plan.scenarios {
            let scenario = &scenario_plan.scenario;
            let (prior, estimated) = prior_and_estimate(settings, scenario_plan, host);
            let line = plan_line(
                &scenario.name,
                settings.profile(),
                (host_names.len() > 1).then_some(host),
                &PlanCount::of(scenario_plan, settings.runs()),
                prior.as_ref(),
                estimated,
            );
            // With --runs auto the count and the estimate are for --max-runs, a ceiling.
            lines.push(match settings.stopping() {
                Some(stopping) => format!(
                    "{line}; with --runs auto, at most that: each series stops once its comparisons are settled, after {} to {} runs",
                    stopping.min_runs, stopping.max_runs
                ),
                None => line,
            });
        }
    }
    lines
}

/// `--baseline NAME` compares the run with `saved`, the baseline NAME as read before the run
/// (returning the gate's exit code); `--save-baseline NAME` then saves the run as that
/// baseline, but only when it ran cleanly, since a baseline with holes would let later
/// regressions pass.
fn baselines(
    settings: &Gate,
    saved: Option<ResultSet>,
    out_dirs: &[std::path::PathBuf],
    clean: bool,
) -> Option<ExitCode> {
    if saved.is_none() && settings.save_baseline.is_none() {
        return None;
    }
    let mut parts = Vec::new();
    for dir in out_dirs {
        match ResultSet::load(dir) {
            Ok(set) => parts.push(set),
            Err(error) => {
                eprintln!(
                    "stagebench: the run's results cannot be read back for its baseline: {error}"
                );
                return Some(ExitCode::from(EXIT_FAILURE));
            }
        }
    }
    let Some(current) = ResultSet::combine_one_run(parts) else {
        eprintln!("stagebench: the run wrote no results, so it was neither compared nor saved");
        return Some(ExitCode::from(EXIT_FAILURE));
    };
    let mut exit = saved.map(|saved| {
        gate(
            &saved,
            &current,
            settings.thresholds,
            settings.allow_different_hosts,
            None,
        )
        .0
    });
    let gate_passed = exit.as_ref().is_none_or(|code| *code == ExitCode::SUCCESS);
    if let Some(name) = &settings.save_baseline {
        if !gate_passed {
            eprintln!(
                "stagebench: baseline `{name}` was not replaced: the comparison did not pass"
            );
        } else if clean {
            match save_baseline(name, current) {
                Ok(dir) => eprintln!("saved baseline `{name}` in {}", dir.display()),
                Err(error) => {
                    eprintln!("stagebench: {error:#}");
                    exit = Some(ExitCode::from(EXIT_FAILURE));
                }
            }
        } else {
            eprintln!(
                "stagebench: baseline `{name}` was not saved: the run did not complete cleanly"
            );
        }
    }
    exit
}

/// The baseline NAME, when a run of `runs` runs can be gated against it, asked before anything
/// is built: the baseline must exist and be readable, and the run must make the runs the gate
/// needs. `runs` is the fewest a series may get, and `flag` the flag that set it (`--runs`, or
/// `--min-runs` with `--runs auto`).
fn gateable(
    name: &str,
    (flag, runs): (&str, u32),
    required_runs: usize,
) -> Result<ResultSet, String> {
    let saved = saved_baseline(name)?;
    if usize::try_from(runs).is_ok_and(|runs| runs < required_runs) {
        let which = if flag == "--runs" {
            format!("--runs {runs}")
        } else {
            format!("--runs auto with {flag} {runs} (a series may stop after it)")
        };
        return Err(format!(
            "{which} cannot be gated against baseline `{name}`, which needs {required_runs} successful runs of each series (--require-runs); give {flag} {required_runs} or more, or lower --require-runs"
        ));
    }
    Ok(saved)
}

/// The gate a `--runs auto` run's looks are taken under, to be recorded in meta.json: for a new
/// run, the one `--baseline` gives (with `saved`, the baseline as read); for a resumed run, the
/// one its first invocation recorded, which the flags must give again, since a series the gate
/// needed would otherwise stop early and the gate's verdicts would be left unread. `None`
/// without `--runs auto` or without a gate; `Err` is the sentence that refuses the resume.
fn looks_gate(
    settings: &RunSettings,
    saved: Option<&ResultSet>,
) -> Result<Option<GatedLooks>, String> {
    if settings.stopping().is_none() {
        return Ok(None);
    }
    {
        let given = settings.gate().and_then(|gate| {
            Some(GatedLooks {
                baseline: gate.baseline.clone()?,
                // A merged folder may record no invocation; it is then known by its name alone.
                baseline_run_id: saved?.meta.run_id().to_string(),
                time_threshold: gate.thresholds.time,
                required_runs: gate.thresholds.required_runs,
                allow_different_hosts: gate.allow_different_hosts,
            })
        });
        let Some(dir) = settings.resumed_dir() else {
            return Ok(given);
        };
        let refuse = |reason: String| Err(format!("cannot resume {}: {reason}", dir.display()));
        match (settings.gated_looks(), given) {
            (None, None) => Ok(None),
            (Some(recorded), None) => refuse(format!(
                "its looks were taken under the gate against baseline `{}`; continue it with the same: {}",
                recorded.baseline,
                resume_command("stagebench", dir, Some(recorded))
            )),
            (None, Some(_)) => refuse(
                "its looks were taken without a gate; continue it without --baseline, then gate it with `stagebench compare`".to_string(),
            ),
            (Some(recorded), Some(given)) => {
                let mismatch = if recorded.baseline != given.baseline {
                    Some(format!("--baseline {}", recorded.baseline))
                } else if recorded.baseline_run_id != given.baseline_run_id {
                    return refuse(format!(
                        "baseline `{}` is no longer the run its looks were gated against (run {}, now run {}), so its gate cannot be continued; start a new run",
                        recorded.baseline, recorded.baseline_run_id, given.baseline_run_id
                    ));
                } else if (recorded.time_threshold - given.time_threshold).abs() > 1e-12 {
                    Some(format!(
                        "--time-threshold {}",
                        percent_flag(recorded.time_threshold)
                    ))
                } else if recorded.required_runs != given.required_runs {
                    Some(format!("--require-runs {}", recorded.required_runs))
                } else if recorded.allow_different_hosts != given.allow_different_hosts {
                    Some(if recorded.allow_different_hosts {
                        "--allow-different-hosts".to_string()
                    } else {
                        "no --allow-different-hosts".to_string()
                    })
                } else {
                    None
                };
                match mismatch {
                    Some(flag) => refuse(format!(
                        "its looks were gated with {flag}; continue it with the same: {}",
                        resume_command("stagebench", dir, Some(recorded))
                    )),
                    None => Ok(Some(given)),
                }
            }
        }
    }
}

/// A fraction as `--time-threshold` takes it, in percent: `0.1` as `10`.
fn percent_flag(fraction: f64) -> String {
    let text = format!("{:.6}", fraction * 100.0);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The baseline NAME, or a sentence saying why there is none to compare with.
fn saved_baseline(name: &str) -> Result<ResultSet, String> {
    let dir = baseline_dir(name);
    if !is_results_folder(&dir) {
        return Err(format!(
            "there is no baseline `{name}` ({} holds no results); save one with --save-baseline {name} alone",
            dir.display()
        ));
    }
    ResultSet::load(&dir).map_err(|error| format!("cannot compare with baseline `{name}`: {error}"))
}

/// Where the baseline NAME lives: `reports/baselines/NAME/`, a results folder.
fn baseline_dir(name: &str) -> std::path::PathBuf {
    Path::new("reports").join("baselines").join(name)
}

/// Writes `set` (with its reports) as the baseline NAME, replacing an earlier one only once the
/// new one is complete.
fn save_baseline(name: &str, set: ResultSet) -> anyhow::Result<std::path::PathBuf> {
    let dir = baseline_dir(name);
    if dir.exists() && !is_results_folder(&dir) {
        anyhow::bail!(
            "{} exists and is not a stagebench results folder, so it is not replaced by baseline `{name}`",
            dir.display()
        );
    }
    let partial = dir.with_file_name(format!(".{name}.partial"));
    if partial.exists() {
        std::fs::remove_dir_all(&partial)
            .with_context(|| format!("cannot remove {}", partial.display()))?;
    }
    set.write(&partial)?;
    report::write_all(&ReportData::new(set), &partial)?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("cannot replace the baseline in {}", dir.display()))?;
    }
    std::fs::rename(&partial, &dir)
        .with_context(|| format!("cannot move the baseline into {}", dir.display()))?;
    Ok(dir)
}

/// The command that continues the run in `dir`, quoted for a POSIX shell; with `gated`, the
/// flags of the gate its looks were taken under.
fn resume_command(program: &str, dir: &Path, gated: Option<&GatedLooks>) -> String {
    let quote = |text: &str| {
        shlex::try_quote(text).map_or_else(|_| text.to_string(), |quoted| quoted.into_owned())
    };
    let mut command = format!(
        "{} run --resume {}",
        quote(program),
        quote(&dir.display().to_string())
    );
    if let Some(gate) = gated {
        command.push_str(&format!(" --baseline {}", quote(&gate.baseline)));
        // Only what differs from the flags' defaults, as a user would type it.
        if (gate.time_threshold - DEFAULT_TIME_THRESHOLD).abs() > 1e-12 {
            command.push_str(&format!(
                " --time-threshold {}",
                percent_flag(gate.time_threshold)
            ));
        }
        if gate.required_runs != DEFAULT_REQUIRED_RUNS {
            command.push_str(&format!(" --require-runs {}", gate.required_runs));
        }
        if gate.allow_different_hosts {
            command.push_str(" --allow-different-hosts");
        }
    }
    command
}

/// Connects to every host at once, each to serve `build_secrets` to its builds and to log in
/// to the registry with `registry_logins`; one that does not answer is kept with its reason.
async fn connect_all(
    endpoints: &[Endpoint],
    build_secrets: &Arc<BuildSecretValues>,
    registry_logins: &Arc<Vec<RegistryLogin>>,
) -> Vec<Host> {
    let attempts = endpoints.iter().map(|endpoint| async move {
        let connection = match engine::connect(endpoint, build_secrets, registry_logins).await {
            Ok(engine) => match engine.facts().await {
                Ok(facts) => Ok((engine, facts)),
                Err(error) => Err(error),
            },
            Err(error) => Err(error),
        };
        Host {
            endpoint: endpoint.clone(),
            connection,
        }
    });
    futures_util::future::join_all(attempts).await
}

/// Ctrl-C or SIGTERM cancels the build in progress; the runner then keeps what it measured,
/// restores touched files and removes what it created.
fn spawn_interrupt_listener(cancel: CancellationToken) {
    tokio::spawn(async move {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        let (code, name) = tokio::select! {
            _ = tokio::signal::ctrl_c() => (EXIT_INTERRUPTED, "interrupt"),
            () = terminate => (EXIT_TERMINATED, "SIGTERM"),
        };
        let _ = STOPPED_BY.set(code);
        eprintln!("stagebench: {name} received, stopping after cleanup");
        cancel.cancel();
    });
}
