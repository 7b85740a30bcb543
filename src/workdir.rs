//! Paths as meta.json records them: relative to the working directory the run started in (or,
//! for a scenario's own files, to the scenario directory), never absolute, so that a report
//! published from a results folder carries no path of the machine that ran it. `--resume`
//! continues from the same working directory, where the relative paths lead to the same files.

use std::path::{Component, Path};

/// `to` relative to `from` with `/` separators, when both can be made absolute (a relative path
/// is taken from the current directory); `.` and `..` are resolved in the words only. Written
/// by hand because it is a few lines over `Path::components`.
pub fn relative_path(from: &Path, to: &Path) -> Option<String> {
    let absolute = |p: &Path| std::path::absolute(p).ok().map(|a| normalize(&a));
    let (from, to) = (absolute(from)?, absolute(to)?);
    let common = from
        .iter()
        .zip(to.iter())
        .take_while(|(a, b)| a == b)
        .count();
    let ups = std::iter::repeat_n("..".to_string(), from.len() - common);
    let downs = to[common..].iter().cloned();
    let parts: Vec<String> = ups.chain(downs).collect();
    Some(if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    })
}

/// `path` as meta.json records it: relative to `base`, or as given when it cannot be made
/// absolute (it is then relative already).
pub fn recorded_path(base: &Path, path: &Path) -> String {
    relative_path(base, path).unwrap_or_else(|| path.to_string_lossy().into_owned())
}

/// The normal components of an absolute path, with `.` and `..` resolved textually.
fn normalize(path: &Path) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop();
            }
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    parts
}

/// A command line as meta.json records it: every absolute path in it made relative to
/// `working_dir`, as `stagebench run` would have been typed from there. The program itself
/// becomes its file name. Paths are found where stagebench takes them: an argument that is a
/// path, the value of `--flag=PATH`, the PATH of `--dockerfile NAME=PATH` and the `src=` of
/// `--secret`; a `--build-arg` value is text and stays as typed.
pub fn recorded_command_line(args: &[String], working_dir: &Path) -> Vec<String> {
    let relative = |text: &str| -> String {
        if Path::new(text).is_absolute() {
            recorded_path(working_dir, Path::new(text))
        } else {
            text.to_string()
        }
    };
    let secret_sources = |text: &str| -> String {
        text.split(',')
            .map(|field| match field.split_once('=') {
                Some((key @ ("src" | "source"), value)) => format!("{key}={}", relative(value)),
                _ => field.to_string(),
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    let named_path = |text: &str| -> String {
        match text.split_once('=') {
            Some((name, path)) => format!("{name}={}", relative(path)),
            None => text.to_string(),
        }
    };
    let mut recorded = Vec::with_capacity(args.len());
    let mut previous: Option<&str> = None;
    for (index, arg) in args.iter().enumerate() {
        let text = arg.as_str();
        let written = if index == 0 {
            Path::new(text)
                .file_name()
                .map_or_else(|| text.to_string(), |n| n.to_string_lossy().into_owned())
        } else if let Some(value) = text.strip_prefix("--dockerfile=") {
            format!("--dockerfile={}", named_path(value))
        } else if let Some(value) = text.strip_prefix("--secret=") {
            format!("--secret={}", secret_sources(value))
        } else if previous == Some("--dockerfile") {
            named_path(text)
        } else if previous == Some("--secret") {
            secret_sources(text)
        } else if matches!(previous, Some("--build-arg" | "--secret-build-arg")) {
            text.to_string()
        } else if let Some((flag, value)) = text.split_once('=').filter(|_| text.starts_with("--"))
        {
            format!("{flag}={}", relative(value))
        } else {
            relative(text)
        };
        recorded.push(written);
        previous = Some(text);
    }
    recorded
}

/// A results folder `dir` whose paths are relative continues (`--resume`) only from the
/// working directory it started in, where `results_dir` (its recorded path) leads to it; from
/// elsewhere the sentence says where to go and what to type there.
pub fn check_started_here(dir: &Path, results_dir: &str, working_dir: &Path) -> Result<(), String> {
    let here = std::fs::canonicalize(dir).ok();
    if here.is_some() && here == std::fs::canonicalize(working_dir.join(results_dir)).ok() {
        return Ok(());
    }
    // The directory it started in is this folder with the recorded path taken off its end,
    // when that path only descends.
    let components = Path::new(results_dir).components();
    let descends = components
        .clone()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    let depth = components
        .filter(|c| matches!(c, Component::Normal(_)))
        .count();
    let started_in = here
        .filter(|_| descends)
        .and_then(|here| here.ancestors().nth(depth).map(Path::to_path_buf));
    let quoted =
        shlex::try_quote(results_dir).map_or_else(|_| results_dir.into(), |q| q.into_owned());
    Err(match started_in {
        Some(start) => format!(
            "its paths are relative to the directory the run started in, {}; run `stagebench run --resume {quoted}` from there",
            start.display()
        ),
        None => format!(
            "its paths are relative to the directory the run started in, where this folder is {results_dir}; run `stagebench run --resume {quoted}` from there"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_to_the_common_folder() {
        assert_eq!(
            relative_path(
                Path::new("/r/reports/s/20261129T000000Z"),
                Path::new("/r/scenarios/s")
            )
            .as_deref(),
            Some("../../../scenarios/s")
        );
        assert_eq!(
            relative_path(Path::new("/a/b"), Path::new("/a/b")).as_deref(),
            Some(".")
        );
        assert_eq!(
            relative_path(Path::new("/a/./b/../c"), Path::new("/a/c/d")).as_deref(),
            Some("d")
        );
    }

    #[test]
    fn a_folder_with_relative_paths_resumes_only_where_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let start = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(start.join("reports/s/T")).unwrap();
        std::fs::create_dir_all(start.join("elsewhere")).unwrap();
        let folder = start.join("reports/s/T");
        assert_eq!(check_started_here(&folder, "reports/s/T", &start), Ok(()));
        let error =
            check_started_here(&folder, "reports/s/T", &start.join("elsewhere")).unwrap_err();
        assert_eq!(
            error,
            format!(
                "its paths are relative to the directory the run started in, {}; run `stagebench run --resume reports/s/T` from there",
                start.display()
            )
        );
        // A folder outside the starting directory: the sentence still says what to type.
        let error = check_started_here(&folder, "../x/T", &start).unwrap_err();
        assert!(
            error.contains("where this folder is ../x/T; run `stagebench run --resume ../x/T`"),
            "{error}"
        );
    }

    #[test]
    fn command_lines_keep_no_absolute_path() {
        let typed: Vec<String> = [
            "/home/me/bin/stagebench",
            "run",
            "/home/me/proj/scenarios/go-service",
            "--out=/home/me/proj/reports/x",
            "--touch",
            "/home/me/proj/app/main.go",
            "--dockerfile",
            "multi=/home/me/proj/multi.Dockerfile",
            "--dockerfile=single=/tmp/single.Dockerfile",
            "--secret",
            "id=npm,src=/home/me/.npmrc",
            "--build-arg",
            "PREFIX=/usr/local",
            "--build-arg=LIB=/usr/lib",
            "--runs",
            "3",
            "relative/dir",
        ]
        .map(String::from)
        .to_vec();
        let recorded = recorded_command_line(&typed, Path::new("/home/me/proj"));
        assert_eq!(
            recorded,
            [
                "stagebench",
                "run",
                "scenarios/go-service",
                "--out=reports/x",
                "--touch",
                "app/main.go",
                "--dockerfile",
                "multi=multi.Dockerfile",
                "--dockerfile=single=../../../tmp/single.Dockerfile",
                "--secret",
                "id=npm,src=../.npmrc",
                "--build-arg",
                "PREFIX=/usr/local",
                "--build-arg=LIB=/usr/lib",
                "--runs",
                "3",
                "relative/dir",
            ]
        );
    }
}
