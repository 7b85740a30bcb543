//! Incremental runs: the content the scenario's listed source files have in one edited build.
//!
//! The edit must differ from every earlier one (a repeated edit would hit the cache of the run
//! that made it first) and must not break the build, so it is a comment in the file's language
//! carrying a fresh token. The files on disk are never changed: the edited content replaces the
//! file's own in the build context as it is sent (see [`crate::context::BuildContext::with_edits`]),
//! which is all a daemon ever sees of an edit. So two hosts can build the same scenario at once,
//! and no interruption, even SIGKILL, can leave a scenario modified.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Files as one incremental build sees them: absolute path and edited content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceEdits {
    /// Each edited file, absolute and canonical, with the content to send instead of its own.
    pub files: Vec<(PathBuf, Vec<u8>)>,
}

impl SourceEdits {
    /// Reads each of `files` (relative to `root`) and appends a unique comment built from
    /// `token`. Errors name the file.
    pub fn new(root: &Path, files: &[PathBuf], token: &str) -> io::Result<SourceEdits> {
        let mut edits = SourceEdits::default();
        for relative in files {
            let path = fs::canonicalize(root.join(relative))
                .map_err(|e| with_path(e, &root.join(relative)))?;
            let mut content = fs::read(&path).map_err(|e| with_path(e, &path))?;
            let suffix = fresh_suffix(&path, &content, token);
            content.extend_from_slice(suffix.as_bytes());
            edits.files.push((path, content));
        }
        Ok(edits)
    }

    /// The edited content of `path` (absolute and canonical), if it is one of the files.
    pub fn content_of(&self, path: &Path) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|(edited, _)| edited == path)
            .map(|(_, content)| content.as_slice())
    }
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
    fn edits_are_unique_in_the_file_s_language_and_leave_the_file_alone() {
        let dir = tempfile::tempdir().unwrap();
        let py = dir.path().join("main.py");
        let js = dir.path().join("app.js");
        fs::write(&py, "print(1)").unwrap();
        fs::write(&js, "console.log(1)\n").unwrap();
        let modified = fs::metadata(&py).unwrap().modified().unwrap();

        let files = [PathBuf::from("main.py"), PathBuf::from("app.js")];
        let first = SourceEdits::new(dir.path(), &files, "aaa").unwrap();
        let canonical = |p: &Path| fs::canonicalize(p).unwrap();
        assert_eq!(
            first.content_of(&canonical(&py)).unwrap(),
            b"print(1)\n# stagebench incremental edit aaa\n"
        );
        assert_eq!(
            first.content_of(&canonical(&js)).unwrap(),
            b"console.log(1)\n/* stagebench incremental edit aaa */\n"
        );
        let second = SourceEdits::new(dir.path(), &files, "bbb").unwrap();
        assert_ne!(first, second);
        assert_eq!(fs::read_to_string(&py).unwrap(), "print(1)");
        assert_eq!(fs::metadata(&py).unwrap().modified().unwrap(), modified);
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
    fn a_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.c"), "int x;\n").unwrap();
        let files = [PathBuf::from("a.c"), PathBuf::from("missing.c")];
        let error = SourceEdits::new(dir.path(), &files, "t").unwrap_err();
        assert!(error.to_string().contains("missing.c"), "{error}");
    }
}
