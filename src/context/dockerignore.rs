//! The `.dockerignore` matcher: reading the file, checking and compiling its patterns, and
//! matching paths with patternmatcher's parent-result rules.

use std::path::Path;

use super::ContextError;
use super::go_regexp::{MatchKind, compile_kind};

/// Name the CLI reads ignore patterns from.
pub(super) const DOCKERIGNORE: &str = ".dockerignore";

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
    /// [`BuildContext::included_paths`](super::BuildContext::included_paths) for what is actually
    /// sent.
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
    pub(super) fn matches(&self, file: &str, parent: &[bool]) -> (bool, Vec<bool>) {
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
    pub(super) fn may_reinclude_below(&self, dir: &str) -> bool {
        let dir_slash = format!("{dir}/");
        self.patterns
            .iter()
            .any(|p| p.exclusion && format!("{}/", p.text).starts_with(&dir_slash))
    }

    /// An exception for one literal path, as `TrimBuildFilesFromExcludes` appends (but literal,
    /// so a Dockerfile named `a[1]` is not read as a glob).
    pub(super) fn with_forced(&self, paths: &[&str]) -> DockerIgnore {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn load_without_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let rules = DockerIgnore::load(dir.path()).unwrap();
        assert!(rules.patterns.is_empty());
        assert!(!rules.is_excluded("anything"));
    }
}
