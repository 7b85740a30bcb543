//! Where a scenario's paths may lead: up from the scenario directory as far as the root of the
//! enclosing git repository (or the scenario directory itself outside any repository), and no
//! further, through `..` or through a symbolic link.
//!
//! Why a limit at all: scenario folders come from other people's repositories, and stagebench
//! sends a context to the daemon and rewrites `[incremental] touch` files. A path that leaves
//! the project could publish `~/.ssh` in a build context or edit a file of someone else.

use std::fs;
use std::path::{Component, Path, PathBuf};

use toml::Spanned;

use crate::error::ScenarioError;

/// What a path must name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A regular file (after following links).
    File,
    /// A directory.
    Dir,
}

/// The scenario directory and the limit its paths stay within.
#[derive(Debug, Clone)]
pub struct Bounds {
    /// Canonical scenario directory: relative paths start here.
    pub scenario_root: PathBuf,
    /// Canonical directory nothing may leave.
    pub limit: PathBuf,
    /// Whether `limit` is a git repository's root (else the scenario directory).
    pub in_repository: bool,
}

impl Bounds {
    /// The bounds of the canonical scenario directory `scenario_root`.
    pub fn of(scenario_root: &Path) -> Bounds {
        let repository = scenario_root
            .ancestors()
            .find(|dir| dir.join(".git").exists());
        Bounds {
            scenario_root: scenario_root.to_path_buf(),
            limit: repository.unwrap_or(scenario_root).to_path_buf(),
            in_repository: repository.is_some(),
        }
    }

    fn limit_phrase(&self) -> String {
        if self.in_repository {
            format!("the enclosing git repository {}", self.limit.display())
        } else {
            format!(
                "the scenario directory {} (it is in no git repository)",
                self.limit.display()
            )
        }
    }

    /// Resolves `value` of the manifest key `key` (e.g. "context", "`dockerfile` of variant
    /// `x`"), refusing absolute paths, `..` past the limit and symbolic links leading out, each
    /// with the file, line and resolved path named.
    pub fn resolve(
        &self,
        key: &str,
        value: &Spanned<PathBuf>,
        manifest: &Manifested<'_>,
        expect: Expect,
    ) -> Result<PathBuf, ScenarioError> {
        let relative = value.get_ref();
        let refuse = |message: String| ScenarioError::Manifest {
            file: manifest.path.to_path_buf(),
            line: Some(manifest.line_of(value.span().start)),
            message,
        };
        if relative.has_root() || relative.is_absolute() {
            return Err(refuse(format!(
                "{key} `{}` is an absolute path; paths are relative to the scenario directory and stay within {}",
                relative.display(),
                self.limit_phrase()
            )));
        }
        let joined = lexical_join(&self.scenario_root, relative);
        if !joined.starts_with(&self.limit) {
            return Err(refuse(format!(
                "{key} `{}` resolves to {}, outside {}",
                relative.display(),
                joined.display(),
                self.limit_phrase()
            )));
        }
        let Ok(canonical) = fs::canonicalize(&joined) else {
            return Err(refuse(format!(
                "{key} `{}` names {}, which does not exist",
                relative.display(),
                joined.display()
            )));
        };
        if !canonical.starts_with(&self.limit) {
            return Err(refuse(format!(
                "{key} `{}` resolves through a symbolic link to {}, outside {}",
                relative.display(),
                canonical.display(),
                self.limit_phrase()
            )));
        }
        let (fits, noun) = match expect {
            Expect::File => (canonical.is_file(), "a file"),
            Expect::Dir => (canonical.is_dir(), "a directory"),
        };
        if !fits {
            return Err(refuse(format!(
                "{key} `{}` names {}, which is not {noun}",
                relative.display(),
                canonical.display()
            )));
        }
        Ok(canonical)
    }

    /// Checks a file found in the scenario directory itself (a `<variant>.Dockerfile`), which
    /// may be a symbolic link.
    pub fn check_found(&self, path: &Path) -> Result<PathBuf, ScenarioError> {
        let canonical = fs::canonicalize(path).map_err(|source| ScenarioError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if canonical.starts_with(&self.limit) {
            Ok(canonical)
        } else {
            Err(ScenarioError::Invalid {
                file: path.to_path_buf(),
                message: format!(
                    "is a symbolic link to {}, outside {}",
                    canonical.display(),
                    self.limit_phrase()
                ),
            })
        }
    }
}

/// A manifest's path and text, for line numbers.
pub struct Manifested<'a> {
    /// The `scenario.toml`.
    pub path: &'a Path,
    /// Its text.
    pub text: &'a str,
}

impl Manifested<'_> {
    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        self.text
            .get(..offset.min(self.text.len()))
            .map_or(1, |before| before.matches('\n').count() + 1)
    }
}

/// `base` joined with `relative`, `.` and `..` applied to the words only (no link is followed),
/// so that a path's intent is checked even before anything it names exists.
fn lexical_join(base: &Path, relative: &Path) -> PathBuf {
    let mut joined = base.to_path_buf();
    for component in relative.components() {
        match component {
            Component::Normal(part) => joined.push(part),
            Component::ParentDir => {
                joined.pop();
            }
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_join_applies_dots_to_words() {
        let base = Path::new("/r/a/b");
        assert_eq!(lexical_join(base, Path::new("../c")), Path::new("/r/a/c"));
        assert_eq!(
            lexical_join(base, Path::new("./x/../y")),
            Path::new("/r/a/b/y")
        );
        assert_eq!(lexical_join(base, Path::new("../../../..")), Path::new("/"));
    }

    #[test]
    fn the_limit_is_the_repository_root_or_the_scenario() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        fs::create_dir_all(root.join("bench")).unwrap();
        let alone = Bounds::of(&root.join("bench"));
        assert!(!alone.in_repository || alone.limit != root.join("bench"));
        fs::create_dir(root.join(".git")).unwrap();
        let inside = Bounds::of(&root.join("bench"));
        assert!(inside.in_repository);
        assert_eq!(inside.limit, root);
    }
}
