//! The content of every file a scenario's builds read, as SHA-256 hashes: recorded when a run
//! starts, so that `--resume` can refuse to add rows measured on different inputs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{MANIFEST_FILE, Scenario};
use crate::context::BuildContext;
use crate::error::ScenarioError;
use crate::recorded_scenario::ScenarioInputs;

/// A scenario's inputs, and what else the scan found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputScan {
    /// The hashes.
    pub inputs: ScenarioInputs,
    /// Folders in `outputs` that a build context sends: every row written there would change
    /// the context, so a warm build that copies it could never be cached.
    pub outputs_in_context: Vec<PathBuf>,
    /// Each build context, once, with what it sends.
    pub contexts: Vec<ContextSize>,
}

/// What one build context sends to the daemon.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextSize {
    /// The context directory.
    pub dir: PathBuf,
    /// Regular files sent (the run's own results left out).
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
}

impl ScenarioInputs {
    /// Hashes the manifest, every variant's and prebuild's Dockerfile and everything their build
    /// contexts send (after `.dockerignore`). Files under `outputs` (absolute paths of the
    /// run's results folders) are the run's own and left out.
    pub fn scan(scenario: &Scenario, outputs: &[PathBuf]) -> Result<InputScan, ScenarioError> {
        ScenarioInputs::walk(scenario, outputs, Fingerprint::Content)
    }

    /// Each input's size, modification time and mode instead of its hash: cheap enough to take
    /// before every build, to notice a file someone changes while the run goes on. Never
    /// recorded; compare it only with another stamp.
    pub fn stamp(
        scenario: &Scenario,
        outputs: &[PathBuf],
    ) -> Result<ScenarioInputs, ScenarioError> {
        Ok(ScenarioInputs::walk(scenario, outputs, Fingerprint::Stamp)?.inputs)
    }

    fn walk(
        scenario: &Scenario,
        outputs: &[PathBuf],
        fingerprint: Fingerprint,
    ) -> Result<InputScan, ScenarioError> {
        let root = scenario.root();
        let mut files = BTreeMap::new();
        let mut outputs_in_context = Vec::new();
        let mut contexts: Vec<ContextSize> = Vec::new();
        let mut add = |path: &Path| -> Result<(), ScenarioError> {
            let io_error = |source| ScenarioError::Io {
                path: path.to_path_buf(),
                source,
            };
            let metadata = std::fs::symlink_metadata(path).map_err(io_error)?;
            let print = if metadata.file_type().is_symlink() {
                let target = std::fs::read_link(path).map_err(io_error)?;
                hex(&Sha256::digest(target.as_os_str().as_encoded_bytes()))
            } else if !metadata.is_file() {
                return Ok(());
            } else {
                match fingerprint {
                    Fingerprint::Content => {
                        // Streamed: a context may hold files larger than memory.
                        use std::io::Read;
                        let mut hasher = Sha256::new();
                        let mut file = crate::text_file::open_no_follow(path).map_err(io_error)?;
                        let mut buffer = vec![0u8; 64 * 1024];
                        loop {
                            let read = file.read(&mut buffer).map_err(io_error)?;
                            if read == 0 {
                                break;
                            }
                            hasher.update(&buffer[..read]);
                        }
                        hex(&hasher.finalize())
                    }
                    Fingerprint::Stamp => {
                        use std::os::unix::fs::MetadataExt;
                        format!(
                            "{} {}.{:09} {:o}",
                            metadata.len(),
                            metadata.mtime(),
                            metadata.mtime_nsec(),
                            metadata.mode()
                        )
                    }
                }
            };
            // Relative even outside the scenario directory (`../go.mod`): meta.json records
            // these names, and it carries no path of the machine that ran.
            files.insert(crate::workdir::recorded_path(&root, path), print);
            Ok(())
        };
        let manifest = root.join(MANIFEST_FILE);
        if manifest.is_file() {
            add(&manifest)?;
        }
        let builds = scenario
            .variants
            .iter()
            .map(|v| (&scenario.context_dir, &v.dockerfile))
            .chain(
                scenario
                    .prebuilds
                    .iter()
                    .map(|p| (&p.context_dir, &p.dockerfile)),
            );
        for (context_dir, dockerfile) in builds {
            add(dockerfile)?;
            let context =
                BuildContext::new(context_dir, dockerfile).map_err(|e| ScenarioError::Invalid {
                    file: dockerfile.clone(),
                    message: e.to_string(),
                })?;
            let paths = context
                .included_paths()
                .map_err(|e| ScenarioError::Invalid {
                    file: context_dir.clone(),
                    message: e.to_string(),
                })?;
            let first_time = !contexts.iter().any(|c| &c.dir == context_dir);
            let mut size = ContextSize {
                dir: context_dir.clone(),
                ..ContextSize::default()
            };
            for relative in paths {
                let path = context_dir.join(&relative);
                if let Some(output) = outputs.iter().find(|o| path.starts_with(o)) {
                    if !outputs_in_context.contains(output) {
                        outputs_in_context.push(output.clone());
                    }
                    continue;
                }
                // The generated names of a Dockerfile outside the context are not files there.
                if let Ok(metadata) = std::fs::symlink_metadata(&path) {
                    if metadata.is_file() {
                        size.files += 1;
                        size.bytes += metadata.len();
                    }
                    add(&path)?;
                }
            }
            if first_time {
                contexts.push(size);
            }
        }
        let mut all = Sha256::new();
        for (name, hash) in &files {
            all.update(name.as_bytes());
            all.update([0]);
            all.update(hash.as_bytes());
            all.update([b'\n']);
        }
        Ok(InputScan {
            inputs: ScenarioInputs {
                sha256: hex(&all.finalize()),
                files,
            },
            outputs_in_context,
            contexts,
        })
    }

    /// Hashes a scenario's inputs (see [`ScenarioInputs::scan`]) with no results folder to
    /// leave out.
    pub fn of(scenario: &Scenario) -> Result<ScenarioInputs, ScenarioError> {
        Ok(ScenarioInputs::scan(scenario, &[])?.inputs)
    }

    /// The same inputs with absolute names (as folders written before names were relative
    /// recorded files outside the scenario directory) made relative to `root`, the scenario
    /// directory, so that they compare with a scan made now.
    pub fn with_relative_names(&self, root: &Path) -> ScenarioInputs {
        ScenarioInputs {
            sha256: self.sha256.clone(),
            files: self
                .files
                .iter()
                .map(|(name, hash)| {
                    let name = if Path::new(name).is_absolute() {
                        crate::workdir::recorded_path(root, Path::new(name))
                    } else {
                        name.clone()
                    };
                    (name, hash.clone())
                })
                .collect(),
        }
    }

    /// The first file that differs from `earlier` (changed, added or removed), if any.
    pub fn first_difference(&self, earlier: &ScenarioInputs) -> Option<String> {
        let changed = self
            .files
            .iter()
            .find(|(name, hash)| earlier.files.get(*name) != Some(*hash))
            .map(|(name, _)| format!("{name} changed or was added"));
        changed.or_else(|| {
            earlier
                .files
                .keys()
                .find(|name| !self.files.contains_key(*name))
                .map(|name| format!("{name} was removed"))
        })
    }
}

/// What identifies a file's content.
#[derive(Debug, Clone, Copy)]
enum Fingerprint {
    /// Its SHA-256.
    Content,
    /// Size, modification time and mode.
    Stamp,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_cover_the_context_and_name_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [
            ("single.Dockerfile", "FROM busybox\nCOPY app /app\n"),
            ("app/main.py", "print(1)\n"),
            ("ignored.log", "noise\n"),
            (".dockerignore", "*.log\n"),
        ] {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let scenario = Scenario::load(dir.path()).unwrap();
        let before = ScenarioInputs::of(&scenario).unwrap();
        assert!(before.files.contains_key("app/main.py"));
        assert!(before.files.contains_key("single.Dockerfile"));
        assert!(
            !before.files.contains_key("ignored.log"),
            "what the context does not send cannot change a build"
        );
        assert_eq!(before.first_difference(&before), None);

        std::fs::write(dir.path().join("ignored.log"), "more noise\n").unwrap();
        assert_eq!(ScenarioInputs::of(&scenario).unwrap(), before);

        let results = dir.path().join("out");
        std::fs::create_dir_all(&results).unwrap();
        std::fs::write(results.join("results.csv"), "scenario\n").unwrap();
        let scan =
            ScenarioInputs::scan(&scenario, &[std::fs::canonicalize(&results).unwrap()]).unwrap();
        assert_eq!(
            scan.inputs, before,
            "the run's own results are not its inputs"
        );
        assert_eq!(
            scan.outputs_in_context.len(),
            1,
            "but they are in its build context"
        );

        std::fs::write(dir.path().join("app/main.py"), "print(2)\n").unwrap();
        let after = ScenarioInputs::of(&scenario).unwrap();
        assert_ne!(after.sha256, before.sha256);
        assert_eq!(
            after.first_difference(&before).as_deref(),
            Some("app/main.py changed or was added")
        );
    }
}
