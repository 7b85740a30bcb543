//! The results folders of a run: created with their meta.json (settings, the invocation, one
//! environment per host, one entry per scenario and host), or reopened by `--resume` after
//! checking that its hosts are the machines the run started on.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Host, RunError, RunNote};
use crate::config::{OutputLocation, RunSettings};
use crate::dockerfile;
use crate::plan::Plan;
use crate::results::{
    HostEnvironment, HostInfo, Invocation, META_SCHEMA_VERSION, ResultsFolder, RunMeta,
    ScenarioMeta, VariantMeta,
};
use crate::scenario::{BuildArgs, Scenario, Variant};
use crate::workdir::{recorded_path, relative_path};

/// A resumed run must continue on the same machines: a host whose fingerprint changed would
/// put two machines' samples under one name.
pub(super) fn check_resumed_hosts(
    settings: &RunSettings,
    environments: &[Option<HostEnvironment>],
) -> Result<(), RunError> {
    let (Some(resumed), OutputLocation::Resume(dir)) = (&settings.resumed, &settings.out) else {
        return Ok(());
    };
    for environment in environments.iter().flatten() {
        if let Some(recorded) = resumed.meta.host(&environment.name)
            && recorded.fingerprint() != environment.fingerprint()
        {
            return Err(RunError::Resume {
                dir: dir.clone(),
                reason: format!(
                    "host {} is not the daemon the run started on ({}); start a new run instead",
                    environment.name,
                    recorded.difference(environment).unwrap_or_default()
                ),
            });
        }
    }
    Ok(())
}

/// Folders, the folder of each scenario, and notes for the user.
pub(super) type OpenedFolders = (Vec<Arc<ResultsFolder>>, Vec<usize>, Vec<RunNote>);

/// Creates (or, with `--resume`, reopens) every results folder with its meta.json, and says
/// which folder each scenario's rows go to.
pub(super) fn open_folders(
    settings: &RunSettings,
    plan: &Plan,
    hosts: &[Host],
    environments: &[Option<HostEnvironment>],
    started_at: &str,
) -> Result<OpenedFolders, RunError> {
    let groups: Vec<(PathBuf, Vec<usize>)> = match &settings.out {
        OutputLocation::Explicit(dir) | OutputLocation::Resume(dir) => {
            vec![(dir.clone(), (0..settings.scenarios.len()).collect())]
        }
        OutputLocation::Default {
            reports_root,
            timestamp,
        } => settings
            .scenarios
            .iter()
            .enumerate()
            .map(|(index, s)| {
                (
                    unused_dir(&reports_root.join(&s.name).join(timestamp)),
                    vec![index],
                )
            })
            .collect(),
    };
    let invocation = Invocation {
        run_id: settings.run_id.clone(),
        command_line: settings.command_line.clone(),
        stagebench_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at: started_at.to_string(),
        ended_at: None,
        wall_seconds: None,
        interrupted: false,
    };
    let mut folders = Vec::new();
    let mut notes = Vec::new();
    let mut folder_of = vec![0; settings.scenarios.len()];
    for (folder_index, (dir, scenarios)) in groups.into_iter().enumerate() {
        for &scenario in &scenarios {
            folder_of[scenario] = folder_index;
        }
        // Which hosts run this folder's scenarios, and the entry of each (scenario, host).
        let mut entries = Vec::new();
        let mut used_hosts = Vec::new();
        for host_plan in &plan.hosts {
            for scenario_plan in &host_plan.scenarios {
                if !scenarios.contains(&scenario_plan.scenario) {
                    continue;
                }
                let host = &hosts[host_plan.host];
                let mut entry =
                    scenario_entry(settings, scenario_plan.scenario, &host.endpoint.name);
                entry.notes.clone_from(&scenario_plan.notes);
                entry.dir_from_results =
                    relative_path(&dir, &settings.scenarios[scenario_plan.scenario].root());
                if let Err(error) = &host.connection {
                    entry.not_run = Some(format!(
                        "host {} was not reached: {error}",
                        host.endpoint.name
                    ));
                }
                entries.push(entry);
                if !used_hosts.contains(&host_plan.host) {
                    used_hosts.push(host_plan.host);
                }
            }
        }
        let host_environments: Vec<HostEnvironment> = used_hosts
            .iter()
            .filter_map(|&h| environments[h].clone())
            .collect();
        let output_error = |dir: &Path| {
            let dir = dir.to_path_buf();
            move |source| RunError::Output { dir, source }
        };
        let folder = match (&settings.resumed, &settings.out) {
            (Some(resumed), OutputLocation::Resume(_)) => {
                let mut meta = resumed.meta.clone();
                meta.schema_version = META_SCHEMA_VERSION;
                meta.invocations.push(invocation.clone());
                for environment in host_environments {
                    if meta.host(&environment.name).is_none() {
                        meta.hosts.push(environment);
                    }
                }
                for entry in entries {
                    match meta
                        .scenarios
                        .iter_mut()
                        .find(|s| s.name == entry.name && s.host == entry.host)
                    {
                        Some(existing) => existing.not_run = entry.not_run,
                        None => meta.scenarios.push(entry),
                    }
                }
                let (folder, cut) =
                    ResultsFolder::reopen(&dir, meta).map_err(output_error(&dir))?;
                if cut {
                    notes.push(RunNote::LastRowCut { dir: dir.clone() });
                }
                folder
            }
            _ => {
                let meta = RunMeta {
                    schema_version: META_SCHEMA_VERSION,
                    stagebench_version: env!("CARGO_PKG_VERSION").to_string(),
                    settings: settings.recorded(&scenarios, &dir),
                    invocations: vec![invocation.clone()],
                    hosts: host_environments,
                    client_host: HostInfo::current(),
                    scenarios: entries,
                    merged_from: Vec::new(),
                };
                ResultsFolder::create(&dir, meta).map_err(output_error(&dir))?
            }
        };
        folders.push(Arc::new(folder));
    }
    Ok((folders, folder_of, notes))
}

/// The meta.json entry of one scenario on one host, before anything is measured.
fn scenario_entry(settings: &RunSettings, index: usize, host: &str) -> ScenarioMeta {
    let scenario = &settings.scenarios[index];
    let root = scenario.root();
    let profile = settings.profile_args(scenario);
    // Paths relative to the working directory or the scenario, never absolute: meta.json is
    // published with the reports.
    ScenarioMeta {
        name: scenario.name.clone(),
        dir: settings.recorded_path(&scenario.dir),
        host: host.to_string(),
        description: scenario.description.clone(),
        baseline: scenario.baseline.clone(),
        variants: settings
            .selected_variants(scenario)
            .iter()
            .map(|v| VariantMeta {
                name: v.name.clone(),
                dockerfile: recorded_path(&root, &v.dockerfile),
                target: v.target.clone(),
                build_args: settings.recorded_build_args(scenario, &v.build_args),
                image_tag: settings.variant_image_tag(scenario, &v.name),
                prebuilds: prebuilds_used(scenario, v, profile, &settings.options.build_args),
            })
            .collect(),
        touched_files: scenario
            .touch
            .iter()
            .map(|p| recorded_path(&root, &root.join(p)))
            .collect(),
        touched_in_context: Some({
            let context = std::fs::canonicalize(&scenario.context_dir)
                .unwrap_or_else(|_| scenario.context_dir.clone());
            scenario
                .touch
                .iter()
                .map(|p| recorded_path(&context, &root.join(p)))
                .collect()
        }),
        edit: scenario.edit,
        inputs: settings.inputs.get(index).cloned().unwrap_or_default(),
        ..ScenarioMeta::default()
    }
}

/// `dir`, or `dir-2`, `dir-3` ... when a run in the same second already wrote there.
fn unused_dir(dir: &Path) -> PathBuf {
    let mut candidate = dir.to_path_buf();
    let mut n = 2;
    while candidate.exists() {
        candidate = PathBuf::from(format!("{}-{n}", dir.display()));
        n += 1;
    }
    candidate
}

/// The tags of `scenario`'s prebuilds that `variant`'s Dockerfile builds on; empty when it
/// cannot be read (the build itself then reports the file).
fn prebuilds_used(
    scenario: &Scenario,
    variant: &Variant,
    profile: Option<&BuildArgs>,
    command_line: &BuildArgs,
) -> Vec<String> {
    let Ok(text) = crate::text_file::read_string_no_follow(&variant.dockerfile) else {
        return Vec::new();
    };
    let args = scenario.merged_build_args(&variant.build_args, profile, command_line);
    let used: Vec<String> = dockerfile::read_facts(&text, &args)
        .images
        .into_iter()
        .map(|image| image.name)
        .collect();
    scenario
        .prebuilds
        .iter()
        .filter(|p| used.contains(&p.tag))
        .map(|p| p.tag.clone())
        .collect()
}
