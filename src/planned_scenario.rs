//! One scenario as this run builds it: each selected variant's Dockerfile, context, target,
//! build arguments (scenario, variant, profile, `--build-arg`, then the secret ones) and image
//! tag (carrying the run's identity), and each prebuild's likewise.
//!
//! Config resolves these once from the scenario and the flags, the plan hands them out with the
//! builds of the scenario, and the runner builds exactly what they say, so that no later step
//! re-joins a planned build with the scenario and the flags to learn what it means.

use std::path::PathBuf;
use std::sync::Arc;

pub use crate::scenario::{IMAGE_NAMESPACE, image_tag_for};

use crate::error::ScenarioError;
use crate::recorded_scenario::ScenarioInputs;
use crate::scenario::{BuildArgs, Scenario};
use crate::touch::{EditStyle, SourceEdits};

/// One variant of a scenario, resolved for this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedVariant {
    /// The variant's name.
    pub name: String,
    /// Its Dockerfile.
    pub dockerfile: PathBuf,
    /// The build context directory sent with it.
    pub context_dir: PathBuf,
    /// The stage built, if not the last.
    pub target: Option<String>,
    /// Every build argument of its builds, secret values included: never to be recorded as is.
    pub build_args: BuildArgs,
    /// The tag this run gives its image, which carries the run's identity.
    pub tag: String,
}

/// One `[[prebuild]]` of a scenario, resolved for this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedPrebuild {
    /// The tag the scenario gives its image (a variant's Dockerfile names it).
    pub tag: String,
    /// Its Dockerfile.
    pub dockerfile: PathBuf,
    /// Its build context directory.
    pub context_dir: PathBuf,
    /// The stage built, if not the last.
    pub target: Option<String>,
    /// Every build argument of its build, secret values included.
    pub build_args: BuildArgs,
}

/// One scenario, resolved for this run.
#[derive(Debug, Clone)]
pub struct PlannedScenario {
    /// Its position in the order given, which decides its results folder and its host.
    pub index: usize,
    /// The scenario's name.
    pub name: String,
    /// The scenario directory, for messages.
    pub dir: PathBuf,
    /// The scenario directory made absolute, which the touched files are relative to.
    pub root: PathBuf,
    /// The repository every image tag of the scenario is under.
    pub image_repository: String,
    /// The variants this run builds, baseline first.
    pub variants: Vec<PlannedVariant>,
    /// The prebuilds, in build order.
    pub prebuilds: Vec<PlannedPrebuild>,
    /// The files `[incremental] touch` lists, relative to the scenario's root.
    pub touch: Vec<PathBuf>,
    /// How they are edited.
    pub edit: EditStyle,
    /// What its inputs are read from: the loaded scenario and the folders the run writes to,
    /// which are never its inputs. `None` for a scenario made up by a test of the plan.
    inputs: Option<(Arc<Scenario>, Vec<PathBuf>)>,
}

impl PlannedScenario {
    /// `scenario` with its `variants` and `prebuilds` as this run builds them; `results_roots`
    /// are the folders the run writes to, which its inputs leave out.
    pub fn new(
        index: usize,
        scenario: &Scenario,
        variants: Vec<PlannedVariant>,
        prebuilds: Vec<PlannedPrebuild>,
        results_roots: Vec<PathBuf>,
    ) -> PlannedScenario {
        PlannedScenario {
            index,
            name: scenario.name.clone(),
            dir: scenario.dir.clone(),
            root: scenario.root(),
            image_repository: scenario.image_repository(),
            variants,
            prebuilds,
            touch: scenario.touch.clone(),
            edit: scenario.edit,
            inputs: Some((Arc::new(scenario.clone()), results_roots)),
        }
    }

    /// A scenario named `name` with variants of these names (each `NAME.Dockerfile`) and nothing
    /// read from disk: what the plan's and the estimate's own tests plan.
    #[cfg(test)]
    pub(crate) fn made_up(
        index: usize,
        name: &str,
        variant_names: &[&str],
        prebuilds: usize,
        touch: bool,
    ) -> PlannedScenario {
        let variants = variant_names
            .iter()
            .map(|v| PlannedVariant {
                name: v.to_string(),
                dockerfile: format!("{v}.Dockerfile").into(),
                context_dir: ".".into(),
                target: None,
                build_args: BuildArgs::new(),
                tag: String::new(),
            })
            .collect();
        let prebuild = PlannedPrebuild {
            tag: String::new(),
            dockerfile: PathBuf::new(),
            context_dir: PathBuf::new(),
            target: None,
            build_args: BuildArgs::new(),
        };
        PlannedScenario {
            index,
            name: name.to_string(),
            dir: PathBuf::from(name),
            root: PathBuf::from(name),
            image_repository: String::new(),
            variants,
            prebuilds: vec![prebuild; prebuilds],
            touch: if touch {
                vec![PathBuf::from("app/main.py")]
            } else {
                Vec::new()
            },
            edit: EditStyle::default(),
            inputs: None,
        }
    }

    /// The scenario's manifest, which messages about its prebuilds name.
    pub fn manifest(&self) -> PathBuf {
        self.dir.join(crate::scenario::MANIFEST_FILE)
    }

    /// The edits of one incremental build, each carrying `token`.
    pub fn source_edits(&self, token: &str) -> std::io::Result<SourceEdits> {
        SourceEdits::new(&self.root, &self.touch, self.edit, token)
    }

    /// Each input's size, time and mode now, to notice a file someone changes while the run
    /// goes on; `None` when there is nothing on disk to look at.
    pub fn stamp_inputs(&self) -> Option<Result<ScenarioInputs, ScenarioError>> {
        self.inputs
            .as_ref()
            .map(|(scenario, results_roots)| ScenarioInputs::stamp(scenario, results_roots))
    }
}
