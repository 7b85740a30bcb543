//! Incremental runs: give listed source files fresh content, and always put them back.
//!
//! The edit must differ from every earlier one (a repeated edit would hit the cache of the run
//! that made it first), must not break the build (so it is a comment in the file's language), and
//! the scenario directory must be left exactly as found: content, modification time and mode,
//! also when the build fails or the user presses Ctrl-C (the guard restores on drop).

use std::fs::{self, File, FileTimes};
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

struct Original {
    path: PathBuf,
    content: Vec<u8>,
    modified: SystemTime,
    accessed: Option<SystemTime>,
}

/// Files changed for one incremental run; dropping this restores them.
pub struct TouchedFiles {
    originals: Vec<Original>,
}

impl TouchedFiles {
    /// Appends a unique comment, built from `token`, to each file in `files` (relative to `root`).
    pub fn apply(root: &Path, files: &[PathBuf], token: &str) -> io::Result<TouchedFiles> {
        let mut touched = TouchedFiles {
            originals: Vec::new(),
        };
        for relative in files {
            let path = root.join(relative);
            let content = fs::read(&path).map_err(|e| with_path(e, &path))?;
            let metadata = fs::metadata(&path).map_err(|e| with_path(e, &path))?;
            let edited = [
                content.as_slice(),
                fresh_suffix(&path, &content, token).as_bytes(),
            ]
            .concat();
            // Remember before writing, so a failed write is restored too.
            touched.originals.push(Original {
                path: path.clone(),
                content,
                modified: metadata.modified()?,
                accessed: metadata.accessed().ok(),
            });
            fs::write(&path, edited).map_err(|e| with_path(e, &path))?;
        }
        Ok(touched)
    }

    /// Puts every file back as it was, reporting the first failure.
    pub fn restore(mut self) -> io::Result<()> {
        self.restore_all()
    }

    fn restore_all(&mut self) -> io::Result<()> {
        let mut first_error = None;
        for original in self.originals.drain(..) {
            if let Err(e) = restore_one(&original) {
                first_error.get_or_insert(with_path(e, &original.path));
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for TouchedFiles {
    fn drop(&mut self) {
        if let Err(e) = self.restore_all() {
            eprintln!("stagebench: could not restore a touched file: {e}");
        }
    }
}

fn restore_one(original: &Original) -> io::Result<()> {
    fs::write(&original.path, &original.content)?;
    let mut times = FileTimes::new().set_modified(original.modified);
    if let Some(accessed) = original.accessed {
        times = times.set_accessed(accessed);
    }
    File::options()
        .write(true)
        .open(&original.path)?
        .set_times(times)
}

fn with_path(error: io::Error, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}

/// A line the file's language ignores, carrying `token` so that no two edits are alike.
fn fresh_suffix(path: &Path, content: &[u8], token: &str) -> String {
    let newline = if content.is_empty() || content.ends_with(b"\n") {
        ""
    } else {
        "\n"
    };
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let text = format!("stagebench incremental edit {token}");
    let comment = match extension.as_str() {
        "c" | "h" | "cc" | "cpp" | "hpp" | "cxx" | "go" | "rs" | "js" | "mjs" | "cjs" | "ts"
        | "tsx" | "jsx" | "java" | "kt" | "swift" | "scss" | "less" | "css" => {
            format!("/* {text} */")
        }
        "html" | "htm" | "xml" | "svg" | "md" | "vue" => format!("<!-- {text} -->"),
        "sql" | "lua" | "hs" => format!("-- {text}"),
        // JSON has no comments; trailing whitespace is valid JSON and still unique per token.
        "json" => return format!("{newline}{}\n", whitespace_code(token)),
        _ if file_name == "Dockerfile" || file_name.ends_with(".Dockerfile") => format!("# {text}"),
        _ => format!("# {text}"),
    };
    format!("{newline}{comment}\n")
}

/// Spells `token` in spaces and tabs, one bit per character.
fn whitespace_code(token: &str) -> String {
    token
        .bytes()
        .flat_map(|byte| (0..8).map(move |bit| if byte >> bit & 1 == 1 { '\t' } else { ' ' }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_are_unique_and_everything_is_restored() {
        let dir = tempfile::tempdir().unwrap();
        let py = dir.path().join("main.py");
        let js = dir.path().join("app.js");
        fs::write(&py, "print(1)").unwrap();
        fs::write(&js, "console.log(1)\n").unwrap();
        let old = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        File::options()
            .write(true)
            .open(&py)
            .unwrap()
            .set_modified(old)
            .unwrap();

        let files = [PathBuf::from("main.py"), PathBuf::from("app.js")];
        let first = TouchedFiles::apply(dir.path(), &files, "aaa").unwrap();
        assert_eq!(
            fs::read_to_string(&py).unwrap(),
            "print(1)\n# stagebench incremental edit aaa\n"
        );
        assert_eq!(
            fs::read_to_string(&js).unwrap(),
            "console.log(1)\n/* stagebench incremental edit aaa */\n"
        );
        first.restore().unwrap();
        assert_eq!(fs::read_to_string(&py).unwrap(), "print(1)");
        assert_eq!(fs::metadata(&py).unwrap().modified().unwrap(), old);

        {
            let _second = TouchedFiles::apply(dir.path(), &files, "bbb").unwrap();
            assert!(fs::read_to_string(&py).unwrap().contains("bbb"));
        }
        assert_eq!(
            fs::read_to_string(&py).unwrap(),
            "print(1)",
            "dropping the guard restores"
        );
        assert_eq!(fs::read_to_string(&js).unwrap(), "console.log(1)\n");
    }

    #[test]
    fn json_stays_json() {
        let suffix = fresh_suffix(Path::new("package.json"), b"{}\n", "ab");
        assert!(suffix.chars().all(|c| c == ' ' || c == '\t' || c == '\n'));
        assert_ne!(
            suffix,
            fresh_suffix(Path::new("package.json"), b"{}\n", "ac")
        );
    }

    #[test]
    fn a_missing_file_restores_the_ones_already_changed() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.c"), "int x;\n").unwrap();
        let files = [PathBuf::from("a.c"), PathBuf::from("missing.c")];
        let error = TouchedFiles::apply(dir.path(), &files, "t").err().unwrap();
        assert!(error.to_string().contains("missing.c"));
        assert_eq!(
            fs::read_to_string(dir.path().join("a.c")).unwrap(),
            "int x;\n"
        );
    }
}
