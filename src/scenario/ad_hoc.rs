//! A scenario made from the command line alone: `stagebench run --dockerfile NAME=PATH ...
//! CONTEXT_DIR`, as hyperfine benchmarks commands with no file to write.

use std::fs;
use std::path::{Path, PathBuf};

use super::{BuildArgs, Scenario, Variant, check_name, name_from_dir};
use crate::error::ScenarioError;
use crate::names::NameKind;
use crate::recorded_scenario::AdHoc;

impl AdHoc {
    /// The same flags as meta.json records them, each path as `record` writes it (relative to
    /// the working directory, where `--resume` continues from).
    pub fn recorded(&self, record: impl Fn(&Path) -> String) -> AdHoc {
        let relative = |p: &PathBuf| PathBuf::from(record(p));
        AdHoc {
            context: relative(&self.context),
            dockerfiles: self
                .dockerfiles
                .iter()
                .map(|(name, path)| (name.clone(), relative(path)))
                .collect(),
            touch: self.touch.iter().map(relative).collect(),
        }
    }
}

impl Scenario {
    /// The scenario `--dockerfile` flags describe: named after the context directory, its
    /// variants in the order given (the first the baseline), no prebuilds and no profiles.
    pub fn ad_hoc(spec: &AdHoc) -> Result<Scenario, ScenarioError> {
        let flag = |name: &str, path: &Path| {
            PathBuf::from(format!("--dockerfile {name}={}", path.display()))
        };
        let root = fs::canonicalize(&spec.context)
            .ok()
            .filter(|p| p.is_dir())
            .ok_or_else(|| ScenarioError::NotADirectory(spec.context.clone()))?;
        let mut variants: Vec<Variant> = Vec::new();
        for (name, path) in &spec.dockerfiles {
            check_name(name, NameKind::Variant, &flag(name, path))?;
            if variants.iter().any(|v| v.name.eq_ignore_ascii_case(name)) {
                return Err(ScenarioError::Invalid {
                    file: flag(name, path),
                    message: format!(
                        "names variant `{name}` a second time (image tags ignore case)"
                    ),
                });
            }
            let dockerfile = fs::canonicalize(path)
                .ok()
                .filter(|p| p.is_file())
                .ok_or_else(|| ScenarioError::Invalid {
                    file: flag(name, path),
                    message: format!("{} is not a file", path.display()),
                })?;
            variants.push(Variant {
                name: name.clone(),
                dockerfile,
                target: None,
                build_args: BuildArgs::new(),
            });
        }
        for variant in &variants {
            super::check_text(&variant.dockerfile)?;
        }
        let mut touch = Vec::new();
        for file in &spec.touch {
            let path = fs::canonicalize(file)
                .ok()
                .filter(|p| p.is_file())
                .ok_or_else(|| ScenarioError::Invalid {
                    file: PathBuf::from(format!("--touch {}", file.display())),
                    message: "is not a file".to_string(),
                })?;
            touch.push(path);
        }
        Ok(Scenario {
            name: name_from_dir(&root),
            dir: spec.context.clone(),
            description: None,
            baseline: variants.first().map(|v| v.name.clone()),
            context_dir: root,
            build_args: BuildArgs::new(),
            secret_build_args: Vec::new(),
            variants,
            prebuilds: Vec::new(),
            touch,
            edit: crate::touch::EditStyle::default(),
            profiles: Default::default(),
            profile_runs: Default::default(),
            ad_hoc: Some(spec.clone()),
            contexts_above: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_make_a_scenario_with_the_first_dockerfile_as_baseline() {
        let dir = tempfile::tempdir().unwrap();
        let context = dir.path().join("my app");
        fs::create_dir_all(context.join("src")).unwrap();
        fs::write(context.join("Dockerfile"), "FROM busybox\n").unwrap();
        fs::write(dir.path().join("slim.Dockerfile"), "FROM busybox\n").unwrap();
        fs::write(context.join("src/a.c"), "int a;\n").unwrap();
        let spec = AdHoc {
            context: context.clone(),
            dockerfiles: vec![
                ("today".to_string(), context.join("Dockerfile")),
                ("slim".to_string(), dir.path().join("slim.Dockerfile")),
            ],
            touch: vec![context.join("src/a.c")],
        };
        let scenario = Scenario::ad_hoc(&spec).unwrap();
        assert_eq!(scenario.name, "my-app");
        assert_eq!(scenario.baseline.as_deref(), Some("today"));
        let names: Vec<_> = scenario.variants.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["today", "slim"]);
        assert!(scenario.touch[0].is_absolute());

        let mut twice = spec.clone();
        twice
            .dockerfiles
            .push(("TODAY".to_string(), context.join("Dockerfile")));
        let message = Scenario::ad_hoc(&twice).unwrap_err().to_string();
        assert!(
            message.contains("--dockerfile TODAY=") && message.contains("second time"),
            "{message}"
        );
        let mut missing = spec.clone();
        missing.dockerfiles[1].1 = dir.path().join("nope");
        let message = Scenario::ad_hoc(&missing).unwrap_err().to_string();
        assert!(
            message.contains("--dockerfile slim=") && message.contains("is not a file"),
            "{message}"
        );
        let mut bad_touch = spec;
        bad_touch.touch = vec![context.join("src/none.c")];
        let message = Scenario::ad_hoc(&bad_touch).unwrap_err().to_string();
        assert!(
            message.contains("--touch") && message.contains("none.c"),
            "{message}"
        );
    }
}
