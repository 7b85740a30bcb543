//! What a resolved run hands out: the scenarios as this run builds them (which the plan
//! carries), the runner's [`RunPolicy`], the [`ResultsLayout`] with what meta.json records, and
//! what the plan needs; each made from the checked settings alone, never from a flag.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::{Gate, OutputLocation, RunSecrets, RunSettings, resolved, results_roots};
use crate::builder::EngineKind;
use crate::dockerfile;
use crate::engine::Endpoint;
use crate::export_targets::ExportTargets;
use crate::keys::BuildKey;
use crate::plan::PlanSettings;
use crate::planned_scenario::{PlannedPrebuild, PlannedScenario, PlannedVariant};
use crate::progress_mode::ProgressMode;
use crate::registry::RegistryAccess;
use crate::results::{ResultSet, ScenarioMeta, VariantMeta};
use crate::results_layout::{FolderLayout, ResultsLayout, ResumedFolder};
use crate::run_options::{HostSpec, RecordedSettings};
use crate::run_policy::{HostNeeds, RunPolicy};
use crate::scenario::{BuildArgs, Scenario, Variant};
use crate::secrets::SecretSource;
use crate::workdir::{recorded_path, relative_path};

impl RunSettings {
    /// Scenario `index` as this run builds it.
    pub(super) fn planned_scenario(&self, index: usize) -> PlannedScenario {
        let scenario = &self.scenarios[index];
        let variants = self
            .selected_variants(scenario)
            .into_iter()
            .map(|variant| PlannedVariant {
                name: variant.name.clone(),
                dockerfile: variant.dockerfile.clone(),
                context_dir: scenario.context_dir.clone(),
                target: variant.target.clone(),
                build_args: self.build_args(scenario, &variant.build_args),
                tag: self.variant_image_tag(scenario, &variant.name),
            })
            .collect();
        let prebuilds = scenario
            .prebuilds
            .iter()
            .map(|prebuild| PlannedPrebuild {
                tag: prebuild.tag.clone(),
                dockerfile: prebuild.dockerfile.clone(),
                context_dir: prebuild.context_dir.clone(),
                target: prebuild.target.clone(),
                build_args: self.build_args(scenario, &prebuild.build_args),
            })
            .collect();
        PlannedScenario::new(
            index,
            scenario,
            variants,
            prebuilds,
            results_roots(&self.out),
        )
    }

    /// The scenarios as this run builds them, in the order given: what the plan plans.
    pub fn scenarios(&self) -> &[Arc<PlannedScenario>] {
        &self.planned
    }

    /// The Docker hosts, in the order given.
    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// This invocation's id, the `run_id` of its rows.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// `--time-budget` in seconds, if any.
    pub fn time_budget_seconds(&self) -> Option<f64> {
        self.options.time_budget_seconds
    }

    /// Plans `runs` rounds instead (`--time-budget` fitting them): `--runs`, or with `--runs auto`
    /// `--max-runs`, never below `--min-runs`.
    pub fn plan_runs(&mut self, runs: u32) {
        match &mut self.options.stopping {
            Some(stopping) => {
                stopping.max_runs = runs.max(stopping.min_runs);
                self.options.runs = stopping.max_runs;
            }
            None => self.options.runs = runs.max(1),
        }
    }

    /// How a `--runs auto` run stops; `None` for a fixed `--runs`.
    pub fn stopping(&self) -> Option<crate::run_options::Stopping> {
        self.options.stopping
    }

    /// With `--runs auto --baseline`: the gate the looks are taken under, as meta.json records
    /// it (for a resumed run, as its first invocation recorded it).
    pub fn gated_looks(&self) -> Option<&crate::run_options::GatedLooks> {
        self.options.gated_looks.as_ref()
    }

    /// Records the gate the looks are taken under.
    pub fn set_gated_looks(&mut self, looks: Option<crate::run_options::GatedLooks>) {
        self.options.gated_looks = looks;
    }

    /// Timed runs planned per variant and cache mode (with `--runs auto`, `--max-runs`).
    pub fn runs(&self) -> u32 {
        self.options.runs
    }

    /// The `--profile` chosen (or recorded in the folder resumed).
    pub fn profile(&self) -> Option<&str> {
        self.options.profile.as_deref()
    }

    /// The hash of the inputs of the scenario at `index` (in the order given) as the run found
    /// them; empty when unknown.
    pub fn inputs_sha256(&self, index: usize) -> &str {
        self.inputs.get(index).map_or("", |i| i.sha256.as_str())
    }

    /// Where earlier runs of `scenario` are looked for, to estimate this one's time: the folder
    /// this run's results folder is in (the parent of `--out` or `--resume`, or the default
    /// `reports/<scenario>`), then the committed reports, `reports/<scenario>` of the working
    /// directory. With the folder this run writes, which is not an earlier run.
    pub fn prior_search_dirs(
        &self,
        scenario: &str,
    ) -> (
        Vec<(PathBuf, crate::run_estimate::PriorSource)>,
        Vec<PathBuf>,
    ) {
        use crate::run_estimate::PriorSource;
        let committed = PathBuf::from("reports").join(scenario);
        let (beside, writes) = match &self.out {
            OutputLocation::Explicit(dir) | OutputLocation::Resume(dir) => {
                let parent = match dir.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                    _ => PathBuf::from("."),
                };
                (parent, vec![dir.clone()])
            }
            OutputLocation::Default { reports_root, .. } => {
                (reports_root.join(scenario), Vec::new())
            }
        };
        let mut dirs = vec![(beside.clone(), PriorSource::Here)];
        if !same_place(&beside, &committed) {
            dirs.push((committed, PriorSource::Committed));
        }
        (dirs, writes)
    }

    /// Sentences about settings that work but deserve attention.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The run's secrets.
    pub fn secrets(&self) -> &RunSecrets {
        &self.secrets
    }

    /// The registry of the CI modes, with its credentials.
    pub fn registry(&self) -> Option<&RegistryAccess> {
        self.registry.as_ref()
    }

    /// `--baseline` and `--save-baseline`, with the gate's thresholds; `None` without either.
    pub fn gate(&self) -> Option<&Gate> {
        self.gate.as_ref()
    }

    /// The exports asked for, with their targets.
    pub fn exports(&self) -> &ExportTargets {
        &self.exports
    }

    /// How progress is shown.
    pub fn progress(&self) -> ProgressMode {
        self.progress
    }

    /// Whether `--quiet` keeps everything but errors off the terminal.
    pub fn is_quiet(&self) -> bool {
        self.progress == ProgressMode::Quiet
    }

    /// With `--resume`, the folder being continued.
    pub fn resumed_dir(&self) -> Option<&Path> {
        match &self.out {
            OutputLocation::Resume(dir) => Some(dir),
            OutputLocation::Explicit(_) | OutputLocation::Default { .. } => None,
        }
    }

    /// How the runner runs the plan.
    pub fn policy(&self) -> RunPolicy {
        RunPolicy {
            run_id: self.run_id.clone(),
            first_run_id: self.first_run_id().to_string(),
            runs: self.options.runs,
            warmup: self.options.warmup,
            builder: self.options.builder,
            keep_images: self.options.keep_images,
            rm: self.options.rm,
            timeout: self.options.timeout_seconds.map(Duration::from_secs_f64),
            prune: self.options.prune,
            secrets: self.secrets.redaction.clone(),
            registry: self.registry.clone(),
            host_needs: HostNeeds::new(&self.options, !self.secrets.mounted.is_empty()),
            round_judge: None,
            time_budget: self
                .options
                .time_budget_seconds
                .map(Duration::from_secs_f64),
        }
    }

    /// Where the rows go: each results folder with its scenarios, its recorded settings and
    /// their entries. A default folder is chosen unused when this is called, so it is called
    /// once, just before the run.
    pub fn results_layout(&self) -> ResultsLayout {
        let groups: Vec<(PathBuf, Vec<usize>)> = match &self.out {
            OutputLocation::Explicit(dir) | OutputLocation::Resume(dir) => {
                vec![(dir.clone(), (0..self.scenarios.len()).collect())]
            }
            OutputLocation::Default {
                reports_root,
                timestamp,
            } => self
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
        let folders = groups
            .into_iter()
            .map(|(dir, scenarios)| FolderLayout {
                settings: self.recorded(&scenarios, &dir),
                entries: scenarios
                    .iter()
                    .map(|&index| (index, self.scenario_entry(index, &dir)))
                    .collect(),
                dir,
            })
            .collect();
        let resumed = match (&self.resumed, &self.out) {
            (Some(set), OutputLocation::Resume(dir)) => Some(ResumedFolder {
                dir: dir.clone(),
                meta: set.meta.clone(),
                last_seq_by_host: set.last_seq_by_host(),
            }),
            _ => None,
        };
        ResultsLayout {
            folders,
            command_line: self.command_line.clone(),
            resumed,
        }
    }

    /// The meta.json entry of scenario `index` in the results folder `results_dir`, before any
    /// host is known or anything is measured.
    fn scenario_entry(&self, index: usize, results_dir: &Path) -> ScenarioMeta {
        let scenario = &self.scenarios[index];
        let root = scenario.root();
        let profile = self.profile_args(scenario);
        // Paths relative to the working directory or the scenario, never absolute: meta.json is
        // published with the reports.
        ScenarioMeta {
            name: scenario.name.clone(),
            dir: self.recorded_path(&scenario.dir),
            description: scenario.description.clone(),
            baseline: scenario.baseline.clone(),
            variants: self
                .selected_variants(scenario)
                .iter()
                .map(|v| VariantMeta {
                    name: v.name.clone(),
                    dockerfile: recorded_path(&root, &v.dockerfile),
                    target: v.target.clone(),
                    build_args: self.recorded_build_args(scenario, &v.build_args),
                    image_tag: self.variant_image_tag(scenario, &v.name),
                    prebuilds: prebuilds_used(scenario, v, profile, &self.options.build_args),
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
            inputs: self.inputs.get(index).cloned().unwrap_or_default(),
            dir_from_results: relative_path(results_dir, &root),
            ..ScenarioMeta::default()
        }
    }

    /// The build arguments of a build of `scenario` whose own arguments are `own`: scenario,
    /// own, profile, `--build-arg`, then `--secret-build-arg`.
    fn build_args(&self, scenario: &Scenario, own: &BuildArgs) -> BuildArgs {
        let mut args =
            scenario.merged_build_args(own, self.profile_args(scenario), &self.options.build_args);
        args.extend(
            self.secrets
                .build_arg_values
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        args
    }

    /// [`Self::build_args`] as meta.json may record them: secret values replaced.
    fn recorded_build_args(&self, scenario: &Scenario, own: &BuildArgs) -> BuildArgs {
        self.secrets
            .redaction
            .recorded(&self.build_args(scenario, own))
    }

    /// The run's identity on a daemon: its first invocation's `run_id`, which every invocation
    /// of the run (`--resume`) shares, and which the run's image tags carry.
    fn first_run_id(&self) -> &str {
        self.resumed
            .as_ref()
            .and_then(|set| set.meta.first_invocation())
            .map_or(self.run_id.as_str(), |first| first.run_id.as_str())
    }

    /// The tag this run gives `variant`'s image of `scenario`.
    fn variant_image_tag(&self, scenario: &Scenario, variant: &str) -> String {
        scenario.variant_image_tag(variant, self.first_run_id())
    }

    /// The variants of `scenario` this run builds.
    fn selected_variants<'s>(&self, scenario: &'s Scenario) -> Vec<&'s Variant> {
        let chosen = &self.options.variants;
        scenario
            .variants
            .iter()
            .filter(|v| chosen.is_empty() || chosen.contains(&v.name))
            .collect()
    }

    /// The chosen profile's build arguments for `scenario` (checked to exist when loading).
    fn profile_args<'s>(&self, scenario: &'s Scenario) -> Option<&'s BuildArgs> {
        self.options
            .profile
            .as_ref()
            .and_then(|p| scenario.profiles.get(p))
    }

    /// What the planner needs from these settings.
    /// `engines` names the hosts reached, each with the program that serves its API.
    pub fn plan_settings(&self, engines: &BTreeMap<String, EngineKind>) -> PlanSettings {
        let options = &self.options;
        PlanSettings {
            runs: options.runs,
            warmup: options.warmup,
            cache_modes: options.cache_modes.clone(),
            builder: options.builder,
            builders_by_host: engines
                .iter()
                .map(|(host, engine)| (host.clone(), engine.builder(options.builder)))
                .collect(),
            seed: options.seed,
            on_every_host: options.on_every_host,
        }
    }

    /// Host names, in the order given.
    pub fn host_names(&self) -> Vec<String> {
        self.endpoints.iter().map(|e| e.name.clone()).collect()
    }

    /// Builds an earlier invocation finished (with `--resume`).
    pub fn already_done(&self) -> BTreeSet<BuildKey> {
        self.resumed
            .as_ref()
            .map(ResultSet::finished_builds)
            .unwrap_or_default()
    }

    /// With `--resume`, the hosts each scenario was assigned to when the run started, so that
    /// every row of a scenario stays on its host.
    pub fn pinned_hosts(&self) -> BTreeMap<String, Vec<String>> {
        let mut pinned: BTreeMap<String, Vec<String>> = BTreeMap::new();
        if let Some(resumed) = &self.resumed {
            for scenario in &resumed.meta.scenarios {
                pinned
                    .entry(scenario.name.clone())
                    .or_default()
                    .push(scenario.host.clone());
            }
        }
        pinned
    }

    /// `path` as meta.json records it: relative to the working directory, links resolved as
    /// far as the path exists, so that the relative path leads to the same place from there.
    fn recorded_path(&self, path: &Path) -> String {
        recorded_path(&self.working_dir, &resolved(path))
    }

    /// The settings as meta.json records them for the scenarios of the results folder
    /// `results_dir`: every path relative to the working directory.
    fn recorded(&self, scenarios: &[usize], results_dir: &Path) -> RecordedSettings {
        let mut options = self.options.clone();
        for secret in &mut options.build_secrets {
            if let SecretSource::Src(path) = &secret.source {
                secret.source = SecretSource::Src(PathBuf::from(self.recorded_path(path)));
            }
        }
        RecordedSettings {
            scenario_dirs: scenarios
                .iter()
                .filter_map(|&i| self.scenarios.get(i))
                .map(|s| self.recorded_path(&s.root()))
                .collect(),
            results_dir: Some(self.recorded_path(results_dir)),
            ad_hoc: scenarios
                .iter()
                .filter_map(|&i| self.scenarios.get(i))
                .find_map(|s| s.ad_hoc.as_ref())
                .map(|spec| spec.recorded(|path| self.recorded_path(path))),
            options,
            hosts: self
                .endpoints
                .iter()
                .map(|e| HostSpec {
                    name: e.name.clone(),
                    endpoint: e.display_url(),
                    context: e.context.clone(),
                })
                .collect(),
        }
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

/// Whether two paths name the same directory (compared as written when either is missing).
fn same_place(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
