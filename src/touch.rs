//! Incremental runs: the content the scenario's listed source files have in one edited build.
//!
//! The edit must differ from every earlier one (a repeated edit would hit the cache of the run
//! that made it first) and must not break the build. By default ([`EditStyle::Comment`]) it is
//! a comment in the file's language carrying a fresh token. A compiler drops comments, so such
//! an edit may leave the shipped image unchanged; a scenario then declares
//! [`EditStyle::Token`], which rewrites a string the program uses ([`TOKEN_MARKER`]) with the
//! fresh token, so that the edit reaches what ships. The files on disk are never changed: the edited content replaces the
//! file's own in the build context as it is sent (see [`crate::context::BuildContext::with_edits`]),
//! which is all a daemon ever sees of an edit. So two hosts can build the same scenario at once,
//! and no interruption, even SIGKILL, can leave a scenario modified.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The text a [`EditStyle::Token`] edit rewrites: each occurrence, with any letters, digits and
/// `-` directly after it, becomes `stagebench-token-<fresh token>`.
pub const TOKEN_MARKER: &str = "stagebench-token";

/// The largest file an incremental run edits: it is held in memory while its build's context is
/// sent, so a mistaken `touch` of a disk image must not take the machine's memory.
pub const MAX_TOUCHED_BYTES: u64 = 256 * 1024 * 1024;

/// How an incremental run edits the scenario's listed files (`[incremental] edit`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EditStyle {
    /// A comment line carrying a fresh token is appended.
    #[default]
    Comment,
    /// Every [`TOKEN_MARKER`] in the file is rewritten with a fresh token: a string constant
    /// the program ships changes, so the image must change too.
    Token,
}

impl EditStyle {
    /// The name used in `scenario.toml` and meta.json.
    pub fn as_str(self) -> &'static str {
        match self {
            EditStyle::Comment => "comment",
            EditStyle::Token => "token",
        }
    }
}

/// Files as one incremental build sees them: absolute path and edited content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceEdits {
    /// Each edited file, absolute and canonical, with the content to send instead of its own.
    pub files: Vec<(PathBuf, Vec<u8>)>,
}

impl SourceEdits {
    /// Reads each of `files` (relative to `root`) and edits it in `style` with `token`. Errors
    /// name the file.
    pub fn new(
        root: &Path,
        files: &[PathBuf],
        style: EditStyle,
        token: &str,
    ) -> io::Result<SourceEdits> {
        let mut edits = SourceEdits::default();
        for relative in files {
            let path = fs::canonicalize(root.join(relative))
                .map_err(|e| with_path(e, &root.join(relative)))?;
            let bytes = fs::metadata(&path).map_err(|e| with_path(e, &path))?.len();
            if bytes > MAX_TOUCHED_BYTES {
                return Err(with_path(
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "is {bytes} bytes; a touched file is held in memory to edit it, so it may have at most {MAX_TOUCHED_BYTES}"
                        ),
                    ),
                    &path,
                ));
            }
            // Canonical, so never a link: one put in its place since is refused, not followed.
            let mut content =
                crate::text_file::read_no_follow(&path).map_err(|e| with_path(e, &path))?;
            match style {
                EditStyle::Comment => {
                    let suffix = fresh_suffix(&path, &content, token);
                    content.extend_from_slice(suffix.as_bytes());
                }
                EditStyle::Token => {
                    content = rewrite_tokens(&content, token).ok_or_else(|| {
                        with_path(
                            io::Error::new(
                                io::ErrorKind::InvalidData,
                                format!("holds no `{TOKEN_MARKER}` for the token edit to rewrite"),
                            ),
                            &path,
                        )
                    })?;
                }
            }
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

/// Whether `content` holds a [`TOKEN_MARKER`] for a token edit to rewrite.
pub fn has_token_marker(content: &[u8]) -> bool {
    content
        .windows(TOKEN_MARKER.len())
        .any(|w| w == TOKEN_MARKER.as_bytes())
}

/// `content` with each [`TOKEN_MARKER`] (and the token an earlier edit left after it) replaced
/// by `stagebench-token-<token>`; `None` when it holds no marker.
pub fn rewrite_tokens(content: &[u8], token: &str) -> Option<Vec<u8>> {
    let marker = TOKEN_MARKER.as_bytes();
    let mut out = Vec::with_capacity(content.len() + token.len() + 1);
    let mut rest = content;
    let mut found = false;
    while let Some(at) = rest.windows(marker.len()).position(|w| w == marker) {
        found = true;
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(marker);
        out.push(b'-');
        out.extend_from_slice(token.as_bytes());
        rest = &rest[at + marker.len()..];
        let suffix = rest
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
            .count();
        rest = &rest[suffix..];
    }
    out.extend_from_slice(rest);
    found.then_some(out)
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
        let first = SourceEdits::new(dir.path(), &files, EditStyle::Comment, "aaa").unwrap();
        let canonical = |p: &Path| fs::canonicalize(p).unwrap();
        assert_eq!(
            first.content_of(&canonical(&py)).unwrap(),
            b"print(1)\n# stagebench incremental edit aaa\n"
        );
        assert_eq!(
            first.content_of(&canonical(&js)).unwrap(),
            b"console.log(1)\n/* stagebench incremental edit aaa */\n"
        );
        let second = SourceEdits::new(dir.path(), &files, EditStyle::Comment, "bbb").unwrap();
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
        let error = SourceEdits::new(dir.path(), &files, EditStyle::Comment, "t").unwrap_err();
        assert!(error.to_string().contains("missing.c"), "{error}");
    }

    #[test]
    fn a_token_edit_rewrites_every_marker_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let source = "const BUILD = \"stagebench-token\";\nlog(\"stagebench-token-old1\", x-1);\n";
        fs::write(dir.path().join("main.ts"), source).unwrap();
        let files = [PathBuf::from("main.ts")];
        let edits = SourceEdits::new(dir.path(), &files, EditStyle::Token, "f00d").unwrap();
        let path = fs::canonicalize(dir.path().join("main.ts")).unwrap();
        assert_eq!(
            std::str::from_utf8(edits.content_of(&path).unwrap()).unwrap(),
            "const BUILD = \"stagebench-token-f00d\";\nlog(\"stagebench-token-f00d\", x-1);\n"
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("main.ts")).unwrap(),
            source
        );
        fs::write(dir.path().join("plain.ts"), "let x = 1;\n").unwrap();
        let error = SourceEdits::new(
            dir.path(),
            &[PathBuf::from("plain.ts")],
            EditStyle::Token,
            "f00d",
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("plain.ts") && error.to_string().contains(TOKEN_MARKER),
            "{error}"
        );
    }
}
