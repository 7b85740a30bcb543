//! The results folders of a run: created with their meta.json (settings, the invocation, one
//! environment per host, one entry per scenario and host), or reopened by `--resume` after
//! checking that its hosts are the machines the run started on.

use std::path::Path;
use std::sync::Arc;

use super::{Host, RunError, RunNote};
use crate::plan::Plan;
use crate::results::{
    HostEnvironment, HostInfo, Invocation, META_SCHEMA_VERSION, ResultsFolder, RunMeta,
};
use crate::results_layout::{ResultsLayout, ResumedFolder};

/// A resumed run must continue on the same machines: a host whose fingerprint changed would
/// put two machines' samples under one name.
pub(super) fn check_resumed_hosts(
    resumed: Option<&ResumedFolder>,
    environments: &[Option<HostEnvironment>],
) -> Result<(), RunError> {
    let Some(ResumedFolder { dir, meta, .. }) = resumed else {
        return Ok(());
    };
    for environment in environments.iter().flatten() {
        if let Some(recorded) = meta.host(&environment.name)
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
    layout: &ResultsLayout,
    plan: &Plan,
    hosts: &[Host],
    environments: &[Option<HostEnvironment>],
    run_id: &str,
    started_at: &str,
) -> Result<OpenedFolders, RunError> {
    let invocation = Invocation {
        run_id: run_id.to_string(),
        command_line: layout.command_line.clone(),
        stagebench_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at: started_at.to_string(),
        ended_at: None,
        wall_seconds: None,
        interrupted: false,
    };
    let mut folders = Vec::new();
    let mut notes = Vec::new();
    let scenario_count = layout.folders.iter().map(|f| f.entries.len()).sum();
    let mut folder_of = vec![0; scenario_count];
    for (folder_index, folder) in layout.folders.iter().enumerate() {
        let dir = folder.dir.clone();
        for &scenario in folder.entries.keys() {
            if let Some(slot) = folder_of.get_mut(scenario) {
                *slot = folder_index;
            }
        }
        // Which hosts run this folder's scenarios, and the entry of each (scenario, host).
        let mut entries = Vec::new();
        let mut used_hosts = Vec::new();
        for host_plan in &plan.hosts {
            for scenario_plan in &host_plan.scenarios {
                let Some(template) = folder.entries.get(&scenario_plan.scenario.index) else {
                    continue;
                };
                let host = &hosts[host_plan.host];
                let mut entry = template.clone();
                entry.host.clone_from(&host.endpoint.name);
                entry.notes.clone_from(&scenario_plan.notes);
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
        let opened = match &layout.resumed {
            Some(resumed) => {
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
            None => {
                let meta = RunMeta {
                    schema_version: META_SCHEMA_VERSION,
                    stagebench_version: env!("CARGO_PKG_VERSION").to_string(),
                    settings: folder.settings.clone(),
                    invocations: vec![invocation.clone()],
                    hosts: host_environments,
                    client_host: HostInfo::current(),
                    scenarios: entries,
                    merged_from: Vec::new(),
                };
                ResultsFolder::create(&dir, meta).map_err(output_error(&dir))?
            }
        };
        folders.push(Arc::new(opened));
    }
    Ok((folders, folder_of, notes))
}
