//! The build context: the tar of the context directory that the daemon's `/build` endpoint
//! receives, produced the way the `docker build` CLI produces it, streamed while it is sent.
//!
//! Why this module exists rather than a crate: no maintained Rust crate implements Docker's
//! `.dockerignore` semantics (gitignore crates differ on anchoring, `**`, parent matching and
//! exception handling), and a context that differs from the CLI's by one file changes cache keys
//! and therefore the very timings this tool measures. So the matcher below is a line-by-line port
//! of the Go code the CLI runs:
//!
//! * `moby/patternmatcher/ignorefile.ReadAll`: a line is a comment only when `#` is in column 1
//!   (before trimming); `!` marks an exception; a pattern is cleaned like Go's `filepath.Clean`
//!   and a leading `/` dropped, so `/foo`, `./foo` and `foo/` all mean `foo`.
//! * `patternmatcher.New` + `Pattern.compile`: syntax checked as Go's `filepath.Match` does, then
//!   the same exact / prefix / suffix / regexp split (so `**file` is a plain suffix test and also
//!   matches `xfile`, as in Docker). The Go regexp text is then translated to the `regex` crate's
//!   dialect (Go treats `[` inside a class and `\d` differently), so odd patterns mean what they
//!   mean to Docker.
//! * `archive.TarWithOptions`, which the CLI's classic-builder path runs: the walk is Go's
//!   `filepath.WalkDir` order (names sorted bytewise in each directory, parents first), exclusion is
//!   `MatchesUsingParentResults` fed by the parent directory's results, and an excluded directory
//!   is skipped unless the text of some exception pattern starts with `dir/`. Note that this is
//!   textual: `foo` followed by `!**/*.go` does not bring back `foo/x.go` in Docker either. An
//!   excluded directory that is descended into is not itself sent, only what is re-included in it.
//! * `build.TrimBuildFilesFromExcludes`: `.dockerignore` and the Dockerfile are always sent.
//! * `build.AddDockerfileToBuildContext`: a Dockerfile outside the context is added under a
//!   generated name, and that name is appended to `.dockerignore` (one is created if missing) so
//!   the classic builder does not copy it into the image.
//!
//! Entries carry the file's mode (permission, setuid, setgid and sticky bits) and whole-second
//! mtime, with uid and gid 0 and no user or group names, as the CLI's `ChownOpts{0,0}` sends them.
//! Hard-linked files after the first become link entries, as in moby's tar writer. Symlinks are
//! stored as links and never followed, so nothing outside the context leaks in.
//!
//! Deliberate differences from the CLI: sockets, fifos and devices are skipped (the CLI sends
//! fifos and devices as header-only entries); the generated Dockerfile name is derived from the
//! Dockerfile's path rather than random, and the generated entries take the Dockerfile's mtime
//! rather than "now", so two tars of an unchanged context are byte-identical; a malformed pattern is
//! reported when `.dockerignore` is read rather than when it is first used; security xattrs are not
//! copied; and the Dockerfile and `.dockerignore` are sent even in the corner cases where the CLI's
//! own check (the deprecated single-parent `Matches`) fails to keep them.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{self, File, Metadata};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use regex::Regex;
use tar::{EntryType, Header};
use tokio::sync::mpsc;

use crate::text_file::{open_no_follow, read_no_follow};
use crate::touch::SourceEdits;

/// Size of the chunks handed to the HTTP body: large enough to keep per-chunk overhead low.
const CHUNK_SIZE: usize = 64 * 1024;
/// Chunks in flight: bounds memory to about half a MiB whatever the context size.
const CHANNEL_CAPACITY: usize = 8;
/// Name the CLI reads ignore patterns from.
const DOCKERIGNORE: &str = ".dockerignore";

/// A build context that cannot be read or sent. Every message names the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// The context directory is missing or unreadable.
    #[error("build context {} cannot be opened: {cause}", path.display())]
    ContextDir {
        /// The directory as given.
        path: PathBuf,
        /// The cause (not a `source`, so the chain prints it once).
        cause: io::Error,
    },
    /// The context path is not a directory.
    #[error("build context {} is not a directory", path.display())]
    NotADirectory {
        /// The path as given.
        path: PathBuf,
    },
    /// The Dockerfile is missing or unreadable.
    #[error("Dockerfile {} cannot be opened: {cause}", path.display())]
    Dockerfile {
        /// The Dockerfile as given.
        path: PathBuf,
        /// The cause.
        cause: io::Error,
    },
    /// The Dockerfile path names a directory or special file.
    #[error("Dockerfile {} is not a regular file", path.display())]
    DockerfileNotAFile {
        /// The Dockerfile as given.
        path: PathBuf,
    },
    /// A `.dockerignore` that is not usable text (too large, binary, a FIFO...).
    #[error("{}: {reason}", path.display())]
    IgnoreFile {
        /// The ignore file.
        path: PathBuf,
        /// Why, as one clause.
        reason: String,
    },
    /// A `.dockerignore` line that Docker would reject.
    #[error("{}:{line}: invalid pattern `{pattern}`: {reason}", file.display())]
    BadPattern {
        /// The ignore file.
        file: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The line as written, trimmed.
        pattern: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A file or directory in the context could not be read.
    #[error("cannot read {} for the build context: {cause}", path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        cause: io::Error,
    },
    /// An incremental edit names a file the build context does not send.
    #[error("{} is not in the build context {} (nor its Dockerfile), so editing it cannot change the build", path.display(), context.display())]
    EditOutsideContext {
        /// The edited file.
        path: PathBuf,
        /// The context directory.
        context: PathBuf,
    },
    /// A file shrank while it was being sent, which would corrupt the tar.
    #[error("{} changed while the build context was being sent", path.display())]
    FileChanged {
        /// The file.
        path: PathBuf,
    },
    /// The tar could not be written (for a stream: nobody is reading it any more).
    #[error("cannot send the build context: {cause}")]
    Write {
        /// The cause.
        cause: io::Error,
    },
}

impl ContextError {
    fn read(path: &Path) -> impl FnOnce(io::Error) -> ContextError + '_ {
        move |cause| ContextError::Read {
            path: path.to_path_buf(),
            cause,
        }
    }

    fn write(cause: io::Error) -> ContextError {
        ContextError::Write { cause }
    }

    /// Keeps the I/O kind so a body consumer can still tell e.g. permission problems apart.
    fn into_io(self) -> io::Error {
        let kind = match &self {
            ContextError::Read { cause, .. }
            | ContextError::Write { cause }
            | ContextError::ContextDir { cause, .. }
            | ContextError::Dockerfile { cause, .. } => cause.kind(),
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, self)
    }
}

// ---------------------------------------------------------------------------------------------
// .dockerignore
// ---------------------------------------------------------------------------------------------

/// The patterns of one `.dockerignore`, with Docker's exact semantics (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
}

#[derive(Debug, Clone)]
struct Pattern {
    /// The cleaned pattern without `!`; Docker's directory-skip test compares this text.
    text: String,
    kind: MatchKind,
    exclusion: bool,
}

/// patternmatcher's fast paths are not just optimisations: `**x` as a suffix test matches `yx`.
#[derive(Debug, Clone)]
enum MatchKind {
    Exact,
    Prefix(String),
    Suffix(String),
    Regexp(Regex),
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        match &self.kind {
            MatchKind::Exact => path == self.text,
            MatchKind::Prefix(prefix) => path.starts_with(prefix.as_str()),
            MatchKind::Suffix(suffix) => {
                path.ends_with(suffix.as_str())
                    || suffix.strip_prefix('/').is_some_and(|rest| path == rest)
            }
            MatchKind::Regexp(regex) => regex.is_match(path),
        }
    }
}

impl DockerIgnore {
    /// Parses `.dockerignore` text; `source` only names the file in error messages.
    pub fn parse(text: &str, source: &Path) -> Result<Self, ContextError> {
        let mut patterns = Vec::new();
        for (index, raw) in text.split('\n').enumerate() {
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            let line = if index == 0 {
                line.strip_prefix('\u{feff}').unwrap_or(line)
            } else {
                line
            };
            // Docker tests for `#` before trimming: an indented `#` starts a pattern.
            if line.starts_with('#') {
                continue;
            }
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            let bad = |reason: String| ContextError::BadPattern {
                file: source.to_path_buf(),
                line: index + 1,
                pattern: trimmed.to_string(),
                reason,
            };
            let pattern = compile_pattern(&read_all_normalise(trimmed)).map_err(bad)?;
            patterns.push(pattern);
        }
        Ok(DockerIgnore { patterns })
    }

    /// Reads `<context_dir>/.dockerignore`; no file means no patterns.
    pub fn load(context_dir: &Path) -> Result<Self, ContextError> {
        let path = context_dir.join(DOCKERIGNORE);
        match crate::text_file::read_text(&path) {
            Ok(text) => Self::parse(&text, &path),
            Err(crate::text_file::TextFileError::Missing) => Ok(Self::default()),
            Err(error) => Err(ContextError::IgnoreFile {
                path,
                reason: error.to_string(),
            }),
        }
    }

    /// Whether the patterns exclude `rel_path` (relative to the context root, `/`-separated),
    /// evaluated down from the root as Docker's tar writer does. A path under an excluded
    /// directory can be "not excluded" here yet never sent, when no exception pattern's text
    /// starts with that directory (Docker does not descend there); see
    /// [`BuildContext::included_paths`] for what is actually sent.
    pub fn is_excluded(&self, rel_path: &str) -> bool {
        let cleaned = go_clean(rel_path);
        let cleaned = cleaned.trim_start_matches('/');
        if cleaned.is_empty() || cleaned == "." {
            return false;
        }
        let mut parent_info = Vec::new();
        for (slash, _) in cleaned.match_indices('/') {
            parent_info = self.matches(&cleaned[..slash], &parent_info).1;
        }
        self.matches(cleaned, &parent_info).0
    }

    /// Port of `PatternMatcher.MatchesUsingParentResults`; an empty `parent` means "no parent
    /// results", for which the parents are matched directly (`MatchesOrParentMatches`).
    fn matches(&self, file: &str, parent: &[bool]) -> (bool, Vec<bool>) {
        let mut matched = false;
        let mut info = vec![false; self.patterns.len()];
        for (i, pattern) in self.patterns.iter().enumerate() {
            let mut hit = parent.get(i).copied().unwrap_or(false);
            if !hit {
                if pattern.exclusion != matched {
                    continue;
                }
                hit = pattern.matches(file);
                if !hit && parent.is_empty() {
                    hit = file
                        .match_indices('/')
                        .any(|(slash, _)| pattern.matches(&file[..slash]));
                }
            }
            info[i] = hit;
            if hit {
                matched = !pattern.exclusion;
            }
        }
        (matched, info)
    }

    /// Docker's walk keeps descending an excluded directory only for this textual test.
    fn may_reinclude_below(&self, dir: &str) -> bool {
        let dir_slash = format!("{dir}/");
        self.patterns
            .iter()
            .any(|p| p.exclusion && format!("{}/", p.text).starts_with(&dir_slash))
    }

    /// An exception for one literal path, as `TrimBuildFilesFromExcludes` appends (but literal,
    /// so a Dockerfile named `a[1]` is not read as a glob).
    fn with_forced(&self, paths: &[&str]) -> DockerIgnore {
        let mut patterns = self.patterns.clone();
        patterns.extend(paths.iter().map(|path| Pattern {
            text: (*path).to_string(),
            kind: MatchKind::Exact,
            exclusion: true,
        }));
        DockerIgnore { patterns }
    }
}

/// `ignorefile.ReadAll`'s normalisation of one trimmed, non-comment line.
fn read_all_normalise(trimmed: &str) -> String {
    let (invert, body) = match trimmed.strip_prefix('!') {
        Some(rest) => (true, rest.trim()),
        None => (false, trimmed),
    };
    let mut body = if body.is_empty() {
        String::new()
    } else {
        go_clean(body)
    };
    if body.len() > 1 && body.starts_with('/') {
        body.remove(0);
    }
    if invert { format!("!{body}") } else { body }
}

/// `patternmatcher.New` for one pattern, then its `compile`.
fn compile_pattern(read_all_output: &str) -> Result<Pattern, String> {
    let cleaned = go_clean(read_all_output.trim());
    let (exclusion, text) = match cleaned.strip_prefix('!') {
        Some("") => return Err("illegal exclusion pattern: \"!\"".to_string()),
        Some(rest) => (true, rest.to_string()),
        None => (false, cleaned.clone()),
    };
    if !glob_syntax_ok(text.as_bytes()) {
        return Err("syntax error in pattern".to_string());
    }
    let kind = compile_kind(&text)?;
    Ok(Pattern {
        text,
        kind,
        exclusion,
    })
}

/// Go's `path/filepath.Clean` for `/`-separated paths.
fn go_clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if rooted {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".to_string()
    } else {
        joined
    }
}

/// Whether Go's `filepath.Match(pattern, ".")` would return no error: Docker rejects the
/// pattern otherwise. Go checks every chunk between stars, so this checks them all.
fn glob_syntax_ok(mut pattern: &[u8]) -> bool {
    while !pattern.is_empty() {
        let (chunk, rest) = glob_scan_chunk(pattern);
        if !glob_chunk_ok(chunk) {
            return false;
        }
        pattern = rest;
    }
    true
}

/// Go's `scanChunk`: skip leading stars, then take up to the next star outside a class.
fn glob_scan_chunk(mut pattern: &[u8]) -> (&[u8], &[u8]) {
    while let [b'*', rest @ ..] = pattern {
        pattern = rest;
    }
    let mut in_range = false;
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            b'\\' if i + 1 < pattern.len() => i += 1,
            b'[' => in_range = true,
            b']' => in_range = false,
            b'*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    pattern.split_at(i)
}

/// The error checks of Go's `matchChunk`.
fn glob_chunk_ok(mut chunk: &[u8]) -> bool {
    while let [first, rest @ ..] = chunk {
        chunk = rest;
        match first {
            b'[' => {
                if let [b'^', rest @ ..] = chunk {
                    chunk = rest;
                }
                let mut ranges = 0;
                loop {
                    if let [b']', rest @ ..] = chunk
                        && ranges > 0
                    {
                        chunk = rest;
                        break;
                    }
                    let Some(rest) = glob_class_char(chunk) else {
                        return false;
                    };
                    chunk = rest;
                    if let [b'-', rest @ ..] = chunk {
                        let Some(rest) = glob_class_char(rest) else {
                            return false;
                        };
                        chunk = rest;
                    }
                    ranges += 1;
                }
            }
            b'\\' => match chunk {
                [] => return false,
                [_, rest @ ..] => chunk = rest,
            },
            _ => {}
        }
    }
    true
}

/// Go's `getEsc`: one possibly escaped class character that must not end the chunk.
fn glob_class_char(chunk: &[u8]) -> Option<&[u8]> {
    let mut rest = match chunk {
        [] | [b'-', ..] | [b']', ..] => return None,
        [b'\\', rest @ ..] => rest,
        _ => chunk,
    };
    let width = match rest.first()? {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return None,
    };
    rest = rest.get(width..)?;
    if rest.is_empty() { None } else { Some(rest) }
}

/// `Pattern.compile` on Linux: the match type, and for regexps the Go regexp it builds.
fn compile_kind(text: &str) -> Result<MatchKind, String> {
    #[derive(PartialEq, Clone, Copy)]
    enum Detected {
        Exact,
        Prefix,
        Suffix,
        Regexp,
    }
    let mut go_regexp = String::from("^");
    let mut detected = Detected::Exact;
    let mut chars = text.chars().peekable();
    let mut first = true;
    while let Some(ch) = chars.next() {
        match ch {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    chars.next();
                }
                if chars.peek().is_none() {
                    if detected == Detected::Exact {
                        detected = Detected::Prefix;
                    } else {
                        go_regexp.push_str(".*");
                        detected = Detected::Regexp;
                    }
                } else {
                    go_regexp.push_str("(.*/)?");
                    detected = Detected::Regexp;
                }
                if first {
                    detected = Detected::Suffix;
                }
            }
            '*' => {
                go_regexp.push_str("[^/]*");
                detected = Detected::Regexp;
            }
            '?' => {
                go_regexp.push_str("[^/]");
                detected = Detected::Regexp;
            }
            '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$' => {
                go_regexp.push('\\');
                go_regexp.push(ch);
            }
            '\\' => {
                go_regexp.push('\\');
                if let Some(next) = chars.next() {
                    go_regexp.push(next);
                    detected = Detected::Regexp;
                }
            }
            '[' | ']' => {
                go_regexp.push(ch);
                detected = Detected::Regexp;
            }
            _ => go_regexp.push(ch),
        }
        first = false;
    }
    match detected {
        Detected::Exact => Ok(MatchKind::Exact),
        // Both are ASCII `**`, so these byte slices are on char boundaries.
        Detected::Prefix => Ok(MatchKind::Prefix(text[..text.len() - 2].to_string())),
        Detected::Suffix => Ok(MatchKind::Suffix(text[2..].to_string())),
        Detected::Regexp => {
            go_regexp.push('$');
            let rust = go_regexp_to_rust(&go_regexp)?;
            Regex::new(&rust)
                .map(MatchKind::Regexp)
                .map_err(|error| error.to_string())
        }
    }
}

/// Translates the Go (RE2, Perl flags) regexp that patternmatcher builds into the `regex`
/// crate's dialect with the same meaning. Only constructs that can reach a Go regexp from a
/// pattern are handled; everything else is an error, as it would be (or should be) in Go.
fn go_regexp_to_rust(source: &str) -> Result<String, String> {
    let t: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len() * 2);
    let mut i = 0;
    while let Some(&c) = t.get(i) {
        match c {
            '\\' => match t.get(i + 1) {
                Some('A') => {
                    out.push_str(r"\A");
                    i += 2;
                }
                Some('z') => {
                    out.push_str(r"\z");
                    i += 2;
                }
                // Go's word boundaries are ASCII-only.
                Some('b') => {
                    out.push_str(r"(?-u:\b)");
                    i += 2;
                }
                Some('B') => {
                    out.push_str(r"(?-u:\B)");
                    i += 2;
                }
                Some('Q') => {
                    i += 2;
                    while let Some(&ch) = t.get(i) {
                        if ch == '\\' && t.get(i + 1) == Some(&'E') {
                            i += 2;
                            break;
                        }
                        push_literal(&mut out, ch);
                        i += 1;
                    }
                }
                Some('p' | 'P') => {
                    let (class, next) = unicode_class(&t, i)?;
                    out.push_str(&class);
                    i = next;
                }
                Some(&class @ ('d' | 'D' | 's' | 'S' | 'w' | 'W')) => {
                    out.push_str(&perl_class(class, false));
                    i += 2;
                }
                _ => {
                    let (ch, next) = parse_escape(&t, i)?;
                    push_literal(&mut out, ch);
                    i = next;
                }
            },
            '[' => i = parse_class(&t, i, &mut out)?,
            '(' | ')' | '|' | '.' | '^' | '$' | '*' | '+' | '?' => {
                out.push(c);
                i += 1;
            }
            _ => {
                push_literal(&mut out, c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// A literal character, escaped so it means itself both inside and outside a Rust class.
fn push_literal(out: &mut String, ch: char) {
    if ch.is_ascii_alphanumeric() || ch == '_' || ch == '/' || !ch.is_ascii() {
        out.push(ch);
    } else {
        out.push_str(&format!("\\x{{{:x}}}", u32::from(ch)));
    }
}

/// Go's Perl classes are ASCII-only; the `regex` crate's are Unicode.
fn perl_class(letter: char, in_class: bool) -> String {
    let body = match letter.to_ascii_lowercase() {
        'd' => "0-9",
        's' => r"\t\n\x0C\r ",
        _ => "0-9A-Za-z_",
    };
    match (letter.is_ascii_uppercase(), in_class) {
        (true, _) => format!("[^{body}]"),
        (false, true) => body.to_string(),
        (false, false) => format!("[{body}]"),
    }
}

fn invalid_escape(t: &[char], start: usize, end: usize) -> String {
    let text: String = t[start..end.min(t.len())].iter().collect();
    format!("invalid escape sequence `{text}`")
}

/// Go's `parseEscape`: `t[i]` is the backslash; returns the character and the next index.
fn parse_escape(t: &[char], i: usize) -> Result<(char, usize), String> {
    let Some(&c) = t.get(i + 1) else {
        return Err("trailing backslash at end of expression".to_string());
    };
    let mut j = i + 2;
    let is_octal = |d: Option<&char>| d.is_some_and(|d| ('0'..='7').contains(d));
    let found = |value: u32, next: usize| {
        char::from_u32(value)
            .map(|ch| (ch, next))
            .ok_or_else(|| invalid_escape(t, i, next))
    };
    match c {
        // A lone digit would be a backreference, which RE2 does not have.
        '1'..='7' if !is_octal(t.get(j)) => Err(invalid_escape(t, i, j)),
        '0'..='7' => {
            let mut value = c as u32 - '0' as u32;
            for _ in 1..3 {
                if !is_octal(t.get(j)) {
                    break;
                }
                value = value * 8 + (t[j] as u32 - '0' as u32);
                j += 1;
            }
            found(value, j)
        }
        'x' => {
            let Some(&first) = t.get(j) else {
                return Err(invalid_escape(t, i, j));
            };
            j += 1;
            if first == '{' {
                let mut value: u32 = 0;
                let mut digits = 0;
                loop {
                    let Some(&d) = t.get(j) else {
                        return Err(invalid_escape(t, i, j));
                    };
                    j += 1;
                    if d == '}' {
                        break;
                    }
                    let Some(v) = d.to_digit(16) else {
                        return Err(invalid_escape(t, i, j));
                    };
                    value = value * 16 + v;
                    if value > 0x10ffff {
                        return Err(invalid_escape(t, i, j));
                    }
                    digits += 1;
                }
                if digits == 0 {
                    return Err(invalid_escape(t, i, j));
                }
                found(value, j)
            } else {
                let second = t.get(j).and_then(|d| d.to_digit(16));
                j += 1;
                match (first.to_digit(16), second) {
                    (Some(hi), Some(lo)) => found(hi * 16 + lo, j),
                    _ => Err(invalid_escape(t, i, j)),
                }
            }
        }
        'a' => Ok(('\x07', j)),
        'f' => Ok(('\x0c', j)),
        'n' => Ok(('\n', j)),
        'r' => Ok(('\r', j)),
        't' => Ok(('\t', j)),
        'v' => Ok(('\x0b', j)),
        c if c.is_ascii() && !c.is_ascii_alphanumeric() => Ok((c, j)),
        _ => Err(invalid_escape(t, i, j)),
    }
}

/// Go's `parseUnicodeClass` at `t[i] == '\\'`, `t[i + 1]` being `p` or `P`.
fn unicode_class(t: &[char], i: usize) -> Result<(String, usize), String> {
    let mut negate = t.get(i + 1) == Some(&'P');
    let start = i + 2;
    let (name, next): (String, usize) = match t.get(start) {
        None => return Err("invalid character class range `\\p`".to_string()),
        Some('{') => {
            let Some(close) = t[start..].iter().position(|&c| c == '}') else {
                return Err("invalid character class range: missing `}`".to_string());
            };
            let close = start + close;
            (t[start + 1..close].iter().collect(), close + 1)
        }
        Some(&c) => (c.to_string(), start + 1),
    };
    let name = match name.strip_prefix('^') {
        Some(rest) => {
            negate = !negate;
            rest.to_string()
        }
        None => name,
    };
    if name.is_empty() {
        return Err("invalid character class range: empty Unicode class name".to_string());
    }
    let letter = if negate { 'P' } else { 'p' };
    Ok((format!("\\{letter}{{{name}}}"), next))
}

/// Go's `parseClass` at `t[i] == '['`, writing the equivalent Rust class; returns the index
/// after the closing `]`. A `[` inside is a literal in Go but a nested class in Rust, hence
/// the translation rather than a copy.
fn parse_class(t: &[char], i: usize, out: &mut String) -> Result<usize, String> {
    const POSIX: [&str; 14] = [
        "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
        "space", "upper", "word", "xdigit",
    ];
    let missing = || "missing closing ] in character class".to_string();
    let mut j = i + 1;
    out.push('[');
    if t.get(j) == Some(&'^') {
        out.push('^');
        j += 1;
    }
    let mut first = true;
    loop {
        let Some(&c) = t.get(j) else {
            return Err(missing());
        };
        if c == ']' && !first {
            j += 1;
            break;
        }
        first = false;
        if c == '[' && t.get(j + 1) == Some(&':') && t.len() - j > 2 {
            let close = t[j + 2..]
                .windows(2)
                .position(|w| w == [':', ']'])
                .map(|k| j + 2 + k);
            if let Some(close) = close {
                let name: String = t[j + 2..close].iter().collect();
                let bare = name.strip_prefix('^').unwrap_or(&name);
                if !POSIX.contains(&bare) {
                    return Err(format!("invalid character class range `[:{name}:]`"));
                }
                out.push_str(&format!("[:{name}:]"));
                j = close + 2;
                continue;
            }
        }
        if c == '\\' {
            match t.get(j + 1) {
                Some('p' | 'P') => {
                    let (class, next) = unicode_class(t, j)?;
                    out.push_str(&class);
                    j = next;
                    continue;
                }
                Some(&class @ ('d' | 'D' | 's' | 'S' | 'w' | 'W')) => {
                    out.push_str(&perl_class(class, true));
                    j += 2;
                    continue;
                }
                _ => {}
            }
        }
        let (lo, next) = class_char(t, j)?;
        j = next;
        let mut hi = lo;
        if t.len() - j >= 2 && t[j] == '-' && t[j + 1] != ']' {
            let (upper, next) = class_char(t, j + 1)?;
            j = next;
            if upper < lo {
                return Err(format!("invalid character class range `{lo}-{upper}`"));
            }
            hi = upper;
        }
        push_literal(out, lo);
        if hi != lo {
            out.push('-');
            push_literal(out, hi);
        }
    }
    out.push(']');
    Ok(j)
}

/// Go's `parseClassChar`.
fn class_char(t: &[char], j: usize) -> Result<(char, usize), String> {
    match t.get(j) {
        None => Err("missing closing ] in character class".to_string()),
        Some('\\') => parse_escape(t, j),
        Some(&c) => Ok((c, j + 1)),
    }
}

// ---------------------------------------------------------------------------------------------
// Build context
// ---------------------------------------------------------------------------------------------

/// A checked build context: a directory, the Dockerfile to build and the ignore rules.
/// Cloning is cheap (one `Arc`).
#[derive(Debug, Clone)]
pub struct BuildContext {
    inner: Arc<Inner>,
    /// Files sent with other content than on disk (an incremental run's edits).
    edits: Option<Arc<SourceEdits>>,
}

#[derive(Debug)]
struct Inner {
    /// Canonical, so the walk and the inside/outside test agree with the CLI's `EvalSymlinks`.
    context_dir: PathBuf,
    /// Canonical path of the Dockerfile.
    dockerfile: PathBuf,
    /// What the build's `dockerfile` option must say.
    dockerfile_name: String,
    /// The Dockerfile is added under a generated name (it is outside the context).
    dockerfile_outside: bool,
    /// The `.dockerignore` patterns plus the always-sent exceptions.
    rules: DockerIgnore,
}

/// One entry found by the walk.
struct WalkEntry<'a> {
    rel: &'a str,
    tar_path: &'a Path,
    abs: &'a Path,
    meta: &'a Metadata,
}

/// Entries appended after the walk, as the CLI appends them to the tar it already made.
enum Generated {
    Dockerfile,
    Dockerignore,
}

impl BuildContext {
    /// Validates that the context dir exists and is a directory and that the Dockerfile exists
    /// and is a file, and loads `.dockerignore`. A relative `dockerfile` is relative to the
    /// current directory, as with `docker build -f`.
    pub fn new(context_dir: &Path, dockerfile: &Path) -> Result<Self, ContextError> {
        let context_abs =
            fs::canonicalize(context_dir).map_err(|cause| ContextError::ContextDir {
                path: context_dir.to_path_buf(),
                cause,
            })?;
        if !context_abs.is_dir() {
            return Err(ContextError::NotADirectory {
                path: context_dir.to_path_buf(),
            });
        }
        let dockerfile_abs =
            fs::canonicalize(dockerfile).map_err(|cause| ContextError::Dockerfile {
                path: dockerfile.to_path_buf(),
                cause,
            })?;
        if !dockerfile_abs.is_file() {
            return Err(ContextError::DockerfileNotAFile {
                path: dockerfile.to_path_buf(),
            });
        }
        let ignore = DockerIgnore::load(context_dir)?;
        let inside = dockerfile_abs
            .strip_prefix(&context_abs)
            .ok()
            .and_then(slash_path);
        let (dockerfile_name, dockerfile_outside, rules) = match inside {
            Some(rel) => {
                let rules = ignore.with_forced(&[DOCKERIGNORE, &rel]);
                (rel, false, rules)
            }
            // A non-UTF-8 name inside the context is also sent this way: the option is a string.
            None => {
                let name = generated_dockerfile_name(&context_abs, &dockerfile_abs);
                (name, true, ignore.with_forced(&[DOCKERIGNORE]))
            }
        };
        Ok(BuildContext {
            inner: Arc::new(Inner {
                context_dir: context_abs,
                dockerfile: dockerfile_abs,
                dockerfile_name,
                dockerfile_outside,
                rules,
            }),
            edits: None,
        })
    }

    /// The same context with `edits` sent instead of the files' own content, each with the
    /// modification time of now, as an editor would leave it. A file outside the context is
    /// refused (unless it is the Dockerfile), since editing it could not change the build.
    pub fn with_edits(&self, edits: SourceEdits) -> Result<BuildContext, ContextError> {
        for (path, _) in &edits.files {
            if !path.starts_with(&self.inner.context_dir) && *path != self.inner.dockerfile {
                return Err(ContextError::EditOutsideContext {
                    path: path.clone(),
                    context: self.inner.context_dir.clone(),
                });
            }
        }
        Ok(BuildContext {
            inner: Arc::clone(&self.inner),
            edits: Some(Arc::new(edits)),
        })
    }

    /// The Dockerfile's canonical path, the one [`BuildContext::with_edits`] knows it by.
    pub fn dockerfile_path(&self) -> &Path {
        &self.inner.dockerfile
    }

    /// Whether files are sent with edited content.
    pub fn is_edited(&self) -> bool {
        self.edits.is_some()
    }

    fn edited(&self, path: &Path) -> Option<&[u8]> {
        self.edits.as_ref().and_then(|edits| edits.content_of(path))
    }

    /// The name to pass as the build's `dockerfile` option.
    pub fn dockerfile_name(&self) -> &str {
        &self.inner.dockerfile_name
    }

    /// Writes the whole tar synchronously (used by tests and benchmarks).
    pub fn write_tar<W: Write>(&self, out: W) -> Result<W, ContextError> {
        self.write_tar_until(out, &|| false)
    }

    /// Relative paths that would be sent, in tar order (directories without a trailing `/`).
    /// Like the CLI's `ValidateContextDirectory`, every regular file is opened once, so an
    /// unreadable file is reported here rather than halfway through a build.
    pub fn included_paths(&self) -> Result<Vec<String>, ContextError> {
        let mut paths = Vec::new();
        let mut saw_dockerignore = false;
        self.walk(&|| false, &mut |entry| {
            if entry.meta.is_file() {
                open_no_follow(entry.abs).map_err(ContextError::read(entry.abs))?;
            }
            saw_dockerignore |= entry.rel == DOCKERIGNORE;
            paths.push(entry.rel.to_string());
            Ok(())
        })?;
        for generated in self.generated(saw_dockerignore) {
            if let Generated::Dockerfile = generated {
                open_no_follow(&self.inner.dockerfile)
                    .map_err(ContextError::read(&self.inner.dockerfile))?;
            }
            paths.push(self.generated_name(&generated).to_string());
        }
        Ok(paths)
    }

    /// Streams the tar as it is written. A blocking thread walks the context and fills 64 KiB
    /// chunks into a channel of 8, so memory stays flat whatever the context size. A read error
    /// arrives as an `Err` item (carrying the [`ContextError`]); dropping the stream (a cancelled
    /// build) makes the thread stop at its next entry or chunk.
    pub fn stream(&self) -> impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static {
        let (rx, _worker) = self.spawn_writer();
        futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
    }

    /// A std thread rather than `spawn_blocking`, so a stream can be made outside a runtime.
    fn spawn_writer(
        &self,
    ) -> (
        mpsc::Receiver<Result<Bytes, io::Error>>,
        Option<std::thread::JoinHandle<()>>,
    ) {
        let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
        let context = self.clone();
        let worker_tx = tx.clone();
        let spawned = std::thread::Builder::new()
            .name("stagebench-context".to_string())
            .spawn(move || context.send_tar(worker_tx));
        match spawned {
            Ok(handle) => (rx, Some(handle)),
            Err(cause) => {
                let error = io::Error::new(
                    cause.kind(),
                    format!("cannot start the thread that sends the build context: {cause}"),
                );
                // The channel is new and empty, so this cannot be full.
                let _ = tx.try_send(Err(error));
                (rx, None)
            }
        }
    }

    fn send_tar(&self, tx: mpsc::Sender<Result<Bytes, io::Error>>) {
        let writer = ChannelWriter {
            tx: tx.clone(),
            buffer: BytesMut::with_capacity(CHUNK_SIZE),
        };
        let outcome = self
            .write_tar_until(writer, &|| tx.is_closed())
            .and_then(|mut writer| writer.flush().map_err(ContextError::write));
        if let Err(error) = outcome {
            // Fails only when nobody listens any more, and then nobody needs the error.
            let _ = tx.blocking_send(Err(error.into_io()));
        }
    }

    fn write_tar_until<W: Write>(
        &self,
        out: W,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<W, ContextError> {
        let mut builder = tar::Builder::new(Guarded {
            inner: out,
            discard: false,
        });
        builder.follow_symlinks(false);
        let outcome = self.append_all(&mut builder, cancelled);
        if let Err(error) = outcome {
            // The builder's drop writes the end-of-archive blocks; a failed tar must not look
            // complete to the daemon.
            builder.get_mut().discard = true;
            return Err(error);
        }
        builder
            .into_inner()
            .map(|guarded| guarded.inner)
            .map_err(ContextError::write)
    }

    fn append_all<W: Write>(
        &self,
        builder: &mut tar::Builder<W>,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<(), ContextError> {
        let mut hard_links: HashMap<(u64, u64), PathBuf> = HashMap::new();
        let mut saw_dockerignore = false;
        self.walk(cancelled, &mut |entry| {
            saw_dockerignore |= entry.rel == DOCKERIGNORE;
            self.append_entry(builder, entry, &mut hard_links)
        })?;
        for generated in self.generated(saw_dockerignore) {
            let data = match generated {
                Generated::Dockerfile => match self.edited(&self.inner.dockerfile) {
                    Some(edited) => edited.to_vec(),
                    None => read_no_follow(&self.inner.dockerfile)
                        .map_err(ContextError::read(&self.inner.dockerfile))?,
                },
                Generated::Dockerignore => {
                    format!("{DOCKERIGNORE}\n{}\n", self.inner.dockerfile_name).into_bytes()
                }
            };
            let meta = fs::metadata(&self.inner.dockerfile)
                .map_err(ContextError::read(&self.inner.dockerfile))?;
            let mut header = header_for(&meta, EntryType::Regular, data.len() as u64);
            // The CLI's mode for the entries it adds.
            header.set_mode(0o600);
            builder
                .append_data(
                    &mut header,
                    self.generated_name(&generated),
                    data.as_slice(),
                )
                .map_err(ContextError::write)?;
        }
        Ok(())
    }

    fn generated(&self, saw_dockerignore: bool) -> Vec<Generated> {
        match (self.inner.dockerfile_outside, saw_dockerignore) {
            (false, _) => Vec::new(),
            (true, true) => vec![Generated::Dockerfile],
            (true, false) => vec![Generated::Dockerfile, Generated::Dockerignore],
        }
    }

    fn generated_name(&self, generated: &Generated) -> &str {
        match generated {
            Generated::Dockerfile => &self.inner.dockerfile_name,
            Generated::Dockerignore => DOCKERIGNORE,
        }
    }

    fn append_entry<W: Write>(
        &self,
        builder: &mut tar::Builder<W>,
        entry: &WalkEntry<'_>,
        hard_links: &mut HashMap<(u64, u64), PathBuf>,
    ) -> Result<(), ContextError> {
        let meta = entry.meta;
        let file_type = meta.file_type();
        if file_type.is_dir() {
            let mut name = entry.tar_path.as_os_str().to_os_string();
            name.push("/");
            let mut header = header_for(meta, EntryType::Directory, 0);
            return builder
                .append_data(&mut header, Path::new(&name), io::empty())
                .map_err(ContextError::write);
        }
        if let Some(key) = hard_link_key(meta) {
            if let Some(first) = hard_links.get(&key) {
                let mut header = header_for(meta, EntryType::Link, 0);
                return builder
                    .append_link(&mut header, entry.tar_path, first)
                    .map_err(ContextError::write);
            }
            hard_links.insert(key, entry.tar_path.to_path_buf());
        }
        if file_type.is_symlink() {
            let target = fs::read_link(entry.abs).map_err(ContextError::read(entry.abs))?;
            let mut header = header_for(meta, EntryType::Symlink, 0);
            return builder
                .append_link(&mut header, entry.tar_path, &target)
                .map_err(ContextError::write);
        }
        if self.inner.dockerfile_outside && entry.rel == DOCKERIGNORE {
            // The CLI appends the generated name so the classic builder leaves it out of COPY.
            let mut data = read_no_follow(entry.abs).map_err(ContextError::read(entry.abs))?;
            data.extend_from_slice(format!("\n{}\n", self.inner.dockerfile_name).as_bytes());
            let mut header = header_for(meta, EntryType::Regular, data.len() as u64);
            return builder
                .append_data(&mut header, entry.tar_path, data.as_slice())
                .map_err(ContextError::write);
        }
        if let Some(edited) = self.edited(entry.abs) {
            let mut header = header_for(meta, EntryType::Regular, edited.len() as u64);
            header.set_mtime(now_seconds());
            return builder
                .append_data(&mut header, entry.tar_path, edited)
                .map_err(ContextError::write);
        }
        // The walk saw a regular file; a link put in its place since is refused, not followed.
        let file = open_no_follow(entry.abs).map_err(ContextError::read(entry.abs))?;
        let size = meta.len();
        let mut reader = ExactReader {
            file,
            remaining: size,
            path: entry.abs,
            failure: None,
        };
        let mut header = header_for(meta, EntryType::Regular, size);
        let capacity = usize::try_from(size.clamp(1, CHUNK_SIZE as u64)).unwrap_or(CHUNK_SIZE);
        let outcome = builder.append_data(
            &mut header,
            entry.tar_path,
            BufReader::with_capacity(capacity, &mut reader),
        );
        match (outcome, reader.failure.take()) {
            (Ok(()), _) => Ok(()),
            (Err(_), Some(failure)) => Err(failure),
            (Err(cause), None) => Err(ContextError::write(cause)),
        }
    }

    /// Go's `filepath.WalkDir` order with moby's exclusion rules; `visit` sees what is sent.
    fn walk(
        &self,
        cancelled: &dyn Fn() -> bool,
        visit: &mut dyn FnMut(&WalkEntry<'_>) -> Result<(), ContextError>,
    ) -> Result<(), ContextError> {
        struct Dir {
            abs: PathBuf,
            rel: String,
            tar_path: PathBuf,
            names: std::vec::IntoIter<OsString>,
            /// This directory's pattern results, which its children inherit.
            info: Vec<bool>,
        }
        let rules = &self.inner.rules;
        let root = &self.inner.context_dir;
        let mut stack = vec![Dir {
            abs: root.clone(),
            rel: String::new(),
            tar_path: PathBuf::new(),
            names: sorted_names(root)?.into_iter(),
            info: Vec::new(),
        }];
        while let Some(dir) = stack.last_mut() {
            let Some(name) = dir.names.next() else {
                stack.pop();
                continue;
            };
            if cancelled() {
                return Err(ContextError::write(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the build context is no longer being read",
                )));
            }
            let abs = dir.abs.join(&name);
            let name_text = name.to_string_lossy();
            let rel = if dir.rel.is_empty() {
                name_text.into_owned()
            } else {
                format!("{}/{name_text}", dir.rel)
            };
            let tar_path = dir.tar_path.join(&name);
            let (excluded, info) = rules.matches(&rel, &dir.info);
            let meta = fs::symlink_metadata(&abs).map_err(ContextError::read(&abs))?;
            let file_type = meta.file_type();
            if !(file_type.is_dir() || file_type.is_file() || file_type.is_symlink()) {
                continue;
            }
            if excluded {
                if !file_type.is_dir() || !rules.may_reinclude_below(&rel) {
                    continue;
                }
            } else {
                visit(&WalkEntry {
                    rel: &rel,
                    tar_path: &tar_path,
                    abs: &abs,
                    meta: &meta,
                })?;
            }
            if file_type.is_dir() {
                let names = sorted_names(&abs)?.into_iter();
                stack.push(Dir {
                    abs,
                    rel,
                    tar_path,
                    names,
                    info,
                });
            }
        }
        Ok(())
    }
}

/// The relative path with `/` separators, or `None` if it cannot be a string.
fn slash_path(rel: &Path) -> Option<String> {
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    let joined = parts?.join("/");
    (!joined.is_empty()).then_some(joined)
}

/// Derived from the Dockerfile's path, not random, so repeated builds send identical tars; the
/// CLI's `.dockerfile.<random>` would make every `COPY .` a cache miss where `.dockerignore` is
/// not applied by the daemon.
fn generated_dockerfile_name(context_dir: &Path, dockerfile: &Path) -> String {
    // FNV-1a: tiny, stable across Rust versions (unlike `DefaultHasher`).
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in dockerfile.as_os_str().as_encoded_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    loop {
        let name = format!(".stagebench-dockerfile-{hash:016x}");
        if fs::symlink_metadata(context_dir.join(&name)).is_err() {
            return name;
        }
        hash = hash.wrapping_add(1);
    }
}

fn sorted_names(dir: &Path) -> Result<Vec<OsString>, ContextError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(ContextError::read(dir))? {
        names.push(entry.map_err(ContextError::read(dir))?.file_name());
    }
    names.sort_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
    Ok(names)
}

fn header_for(meta: &Metadata, entry_type: EntryType, size: u64) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(entry_type);
    header.set_mode(mode_bits(meta));
    header.set_uid(0);
    header.set_gid(0);
    let mtime = meta
        .modified()
        .ok()
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |since| since.as_secs());
    header.set_mtime(mtime);
    header.set_size(size);
    header
}

fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// Go's `FileInfoHeader` keeps permission, setuid, setgid and sticky bits, not the file type.
#[cfg(unix)]
fn mode_bits(meta: &Metadata) -> u32 {
    use std::os::unix::fs::MetadataExt;
    meta.mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_bits(meta: &Metadata) -> u32 {
    match (meta.is_dir(), meta.permissions().readonly()) {
        (true, _) => 0o755,
        (false, true) => 0o444,
        (false, false) => 0o644,
    }
}

#[cfg(unix)]
fn hard_link_key(meta: &Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    (!meta.is_dir() && meta.nlink() > 1).then(|| (meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn hard_link_key(_meta: &Metadata) -> Option<(u64, u64)> {
    None
}

/// Reads exactly the size written in the header: a file that grows is cut, one that shrinks
/// is an error, either of which would otherwise corrupt every later entry.
struct ExactReader<'a> {
    file: File,
    remaining: u64,
    path: &'a Path,
    /// The real cause, since the tar crate mixes read and write errors into one `io::Error`.
    failure: Option<ContextError>,
}

impl Read for ExactReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let max = usize::try_from(self.remaining).map_or(buf.len(), |left| left.min(buf.len()));
        match self.file.read(&mut buf[..max]) {
            Ok(0) => {
                self.failure = Some(ContextError::FileChanged {
                    path: self.path.to_path_buf(),
                });
                Err(io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank"))
            }
            Ok(read) => {
                self.remaining -= read as u64;
                Ok(read)
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => Err(error),
            Err(cause) => {
                let kind = cause.kind();
                self.failure = Some(ContextError::Read {
                    path: self.path.to_path_buf(),
                    cause,
                });
                Err(io::Error::new(kind, "read failed"))
            }
        }
    }
}

/// Swallows writes once the tar has failed (see `write_tar_until`).
struct Guarded<W> {
    inner: W,
    discard: bool,
}

impl<W: Write> Write for Guarded<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.discard {
            return Ok(buf.len());
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.discard {
            return Ok(());
        }
        self.inner.flush()
    }
}

/// Cuts the tar into fixed chunks for the channel; a failed send means the receiver is gone.
struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
    buffer: BytesMut,
}

impl ChannelWriter {
    fn send_buffer(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = self.buffer.split().freeze();
        self.buffer.reserve(CHUNK_SIZE);
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the build context is no longer being read",
            )
        })
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = CHUNK_SIZE.saturating_sub(self.buffer.len()).max(1);
        let taken = buf.len().min(room);
        self.buffer.extend_from_slice(&buf[..taken]);
        if self.buffer.len() >= CHUNK_SIZE {
            self.send_buffer()?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_buffer()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use std::time::{Duration, SystemTime};

    fn ignore(text: &str) -> DockerIgnore {
        DockerIgnore::parse(text, Path::new("test/.dockerignore")).unwrap()
    }

    /// Each case: a one-line `.dockerignore`, a path, and whether the path is excluded.
    fn assert_pattern_cases(cases: &[(&str, &str, bool)]) {
        for (pattern, path, expected) in cases {
            let rules = ignore(pattern);
            assert_eq!(
                rules.is_excluded(path),
                *expected,
                "pattern {pattern:?} on {path:?}"
            );
        }
    }

    fn assert_excluded(rules: &DockerIgnore, excluded: &[&str], kept: &[&str]) {
        for path in excluded {
            assert!(rules.is_excluded(path), "{path} should be excluded");
        }
        for path in kept {
            assert!(!rules.is_excluded(path), "{path} should be kept");
        }
    }

    fn write(root: &Path, rel: &str, content: &[u8]) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    struct TarEntry {
        path: String,
        kind: EntryType,
        link: Option<String>,
        mode: u32,
        mtime: u64,
        uid: u64,
        gid: u64,
        data: Vec<u8>,
    }

    fn read_tar(bytes: &[u8]) -> Vec<TarEntry> {
        let mut archive = tar::Archive::new(bytes);
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let mut entry = entry.unwrap();
                let mut data = Vec::new();
                entry.read_to_end(&mut data).unwrap();
                let header = entry.header();
                TarEntry {
                    path: String::from_utf8(entry.path_bytes().into_owned()).unwrap(),
                    kind: header.entry_type(),
                    link: entry
                        .link_name_bytes()
                        .map(|l| String::from_utf8(l.into_owned()).unwrap()),
                    mode: header.mode().unwrap(),
                    mtime: header.mtime().unwrap(),
                    uid: header.uid().unwrap(),
                    gid: header.gid().unwrap(),
                    data,
                }
            })
            .collect()
    }

    fn tar_of(context: &BuildContext) -> Vec<TarEntry> {
        read_tar(&context.write_tar(Vec::new()).unwrap())
    }

    fn names(entries: &[TarEntry]) -> Vec<&str> {
        entries.iter().map(|e| e.path.as_str()).collect()
    }

    /// A context dir with a Dockerfile at its root.
    fn context_with(files: &[(&str, &str)]) -> (tempfile::TempDir, BuildContext) {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "Dockerfile", b"FROM scratch\n");
        for (rel, content) in files {
            write(dir.path(), rel, content.as_bytes());
        }
        let context = BuildContext::new(dir.path(), &dir.path().join("Dockerfile")).unwrap();
        (dir, context)
    }

    // --- patterns: Docker's documented examples ---

    #[test]
    fn docs_example_star_slash_temp() {
        let rules = ignore("# comment\n*/temp*\n*/*/temp*\ntemp?\n");
        assert_excluded(
            &rules,
            &[
                "somedir/temporary.txt",
                "somedir/temp",
                "somedir/temp/inside.txt",
                "somedir/subdir/temporary.txt",
                "tempa",
                "tempb",
            ],
            &[
                "temp",
                "temporary.txt",
                "tempab",
                "a/b/c/temp.txt",
                "# comment",
            ],
        );
    }

    #[test]
    fn double_star_matches_any_number_of_directories_including_none() {
        let rules = ignore("**/*.go\n");
        assert_excluded(
            &rules,
            &["main.go", "a/b/c.go", "a/x.go"],
            &["a/go", "main.gox"],
        );
    }

    #[test]
    fn docs_example_markdown_exceptions_and_order() {
        let rules = ignore("*.md\n!README*.md\nREADME-secret.md\n");
        assert_excluded(
            &rules,
            &["CHANGELOG.md", "README-secret.md"],
            &["README.md", "README-public.md", "main.go"],
        );
        // Swapped: the exception comes last, so it wins over the secret line.
        let rules = ignore("*.md\nREADME-secret.md\n!README*.md\n");
        assert_excluded(
            &rules,
            &["CHANGELOG.md"],
            &["README-secret.md", "README.md"],
        );
    }

    #[test]
    fn exception_reincludes_a_file_under_an_excluded_directory() {
        let rules = ignore("docs\n!docs/README.md\n");
        assert_excluded(
            &rules,
            &["docs", "docs/other.md", "docs/sub/x"],
            &["docs/README.md"],
        );
        let rules = ignore("docs/*\n!docs/README.md\n");
        assert_excluded(&rules, &["docs/other.md"], &["docs/README.md", "docs"]);
    }

    #[test]
    fn leading_slash_dot_slash_and_trailing_slash_are_cleaned_away() {
        let rules = ignore("/foo\n./bar\nbaz/\n/a/../qux//\n");
        assert_excluded(
            &rules,
            &["foo", "foo/x", "bar", "bar/y", "baz", "baz/z", "qux"],
            &["a", "x/foo", "x/bar", "bazz"],
        );
    }

    #[test]
    fn trailing_double_star_matches_everything_below_but_not_the_directory() {
        let rules = ignore("dir/**\n");
        assert_excluded(&rules, &["dir/a", "dir/a/b"], &["dir", "dirx/a"]);
        let rules = ignore("**\n");
        assert_excluded(&rules, &["file", "dir/file", ".dockerignore"], &[]);
        // patternmatcher's multi-pattern cases.
        let rules = ignore("**\n!util/docker/web\n");
        assert_excluded(&rules, &["util/docker/x"], &["util/docker/web/foo"]);
        let rules = ignore("**\n!util/docker/web\nutil/docker/web/foo\n");
        assert_excluded(&rules, &["util/docker/web/foo"], &["util/docker/web/bar"]);
    }

    #[test]
    fn patternmatcher_single_pattern_cases() {
        let cases: &[(&str, &str, bool)] = &[
            ("**/dir", "dir", true),
            ("**/dir", "dir/file", true),
            ("**/dir2/*", "dir/dir2/file", true),
            ("**/dir2/**", "dir/dir2/dir3/file", true),
            ("**file", "file", true),
            ("**file", "dir/dir/file", true),
            ("**/file*.txt", "dir/dir/file.txt", true),
            ("**/**/*.txt2", "dir/dir/file.txt", false),
            ("**/**/*.txt", "file.txt", true),
            ("a**/*.txt", "a/dir/dir/file.txt", true),
            ("a/*.txt", "a/dir/file.txt", false),
            ("a/*.txt**", "a/file.txt", true),
            (".*", ".foo", true),
            (".*", "foo", false),
            ("abc.def", "abcZdef", false),
            ("abc.def", "abc.def", true),
            ("abc?def", "abcZdef", true),
            ("abc?def", "abcdef", false),
            ("**/foo/bar", "foo/bar", true),
            ("**/foo/bar", "dir/dir2/foo/bar", true),
            ("**/.foo", "bar.foo", false),
            ("a(b)c/def", "a(b)c/def", true),
            ("a(b)c/def", "a(b)c/xyz", false),
            ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
            (
                "dist/*.whl",
                "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                true,
            ),
            ("a?b", "a☺b", true),
            ("a???b", "a☺b", false),
            ("a?b", "a/b", false),
            ("a*b", "a/b", false),
            ("*x", "xxx", true),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
        ];
        assert_pattern_cases(cases);
    }

    #[test]
    fn suffix_fast_path_matches_inside_a_name_as_docker_does() {
        // `**file` is patternmatcher's suffix test, not `(.*/)?file`.
        let rules = ignore("**file\n");
        assert!(rules.is_excluded("dir/myfile"));
        assert!(rules.is_excluded("myfile"));
        assert!(!rules.is_excluded("files"));
    }

    #[test]
    fn character_classes() {
        let cases: &[(&str, &str, bool)] = &[
            ("a[b-d]e", "ace", true),
            ("a[b-d]e", "aae", false),
            ("a[b-d]e", "ae", false),
            ("a[^b-d]e", "aze", true),
            ("a[^b-d]e", "ace", false),
            ("ab[^e-g]", "abc", true),
            ("[\\]a]", "]", true),
            ("[\\-]", "-", true),
            ("[x\\-]", "-", true),
            ("[x\\-]", "z", false),
            ("[a-ζ]*", "α", true),
            ("*[a-ζ]", "A", false),
            // Go regexp semantics survive translation: `[` is a literal inside a class ...
            ("x[[]", "x[", true),
            // ... POSIX classes work ...
            ("[[:digit:]]*.log", "7.log", true),
            ("[[:digit:]]*.log", "a.log", false),
        ];
        assert_pattern_cases(cases);
    }

    #[test]
    fn escapes() {
        let cases: &[(&str, &str, bool)] = &[
            ("a\\*b", "a*b", true),
            ("a\\*b", "axb", false),
            ("a\\*b", "ab", false),
            ("a\\\\", "a\\", true),
            ("a\\?", "a?", true),
            ("a\\?", "ab", false),
            ("\\[x]", "[x]", true),
            ("\\[x]", "x", false),
            ("\\#notacomment", "#notacomment", true),
        ];
        assert_pattern_cases(cases);
    }

    #[test]
    fn parent_directory_match_excludes_everything_below() {
        let rules = ignore("node_modules\n");
        assert_excluded(
            &rules,
            &["node_modules", "node_modules/a", "node_modules/a/b"],
            &["src/node_modules", "node_modules2"],
        );
    }

    #[test]
    fn last_match_wins() {
        let rules = ignore("*.txt\n!keep*.txt\nkeep-not.txt\n");
        assert_excluded(
            &rules,
            &["a.txt", "keep-not.txt"],
            &["keep.txt", "keep-this.txt"],
        );
        let rules = ignore("!keep.txt\n*.txt\n");
        assert_excluded(&rules, &["keep.txt"], &[]);
    }

    #[test]
    fn comments_only_in_column_one_and_crlf_bom_are_handled() {
        let rules = ignore("\u{feff}# comment\r\n  #hash\r\n\r\n   \r\nlog\r\n");
        assert_excluded(&rules, &["#hash", "log"], &["# comment", "comment"]);
        assert_eq!(rules.patterns.len(), 2);
    }

    #[test]
    fn exception_with_spaces_after_bang_and_absolute_path() {
        let rules = ignore("inverted\n! /inverted/abs/path\n");
        assert_excluded(&rules, &["inverted/x"], &["inverted/abs/path"]);
    }

    #[test]
    fn exception_evaluated_with_parent_results_like_dockers_tar_writer() {
        // Docker's tar writer (MatchesUsingParentResults) keeps `a/b` excluded here: `!a`
        // was skipped for `a` itself, so `a/b` does not inherit it. The deprecated
        // MatchesOrParentMatches would keep `a/b`.
        let rules = ignore("a/b\n!a\n");
        assert!(rules.is_excluded("a/b"));
        assert!(!rules.is_excluded("a"));
        assert!(!rules.is_excluded("a/c"));
    }

    #[test]
    fn bad_patterns_name_the_file_and_line() {
        let cases: &[(&str, usize)] = &[
            ("ok\n\n[\n", 3),
            ("# c\na[\n", 2),
            ("!\n", 1),
            ("! \n", 1),
            ("x\n[]a]\n", 2),
            ("[a-b-c]\n", 1),
            ("trailing\\\n", 1),
            // Valid for filepath.Match, rejected by Go's regexp: moby/moby#52203.
            ("[Local-Only]/\n", 1),
            ("[z-a]\n", 1),
            ("a\\e*\n", 1),
        ];
        for (text, line) in cases {
            let error = DockerIgnore::parse(text, Path::new("/ctx/.dockerignore")).unwrap_err();
            let message = error.to_string();
            assert!(
                message.starts_with(&format!("/ctx/.dockerignore:{line}: invalid pattern")),
                "{text:?} gave {message}"
            );
            assert!(matches!(error, ContextError::BadPattern { line: l, .. } if l == *line));
        }
    }

    #[test]
    fn translated_regexps_keep_go_meaning() {
        assert_eq!(
            go_regexp_to_rust(r"^(.*/)?[^/]*\.txt$").unwrap(),
            r"^(.*/)?[^/]*\x{2e}txt$"
        );
        assert_eq!(go_regexp_to_rust(r"^a[[]$").unwrap(), r"^a[\x{5b}]$");
        assert_eq!(go_regexp_to_rust(r"^\d$").unwrap(), "^[0-9]$");
        assert!(go_regexp_to_rust(r"^\1$").is_err());
        assert!(go_regexp_to_rust(r"^[[:nope:]]$").is_err());
    }

    #[test]
    fn load_without_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let rules = DockerIgnore::load(dir.path()).unwrap();
        assert!(rules.patterns.is_empty());
        assert!(!rules.is_excluded("anything"));
    }

    // --- walk and tar ---

    #[test]
    fn walk_order_is_per_directory_lexical_like_go_walkdir() {
        let (_dir, context) =
            context_with(&[("b", ""), ("a-b", ""), ("a/c", ""), ("a/B", ""), ("A", "")]);
        assert_eq!(
            context.included_paths().unwrap(),
            ["A", "Dockerfile", "a", "a/B", "a/c", "a-b", "b"]
        );
        let entries = tar_of(&context);
        assert_eq!(
            names(&entries),
            ["A", "Dockerfile", "a/", "a/B", "a/c", "a-b", "b"]
        );
        assert_eq!(entries[2].kind, EntryType::Directory);
    }

    #[test]
    fn excluded_directory_is_skipped_unless_an_exception_names_it() {
        let (_dir, context) = context_with(&[
            (".dockerignore", "docs\n!docs/README.md\nbuild\n!**/*.go\n"),
            ("docs/README.md", "r"),
            ("docs/other.md", "o"),
            ("build/x.go", "package x"),
            ("main.go", "package main"),
        ]);
        // `docs/` itself is not sent, only what is re-included; `build` is never descended
        // into because no exception's text starts with `build/` (Docker's behaviour).
        assert_eq!(
            context.included_paths().unwrap(),
            [".dockerignore", "Dockerfile", "docs/README.md", "main.go"]
        );
        assert_eq!(
            names(&tar_of(&context)),
            [".dockerignore", "Dockerfile", "docs/README.md", "main.go"]
        );
        // The patterns alone do not exclude it: only the walk's skip leaves it out.
        let rules = DockerIgnore::load(&context.inner.context_dir).unwrap();
        assert!(!rules.is_excluded("build/x.go"));
        assert!(rules.is_excluded("build"));
    }

    #[test]
    fn excluded_dockerfile_and_dockerignore_are_still_sent() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), ".dockerignore", b"*\n");
        write(dir.path(), "docker/app.Dockerfile", b"FROM scratch\n");
        write(dir.path(), "docker/other", b"x");
        write(dir.path(), "src/main.rs", b"fn main() {}");
        let context =
            BuildContext::new(dir.path(), &dir.path().join("docker/app.Dockerfile")).unwrap();
        assert_eq!(context.dockerfile_name(), "docker/app.Dockerfile");
        assert_eq!(
            context.included_paths().unwrap(),
            [".dockerignore", "docker/app.Dockerfile"]
        );
        let entries = tar_of(&context);
        assert_eq!(names(&entries), [".dockerignore", "docker/app.Dockerfile"]);
        assert_eq!(entries[1].data, b"FROM scratch\n");
        // Unchanged: the Dockerfile is inside the context.
        assert_eq!(entries[0].data, b"*\n");
    }

    #[test]
    fn dockerfile_outside_context_is_added_under_a_generated_name() {
        let scenario = tempfile::tempdir().unwrap();
        write(
            scenario.path(),
            "single.Dockerfile",
            b"FROM scratch\nCOPY . /\n",
        );
        write(scenario.path(), "sub/dir/app.txt", b"app");
        let context_dir = scenario.path().join("sub/dir");
        let dockerfile = scenario.path().join("single.Dockerfile");
        let context = BuildContext::new(&context_dir, &dockerfile).unwrap();
        let name = context.dockerfile_name().to_string();
        assert!(name.starts_with(".stagebench-dockerfile-"), "{name}");
        // Stable across instances, so repeated builds send identical tars.
        assert_eq!(
            BuildContext::new(&context_dir, &dockerfile)
                .unwrap()
                .dockerfile_name(),
            name
        );
        assert_eq!(
            context.included_paths().unwrap(),
            ["app.txt", name.as_str(), ".dockerignore"]
        );
        let entries = tar_of(&context);
        assert_eq!(names(&entries), ["app.txt", name.as_str(), ".dockerignore"]);
        assert_eq!(entries[1].data, b"FROM scratch\nCOPY . /\n");
        assert_eq!(entries[1].mode, 0o600);
        assert_eq!(entries[1].kind, EntryType::Regular);
        // Like the CLI, a .dockerignore naming the generated file keeps it out of `COPY .`.
        assert_eq!(
            entries[2].data,
            format!(".dockerignore\n{name}\n").as_bytes()
        );

        // With an existing .dockerignore, the name is appended to it in place.
        write(&context_dir, ".dockerignore", b"*.tmp");
        let entries = tar_of(&BuildContext::new(&context_dir, &dockerfile).unwrap());
        assert_eq!(names(&entries), [".dockerignore", "app.txt", name.as_str()]);
        assert_eq!(entries[0].data, format!("*.tmp\n{name}\n").as_bytes());
    }

    #[test]
    fn generated_name_avoids_existing_files() {
        let scenario = tempfile::tempdir().unwrap();
        write(scenario.path(), "x.Dockerfile", b"FROM scratch\n");
        let context_dir = scenario.path().join("ctx");
        fs::create_dir(&context_dir).unwrap();
        let dockerfile = scenario.path().join("x.Dockerfile");
        let first = BuildContext::new(&context_dir, &dockerfile).unwrap();
        write(&context_dir, first.dockerfile_name(), b"squatter");
        let second = BuildContext::new(&context_dir, &dockerfile).unwrap();
        assert_ne!(first.dockerfile_name(), second.dockerfile_name());
        let entries = tar_of(&second);
        let added = entries
            .iter()
            .find(|e| e.path == second.dockerfile_name())
            .unwrap();
        assert_eq!(added.data, b"FROM scratch\n");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_stored_as_links_and_never_followed() {
        use std::os::unix::fs::symlink;
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "secret", b"TOP-SECRET-CONTENT");
        write(outside.path(), "dir/inner", b"ALSO-SECRET");
        let (dir, _) = context_with(&[("real.txt", "real")]);
        symlink(outside.path().join("secret"), dir.path().join("abs-link")).unwrap();
        symlink("real.txt", dir.path().join("rel-link")).unwrap();
        symlink(outside.path().join("dir"), dir.path().join("dir-link")).unwrap();
        let context = BuildContext::new(dir.path(), &dir.path().join("Dockerfile")).unwrap();
        let bytes = context.write_tar(Vec::new()).unwrap();
        let needle = b"SECRET";
        assert!(!bytes.windows(needle.len()).any(|w| w == needle));
        let entries = read_tar(&bytes);
        assert_eq!(
            names(&entries),
            ["Dockerfile", "abs-link", "dir-link", "real.txt", "rel-link"]
        );
        let link = |name: &str| entries.iter().find(|e| e.path == name).unwrap();
        assert_eq!(link("abs-link").kind, EntryType::Symlink);
        assert_eq!(
            link("abs-link").link.as_deref(),
            outside.path().join("secret").to_str()
        );
        assert!(link("abs-link").data.is_empty());
        assert_eq!(link("dir-link").kind, EntryType::Symlink);
        assert_eq!(link("rel-link").link.as_deref(), Some("real.txt"));
    }

    #[cfg(unix)]
    #[test]
    fn modes_mtimes_and_ownership_are_kept_like_the_cli() {
        use std::os::unix::fs::PermissionsExt;
        let (dir, context) = context_with(&[("run.sh", "#!/bin/sh\n"), ("private", "p")]);
        let script = dir.path().join("run.sh");
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(
            dir.path().join("private"),
            fs::Permissions::from_mode(0o640),
        )
        .unwrap();
        let mtime = UNIX_EPOCH + Duration::from_secs(1_600_000_000);
        File::options()
            .write(true)
            .open(&script)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        let entries = tar_of(&context);
        let entry = |name: &str| entries.iter().find(|e| e.path == name).unwrap();
        assert_eq!(entry("run.sh").mode, 0o755);
        assert_eq!(entry("private").mode, 0o640);
        assert_eq!(entry("run.sh").mtime, 1_600_000_000);
        assert_eq!(entry("run.sh").data, b"#!/bin/sh\n");
        assert!(entries.iter().all(|e| e.uid == 0 && e.gid == 0));
    }

    #[cfg(unix)]
    #[test]
    fn hard_links_after_the_first_are_link_entries() {
        let (dir, context) = context_with(&[("a.bin", "same bytes")]);
        fs::hard_link(dir.path().join("a.bin"), dir.path().join("b.bin")).unwrap();
        let entries = tar_of(&context);
        let b = entries.iter().find(|e| e.path == "b.bin").unwrap();
        assert_eq!(b.kind, EntryType::Link);
        assert_eq!(b.link.as_deref(), Some("a.bin"));
        assert!(b.data.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn sockets_are_skipped() {
        let (dir, context) = context_with(&[("file", "f")]);
        let _listener = std::os::unix::net::UnixListener::bind(dir.path().join("sock")).unwrap();
        assert_eq!(context.included_paths().unwrap(), ["Dockerfile", "file"]);
        assert_eq!(names(&tar_of(&context)), ["Dockerfile", "file"]);
    }

    #[test]
    fn long_paths_and_link_targets_round_trip() {
        let deep = format!("{}/{}/file.txt", "d".repeat(120), "e".repeat(150));
        let (dir, context) = context_with(&[(deep.as_str(), "deep")]);
        #[cfg(unix)]
        std::os::unix::fs::symlink(&deep, dir.path().join("link")).unwrap();
        let entries = tar_of(&context);
        let file = entries.iter().find(|e| e.path == deep).unwrap();
        assert_eq!(file.data, b"deep");
        #[cfg(unix)]
        assert_eq!(
            entries
                .iter()
                .find(|e| e.path == "link")
                .unwrap()
                .link
                .as_deref(),
            Some(deep.as_str())
        );
        #[cfg(not(unix))]
        drop(dir);
    }

    #[tokio::test]
    async fn streamed_bytes_equal_write_tar_bytes() {
        let big: String = (0..300_000)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        let mut files: Vec<(String, String)> = vec![("big.txt".into(), big)];
        for i in 0..200 {
            files.push((format!("many/f{i:03}"), format!("content {i}")));
        }
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let (_dir, context) = context_with(&refs);
        let expected = context.write_tar(Vec::new()).unwrap();
        let mut streamed = Vec::new();
        let mut chunks = 0;
        let mut stream = Box::pin(context.stream());
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.unwrap();
            assert!(chunk.len() <= CHUNK_SIZE);
            streamed.extend_from_slice(&chunk);
            chunks += 1;
        }
        assert!(chunks > 4, "expected several chunks, got {chunks}");
        assert_eq!(streamed.len(), expected.len());
        assert!(streamed == expected);
        assert_eq!(names(&read_tar(&streamed))[0], "Dockerfile");
    }

    #[test]
    fn dropping_the_receiver_stops_the_writer_thread() {
        let big = "x".repeat(CHUNK_SIZE * (CHANNEL_CAPACITY + 8));
        let (_dir, context) = context_with(&[("big", big.as_str())]);
        let (mut rx, worker) = context.spawn_writer();
        let first = rx.blocking_recv().unwrap().unwrap();
        assert_eq!(first.len(), CHUNK_SIZE);
        drop(rx);
        let worker = worker.unwrap();
        let started = SystemTime::now();
        while !worker.is_finished() {
            assert!(
                started.elapsed().unwrap() < Duration::from_secs(10),
                "writer thread kept running after the receiver was dropped"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        worker.join().unwrap();
    }

    #[test]
    fn read_errors_arrive_as_err_items_naming_the_file() {
        // Far larger than what the writer can hold ahead of the reader (channel, buffers).
        let big = "x".repeat(CHUNK_SIZE * (CHANNEL_CAPACITY + 32));
        let (dir, context) = context_with(&[("big", big.as_str())]);
        let (mut rx, _worker) = context.spawn_writer();
        let first = rx.blocking_recv().unwrap().unwrap();
        assert_eq!(first.len(), CHUNK_SIZE);
        // The writer is now blocked on the full channel partway through `big`.
        File::options()
            .write(true)
            .open(dir.path().join("big"))
            .unwrap()
            .set_len(0)
            .unwrap();
        let mut received = first.len();
        let error = loop {
            match rx.blocking_recv() {
                Some(Ok(chunk)) => received += chunk.len(),
                Some(Err(error)) => break error,
                None => panic!("stream ended without an error"),
            }
        };
        assert!(received < big.len());
        assert!(error.to_string().contains("big"), "{error}");
        assert!(error.to_string().contains("changed while"), "{error}");
        let inner = error.into_inner().unwrap();
        assert!(matches!(
            inner.downcast_ref::<ContextError>(),
            Some(ContextError::FileChanged { .. })
        ));
        assert!(rx.blocking_recv().is_none(), "nothing may follow the error");
    }

    #[test]
    fn a_failed_tar_does_not_end_like_a_complete_one() {
        let (_dir, context) = context_with(&[("z", "z")]);
        let calls = std::cell::Cell::new(0);
        let mut written = Vec::new();
        let stop_at_second_entry = || {
            calls.set(calls.get() + 1);
            calls.get() > 1
        };
        let error = context
            .write_tar_until(&mut written, &stop_at_second_entry)
            .unwrap_err();
        assert!(matches!(error, ContextError::Write { .. }));
        // Just the Dockerfile's header and data block: no end-of-archive zero blocks.
        assert_eq!(written.len(), 1024);
        let header = Header::from_byte_slice(&written[..512]);
        assert_eq!(header.path_bytes().as_ref(), b"Dockerfile");
        assert!(written[512..].starts_with(b"FROM scratch\n"));
    }

    #[test]
    fn context_errors_keep_their_io_kind_as_stream_items() {
        let error = ContextError::Read {
            path: PathBuf::from("/ctx/gone"),
            cause: io::Error::from(io::ErrorKind::PermissionDenied),
        }
        .into_io();
        assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
        assert!(error.to_string().contains("/ctx/gone"));
    }

    #[test]
    fn new_validates_context_and_dockerfile() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "Dockerfile", b"FROM scratch\n");
        let missing = dir.path().join("nope");
        let error = BuildContext::new(&missing, &dir.path().join("Dockerfile")).unwrap_err();
        assert!(matches!(error, ContextError::ContextDir { .. }));
        assert!(error.to_string().contains("nope"));

        let error = BuildContext::new(
            &dir.path().join("Dockerfile"),
            &dir.path().join("Dockerfile"),
        )
        .unwrap_err();
        assert!(matches!(error, ContextError::NotADirectory { .. }));

        let error = BuildContext::new(dir.path(), &dir.path().join("Missing")).unwrap_err();
        assert!(matches!(error, ContextError::Dockerfile { .. }));
        assert!(error.to_string().contains("Missing"));

        let error = BuildContext::new(dir.path(), dir.path()).unwrap_err();
        assert!(matches!(error, ContextError::DockerfileNotAFile { .. }));

        write(dir.path(), ".dockerignore", b"ok\n[\n");
        let error = BuildContext::new(dir.path(), &dir.path().join("Dockerfile")).unwrap_err();
        assert!(error.to_string().contains(".dockerignore:2:"), "{error}");
    }

    #[test]
    fn edits_replace_a_file_s_content_in_the_tar_and_nothing_on_disk() {
        let (dir, context) = context_with(&[
            ("Dockerfile", "FROM busybox\nCOPY app /app\n"),
            ("app/main.py", "print(1)\n"),
            ("app/other.py", "print(2)\n"),
        ]);
        let root = fs::canonicalize(dir.path()).unwrap();
        let edits = crate::touch::SourceEdits {
            files: vec![(root.join("app/main.py"), b"print(1)\n# edit\n".to_vec())],
        };
        let edited = context.with_edits(edits).unwrap();
        let entries = tar_of(&edited);
        let main = entries.iter().find(|e| e.path == "app/main.py").unwrap();
        assert_eq!(main.data, b"print(1)\n# edit\n");
        let other = entries.iter().find(|e| e.path == "app/other.py").unwrap();
        assert_eq!(other.data, b"print(2)\n");
        assert_eq!(
            fs::read_to_string(dir.path().join("app/main.py")).unwrap(),
            "print(1)\n"
        );
        let unedited = tar_of(&context);
        let main = unedited.iter().find(|e| e.path == "app/main.py").unwrap();
        assert_eq!(
            main.data, b"print(1)\n",
            "the original context is unchanged"
        );

        let outside = tempfile::tempdir().unwrap();
        let stray = fs::canonicalize(outside.path()).unwrap().join("x.py");
        let error = context
            .with_edits(crate::touch::SourceEdits {
                files: vec![(stray, b"x".to_vec())],
            })
            .unwrap_err();
        assert!(
            error.to_string().contains("is not in the build context"),
            "{error}"
        );
    }
}
