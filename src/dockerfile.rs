//! Just enough Dockerfile reading to know which images a build needs before it starts.
//!
//! The prepare phase must make base images present (and time that separately from the build),
//! and `validate` must name a missing image before anyone waits for a build to fail. Only `FROM`,
//! `COPY --from`/`RUN --mount=from=` references and the `ARG`s before the first `FROM` matter here.
//! The daemon stays the authority on everything else in the file, so this reader is hand-written
//! and small rather than a full Dockerfile parser; no maintained crate covers this subset with
//! BuildKit's flags.

use std::collections::{BTreeMap, BTreeSet};

/// An image a Dockerfile needs from outside itself.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImageReference {
    /// Image name as written after variable expansion, e.g. `debian:bookworm-slim`.
    pub name: String,
    /// 1-based line of the instruction that names it.
    pub line: usize,
}

/// What the reader learned about one Dockerfile.
#[derive(Debug, Default, Clone)]
pub struct DockerfileFacts {
    /// External images, in order of first use, without duplicates.
    pub images: Vec<ImageReference>,
    /// Stage names declared with `FROM ... AS name`, lower-cased as Docker compares them.
    pub stages: Vec<String>,
    /// Every stage in Dockerfile order, as `steps.csv` names it: its `AS` name as written, or
    /// its 0-based index when it has none.
    pub stage_order: Vec<String>,
    /// The value of a `# syntax=` directive: it makes BuildKit pull a frontend image.
    pub syntax_directive: Option<String>,
}

/// Reads `text` with the given build arguments (which override `ARG` defaults before `FROM`).
pub fn read_facts(text: &str, build_args: &BTreeMap<String, String>) -> DockerfileFacts {
    let mut facts = DockerfileFacts {
        syntax_directive: syntax_directive(text),
        ..DockerfileFacts::default()
    };
    let mut global_args: BTreeMap<String, String> = BTreeMap::new();
    let mut seen_from = false;
    let mut seen = BTreeSet::new();

    for (line, instruction) in logical_lines(text) {
        let mut words = instruction.split_whitespace();
        let Some(keyword) = words.next() else {
            continue;
        };
        let rest: Vec<&str> = words.collect();
        match keyword.to_ascii_uppercase().as_str() {
            "ARG" if !seen_from => {
                for declaration in &rest {
                    let (name, default) = match declaration.split_once('=') {
                        Some((name, value)) => (name, unquote(value)),
                        None => (*declaration, String::new()),
                    };
                    let value = build_args.get(name).cloned().unwrap_or(default);
                    global_args.insert(name.to_string(), value);
                }
            }
            "FROM" => {
                seen_from = true;
                let positional: Vec<&str> = rest
                    .iter()
                    .copied()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                if let Some(image) = positional.first() {
                    let name = expand(image, &global_args);
                    note_image(&mut facts, &mut seen, name, line);
                }
                if positional.len() >= 3 && positional[1].eq_ignore_ascii_case("as") {
                    facts.stages.push(positional[2].to_ascii_lowercase());
                    facts.stage_order.push(positional[2].to_string());
                } else {
                    facts.stage_order.push(facts.stage_order.len().to_string());
                }
            }
            "COPY" | "ADD" => {
                for flag in rest.iter().take_while(|w| w.starts_with("--")) {
                    if let Some(source) = flag.strip_prefix("--from=") {
                        note_image(&mut facts, &mut seen, expand(source, &global_args), line);
                    }
                }
            }
            "RUN" => {
                for flag in rest.iter().take_while(|w| w.starts_with("--")) {
                    if let Some(mount) = flag.strip_prefix("--mount=") {
                        for option in mount.split(',') {
                            if let Some(source) = option.strip_prefix("from=") {
                                note_image(
                                    &mut facts,
                                    &mut seen,
                                    expand(source, &global_args),
                                    line,
                                );
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    // A `COPY --from=` may name a stage declared later or by index; neither is an image.
    let stages = facts.stages.clone();
    facts.images.retain(|image| {
        let lower = image.name.to_ascii_lowercase();
        !stages.contains(&lower) && lower != "scratch" && lower.parse::<usize>().is_err()
    });
    facts
}

fn note_image(facts: &mut DockerfileFacts, seen: &mut BTreeSet<String>, name: String, line: usize) {
    // A FROM naming an earlier stage is not an image either; later stages are filtered after.
    if facts.stages.contains(&name.to_ascii_lowercase()) {
        return;
    }
    if seen.insert(name.clone()) {
        facts.images.push(ImageReference { name, line });
    }
}

/// `text` with every image reference named in `renames` (as written, without variable
/// expansion) replaced by its new name: the `FROM` image, `COPY`/`ADD --from=` and
/// `RUN --mount=...,from=`. A CI build refers to a prebuild by its registry copy, as a CI job's
/// Dockerfile would; everything else, comments and line breaks included, is left as it is.
pub fn with_images_renamed(text: &str, renames: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut continued = false;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let starts_instruction = !continued && !body.trim_start().starts_with('#');
        out.push_str(&if starts_instruction || continued {
            rename_in_line(line, renames, starts_instruction)
        } else {
            line.to_string()
        });
        if !body.trim_start().starts_with('#') {
            continued = body.trim_end().ends_with('\\');
        }
    }
    out
}

/// Renames the references in one physical line, keeping its whitespace. `first` says whether the
/// line starts an instruction (so its first word is the keyword).
fn rename_in_line(line: &str, renames: &BTreeMap<String, String>, first: bool) -> String {
    let mut out = String::with_capacity(line.len());
    let mut keyword: Option<String> = None;
    let mut positional = 0;
    let mut rest = line;
    while !rest.is_empty() {
        let word_start = rest
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(rest.len());
        out.push_str(&rest[..word_start]);
        rest = &rest[word_start..];
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..word_end];
        rest = &rest[word_end..];
        if word.is_empty() {
            break;
        }
        if first && keyword.is_none() {
            keyword = Some(word.to_ascii_uppercase());
            out.push_str(word);
            continue;
        }
        let renamed = match keyword.as_deref() {
            Some("FROM") if !word.starts_with("--") => {
                positional += 1;
                match renames.get(word) {
                    Some(new) if positional == 1 => new.clone(),
                    _ => word.to_string(),
                }
            }
            Some("COPY" | "ADD") | None => match word.strip_prefix("--from=") {
                Some(source) => match renames.get(source) {
                    Some(new) => format!("--from={new}"),
                    None => word.to_string(),
                },
                None => word.to_string(),
            },
            Some("RUN") => match word.strip_prefix("--mount=") {
                Some(mount) => {
                    let options: Vec<String> = mount
                        .split(',')
                        .map(|option| match option.strip_prefix("from=") {
                            Some(source) => match renames.get(source) {
                                Some(new) => format!("from={new}"),
                                None => option.to_string(),
                            },
                            None => option.to_string(),
                        })
                        .collect();
                    format!("--mount={}", options.join(","))
                }
                None => word.to_string(),
            },
            _ => word.to_string(),
        };
        out.push_str(&renamed);
    }
    out
}

/// The stages a build of `target` (or of the last stage) goes through that are named with
/// `FROM ... AS name`, in order, the target itself left out: what a CI job exports one by one.
pub fn named_stages_before(text: &str, target: Option<&str>) -> Vec<String> {
    let stages = read_facts(text, &BTreeMap::new()).stages;
    let target = target.map(str::to_ascii_lowercase);
    match target.and_then(|t| stages.iter().position(|s| *s == t)) {
        Some(end) => stages[..end].to_vec(),
        // Without a target the last stage is built; if it is named, it is the final image.
        None => {
            let last_is_named = last_from_is_named(text);
            let keep = if last_is_named {
                stages.len().saturating_sub(1)
            } else {
                stages.len()
            };
            stages[..keep].to_vec()
        }
    }
}

fn last_from_is_named(text: &str) -> bool {
    logical_lines(text)
        .into_iter()
        .filter_map(|(_, instruction)| {
            let mut words = instruction.split_whitespace();
            let keyword = words.next()?;
            keyword.eq_ignore_ascii_case("FROM").then(|| {
                let positional: Vec<&str> = words.filter(|w| !w.starts_with("--")).collect();
                positional.len() >= 3 && positional[1].eq_ignore_ascii_case("as")
            })
        })
        .next_back()
        .unwrap_or(false)
}

/// The `# syntax=` parser directive, which must come before any instruction or other comment.
fn syntax_directive(text: &str) -> Option<String> {
    for raw in text.lines() {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            continue;
        }
        let comment = trimmed.strip_prefix('#')?;
        let (key, value) = comment.split_once('=')?;
        if key.trim().eq_ignore_ascii_case("syntax") {
            return Some(value.trim().to_string());
        }
    }
    None
}

/// Joins continuation lines (`\` at the end) and drops comments, keeping each instruction's first
/// line number for messages.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (index, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if current.is_empty() {
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            start = index + 1;
        } else if trimmed.starts_with('#') {
            // Comment lines inside a continued instruction are skipped by Docker too.
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                lines.push((start, std::mem::take(&mut current)));
            }
        }
    }
    if !current.trim().is_empty() {
        lines.push((start, current));
    }
    lines
}

fn unquote(value: &str) -> String {
    let trimmed = value.trim();
    for quote in ['"', '\''] {
        if let Some(inner) = trimmed
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            return inner.to_string();
        }
    }
    trimmed.to_string()
}

/// Expands `$NAME`, `${NAME}`, `${NAME:-default}` and `${NAME:+alternative}` as Docker does in FROM.
fn expand(word: &str, args: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
            continue;
        }
        if c != '$' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'{') {
            chars.next();
            let mut inner = String::new();
            for d in chars.by_ref() {
                if d == '}' {
                    break;
                }
                inner.push(d);
            }
            let value = if let Some((name, default)) = inner.split_once(":-") {
                match args.get(name) {
                    Some(v) if !v.is_empty() => v.clone(),
                    _ => default.to_string(),
                }
            } else if let Some((name, alternative)) = inner.split_once(":+") {
                match args.get(name) {
                    Some(v) if !v.is_empty() => alternative.to_string(),
                    _ => String::new(),
                }
            } else {
                args.get(&inner).cloned().unwrap_or_default()
            };
            out.push_str(&value);
        } else {
            let mut name = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_ascii_alphanumeric() || d == '_' {
                    name.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            if name.is_empty() {
                out.push('$');
            } else {
                out.push_str(&args.get(&name).cloned().unwrap_or_default());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images(text: &str) -> Vec<String> {
        read_facts(text, &BTreeMap::new())
            .images
            .into_iter()
            .map(|i| i.name)
            .collect()
    }

    #[test]
    fn a_prebuild_is_renamed_where_an_image_is_named_and_nowhere_else() {
        let renames = BTreeMap::from([(
            "stagebench/p:py".to_string(),
            "127.0.0.1:5000/ci/stagebench/p/prebuild-py:r1".to_string(),
        )]);
        let text = "# FROM stagebench/p:py in a comment\n\
                    FROM --platform=linux/amd64 stagebench/p:py AS py\n\
                    RUN echo stagebench/p:py\n\
                    FROM debian:bookworm-slim\r\n\
                    COPY --chown=1:1 --from=stagebench/p:py /usr/local /usr/local\n\
                    RUN --mount=type=bind,from=stagebench/p:py,target=/p \\\n    \
                    cp -r /p /q\n\
                    COPY --from=py /a /a\n";
        let renamed = with_images_renamed(text, &renames);
        assert_eq!(
            renamed,
            "# FROM stagebench/p:py in a comment\n\
             FROM --platform=linux/amd64 127.0.0.1:5000/ci/stagebench/p/prebuild-py:r1 AS py\n\
             RUN echo stagebench/p:py\n\
             FROM debian:bookworm-slim\r\n\
             COPY --chown=1:1 --from=127.0.0.1:5000/ci/stagebench/p/prebuild-py:r1 /usr/local /usr/local\n\
             RUN --mount=type=bind,from=127.0.0.1:5000/ci/stagebench/p/prebuild-py:r1,target=/p \\\n    \
             cp -r /p /q\n\
             COPY --from=py /a /a\n"
        );
        assert_eq!(with_images_renamed(text, &BTreeMap::new()), text);
    }

    #[test]
    fn the_stages_a_ci_job_exports_are_the_named_ones_before_the_final() {
        let text = "FROM debian AS deps\nFROM deps AS build\nFROM debian AS runtime\nCOPY --from=build /a /a\n";
        assert_eq!(named_stages_before(text, None), ["deps", "build"]);
        assert_eq!(named_stages_before(text, Some("build")), ["deps"]);
        assert_eq!(
            named_stages_before(text, Some("Runtime")),
            ["deps", "build"]
        );
        let unnamed_last = "FROM debian AS deps\nFROM debian\nCOPY --from=deps /a /a\n";
        assert_eq!(named_stages_before(unnamed_last, None), ["deps"]);
        assert!(named_stages_before("FROM debian\nRUN true\n", None).is_empty());
    }

    #[test]
    fn multi_stage_references_exclude_stage_names_and_scratch() {
        let text = "FROM debian:bookworm-slim AS build\nRUN make\n\
                    FROM scratch AS empty\n\
                    FROM busybox:latest\nCOPY --from=build /out /out\n\
                    COPY --from=prebuilt/python:3.11 /usr/local /usr/local\n\
                    COPY --chown=1:1 --from=0 /a /a\n";
        assert_eq!(
            images(text),
            [
                "debian:bookworm-slim",
                "busybox:latest",
                "prebuilt/python:3.11"
            ]
        );
    }

    #[test]
    fn stages_are_ordered_as_written_with_unnamed_ones_by_index() {
        let text = "FROM busybox AS Deps\nRUN true\nFROM deps\nFROM busybox as final\n";
        let facts = read_facts(text, &BTreeMap::new());
        assert_eq!(facts.stage_order, ["Deps", "1", "final"]);
    }

    #[test]
    fn from_an_earlier_stage_is_not_an_image() {
        let text = "FROM busybox AS base\nFROM base AS second\nRUN true\nFROM second\n";
        assert_eq!(images(text), ["busybox"]);
    }

    #[test]
    fn global_args_expand_with_build_arg_override() {
        let text = "ARG BASE=debian\nARG TAG=\"bookworm-slim\"\nFROM ${BASE}:$TAG\n";
        assert_eq!(images(text), ["debian:bookworm-slim"]);
        let mut args = BTreeMap::new();
        args.insert("TAG".to_string(), "trixie".to_string());
        let facts = read_facts(text, &args);
        assert_eq!(facts.images[0].name, "debian:trixie");
        assert_eq!(facts.images[0].line, 3);
    }

    #[test]
    fn continuation_lines_flags_and_mounts() {
        let text = "# syntax=docker/dockerfile:1\n\nFROM --platform=linux/amd64 \\\n  busybox\n\
                    RUN --mount=type=cache,target=/c --mount=type=bind,from=tools:1,target=/t true\n";
        let facts = read_facts(text, &BTreeMap::new());
        let names: Vec<_> = facts
            .images
            .iter()
            .map(|i| (i.name.as_str(), i.line))
            .collect();
        assert_eq!(names, [("busybox", 3), ("tools:1", 5)]);
        assert_eq!(
            facts.syntax_directive.as_deref(),
            Some("docker/dockerfile:1")
        );
    }

    #[test]
    fn default_expansions() {
        let args = BTreeMap::from([("SET".to_string(), "x".to_string())]);
        assert_eq!(
            expand("${UNSET:-d}${SET:-d}${SET:+alt}${UNSET:+alt}", &args),
            "dxalt"
        );
    }
}
