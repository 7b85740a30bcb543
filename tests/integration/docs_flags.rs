//! The documentation against the program: every flag README.md and docs/*.md attribute to a
//! command is one that command takes, and every relative link leads to a file (and heading)
//! that exists.
//!
//! A flag is attributed to a command where the text says so unambiguously: in a code block's
//! command line (`stagebench run ... --runs 6`, `cargo run --release -- run ...`), in an inline
//! code span that names the command (`` `run --resume DIR` ``), and in the first column of the
//! option tables under a command's heading in docs/cli.md.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every page under docs/, repository-relative.
fn documentation() -> Vec<PathBuf> {
    let mut pages = vec![PathBuf::from("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repository().join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .map(|path| Path::new("docs").join(path.file_name().unwrap()))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// Each command's long flags, `--help` (and `--version` at the top) included.
fn cli_flags() -> BTreeMap<String, BTreeSet<String>> {
    let mut command = stagebench::cli::Cli::command();
    command.build();
    command
        .get_subcommands()
        .filter(|sub| sub.get_name() != "help")
        .map(|sub| {
            let flags = sub
                .get_arguments()
                .flat_map(|arg| {
                    arg.get_long()
                        .into_iter()
                        .chain(arg.get_all_aliases().unwrap_or_default())
                        .map(|long| format!("--{long}"))
                        .collect::<Vec<_>>()
                })
                .collect();
            (sub.get_name().to_string(), flags)
        })
        .collect()
}

/// A flag the documentation gives a command, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mention {
    command: String,
    flag: String,
    place: String,
}

/// `--flag` from a token as documentation writes it: `[--runs`, `--out=DIR`, `--cache,`. None for
/// anything else, and for a placeholder such as `--export-...`.
fn flag_of(token: &str) -> Option<String> {
    let token = token.trim_start_matches(['[', '(', '`', '"']);
    let name = token.strip_prefix("--")?;
    if name.contains("...") || name.contains('…') {
        return None;
    }
    let name: String = name
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let name = name.trim_end_matches('-');
    (!name.is_empty()).then(|| format!("--{name}"))
}

/// The flags a command line gives each command it runs: the words after `stagebench <command>`
/// (or `cargo run ... -- <command>`), up to a comment or the end of the shell command.
fn command_line_mentions(
    line: &str,
    commands: &BTreeSet<String>,
    place: &str,
    out: &mut Vec<Mention>,
) {
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut current: Option<&str> = None;
    for (index, word) in words.iter().enumerate() {
        if word.starts_with('#') || matches!(*word, "|" | "||" | "&&" | ";") {
            current = None;
            continue;
        }
        let previous = index.checked_sub(1).map(|i| words[i]);
        let names_program = previous.is_some_and(|p| {
            p.trim_start_matches('`') == "stagebench"
                || p.ends_with("/stagebench")
                || (p == "--" && words[..index].contains(&"cargo"))
        });
        if names_program && commands.contains(*word) {
            current = Some(word);
            continue;
        }
        if let (Some(command), Some(flag)) = (current, flag_of(word)) {
            out.push(Mention {
                command: command.to_string(),
                flag,
                place: place.to_string(),
            });
        }
    }
}

/// An inline code span that starts with a command (`run --resume DIR`) or names the program
/// before it gives that command its flags.
fn code_span_mentions(
    span: &str,
    commands: &BTreeSet<String>,
    place: &str,
    out: &mut Vec<Mention>,
) {
    let first = span.split_whitespace().next().unwrap_or_default();
    if commands.contains(first) {
        command_line_mentions(&format!("stagebench {span}"), commands, place, out);
    } else {
        command_line_mentions(span, commands, place, out);
    }
}

/// What a page says, as the checks need it.
#[derive(Debug, Default)]
struct Page {
    mentions: Vec<Mention>,
    /// Link targets, as written.
    links: Vec<String>,
    /// The anchors of its headings.
    anchors: Vec<String>,
}

fn read_page(path: &Path, text: &str, commands: &BTreeSet<String>) -> Page {
    let mut page = Page::default();
    let name = path.display().to_string();
    let is_cli_page = path == Path::new("docs/cli.md");
    let mut in_code_block = false;
    let mut code = String::new();
    let mut heading: Option<String> = None;
    let mut section_command: Option<String> = None;
    let mut cell_index = 0usize;
    let mut in_cell = false;
    for event in Parser::new_ext(text, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::End(TagEnd::Heading(level)) => {
                let text = heading.take().unwrap_or_default();
                page.anchors.push(stagebench::docs::heading_anchor(&text));
                if level == HeadingLevel::H2 {
                    section_command = commands.get(text.trim()).cloned();
                }
            }
            Event::Start(Tag::CodeBlock(_)) => {
                in_code_block = true;
                code.clear();
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code_block = false;
                // A line ending in `\` goes on on the next.
                let joined = code.replace("\\\n", " ");
                for line in joined.lines() {
                    let line = line.trim_start_matches("$ ");
                    command_line_mentions(line, commands, &name, &mut page.mentions);
                }
            }
            Event::Start(Tag::TableRow | Tag::TableHead) => cell_index = 0,
            Event::Start(Tag::TableCell) => in_cell = true,
            Event::End(TagEnd::TableCell) => {
                in_cell = false;
                cell_index += 1;
            }
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                page.links.push(dest_url.to_string());
            }
            Event::Text(text) => {
                if in_code_block {
                    code.push_str(&text);
                } else if let Some(heading) = heading.as_mut() {
                    heading.push_str(&text);
                }
            }
            Event::Code(span) => {
                if let Some(heading) = heading.as_mut() {
                    heading.push_str(&span);
                }
                code_span_mentions(&span, commands, &name, &mut page.mentions);
                // In docs/cli.md, the first column of a table under `## <command>` lists
                // that command's flags.
                if is_cli_page
                    && in_cell
                    && cell_index == 0
                    && let Some(command) = &section_command
                {
                    for word in span.split_whitespace() {
                        if let Some(flag) = flag_of(word) {
                            page.mentions.push(Mention {
                                command: command.clone(),
                                flag,
                                place: format!("{name}, table under ## {command}"),
                            });
                        }
                    }
                }
            }
            _ => {}
        }
    }
    page
}

fn read_all() -> BTreeMap<PathBuf, Page> {
    let commands: BTreeSet<String> = cli_flags().into_keys().collect();
    documentation()
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(repository().join(&path)).unwrap();
            let page = read_page(&path, &text, &commands);
            (path, page)
        })
        .collect()
}

/// The mentions of flags that `command` does not take.
fn unknown<'a>(
    mentions: &'a [Mention],
    flags: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<&'a Mention> {
    mentions
        .iter()
        .filter(|m| !flags.get(&m.command).is_some_and(|f| f.contains(&m.flag)))
        .collect()
}

#[test]
fn every_documented_flag_is_one_its_command_takes() {
    let flags = cli_flags();
    let pages = read_all();
    let mentions: Vec<Mention> = pages.values().flat_map(|p| p.mentions.clone()).collect();
    let wrong = unknown(&mentions, &flags);
    assert!(
        wrong.is_empty(),
        "documented flags the command does not take:\n{}",
        wrong
            .iter()
            .map(|m| format!("  {}: stagebench {} {}", m.place, m.command, m.flag))
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Enough to be a check: every flag of every command is documented (the test below), and
    // most are named again in examples and prose.
    let distinct: BTreeSet<(&str, &str)> = mentions
        .iter()
        .map(|m| (m.command.as_str(), m.flag.as_str()))
        .collect();
    assert!(
        mentions.len() >= 100,
        "only {} flag mentions checked",
        mentions.len()
    );
    assert!(
        distinct.len() >= 60,
        "only {} distinct flags checked",
        distinct.len()
    );
    for command in [
        "run", "validate", "report", "merge", "compare", "history", "site",
    ] {
        assert!(
            distinct.iter().any(|(c, _)| *c == command),
            "no flag of `{command}` is checked"
        );
    }
}

#[test]
fn every_flag_of_every_command_is_documented_in_cli_md() {
    let flags = cli_flags();
    let commands: BTreeSet<String> = flags.keys().cloned().collect();
    let path = Path::new("docs/cli.md");
    let text = std::fs::read_to_string(repository().join(path)).unwrap();
    let documented: BTreeSet<(String, String)> = read_page(path, &text, &commands)
        .mentions
        .into_iter()
        .map(|m| (m.command, m.flag))
        .collect();
    let mut missing = Vec::new();
    let mut count = 0;
    for (command, command_flags) in &flags {
        for flag in command_flags {
            if flag == "--help" || flag == "--version" {
                continue;
            }
            count += 1;
            if !documented.contains(&(command.clone(), flag.clone())) {
                missing.push(format!("stagebench {command} {flag}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "flags docs/cli.md does not document under their command:\n  {}",
        missing.join("\n  ")
    );
    assert!(count >= 60, "only {count} flags in the CLI");
}

#[test]
fn a_renamed_or_misplaced_flag_is_caught() {
    let flags = cli_flags();
    let commands: BTreeSet<String> = flags.keys().cloned().collect();
    let text = "\
## run

| option | meaning |
| --- | --- |
| `--runz N` | timed runs |

```sh
scripts/with-docker cargo run --release -- run scenarios/x --profile quick \\
  --cache-modes cold
stagebench compare a b --runs 3   # --not-checked in a comment
```

Resume with `run --resume DIR`, or `stagebench site reports --output SITE`.
";
    let page = read_page(Path::new("docs/cli.md"), text, &commands);
    let wrong: Vec<String> = unknown(&page.mentions, &flags)
        .iter()
        .map(|m| format!("{} {}", m.command, m.flag))
        .collect();
    assert_eq!(
        wrong,
        [
            "run --runz",
            "run --cache-modes",
            "compare --runs",
            "site --output"
        ],
        "{:?}",
        page.mentions
    );
    let right = page.mentions.len() - wrong.len();
    // `--profile` and `--resume`; cargo's `--release` is not stagebench's.
    assert_eq!(right, 2, "{:?}", page.mentions);
}

#[test]
fn every_relative_link_leads_to_a_file_and_heading_that_exist() {
    let pages = read_all();
    let mut checked = 0;
    let mut broken = Vec::new();
    for (path, page) in &pages {
        for link in &page.links {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = match link.split_once('#') {
                Some((file, anchor)) => (file, Some(anchor)),
                None => (link.as_str(), None),
            };
            let target = if file.is_empty() {
                path.clone()
            } else {
                normalise(&path.parent().unwrap_or(Path::new("")).join(file))
            };
            checked += 1;
            let on_disk = repository().join(&target);
            if !on_disk.exists() {
                broken.push(format!(
                    "{}: {link} (no {})",
                    path.display(),
                    target.display()
                ));
                continue;
            }
            if let Some(anchor) = anchor {
                let anchors = match pages.get(&target) {
                    Some(page) => page.anchors.clone(),
                    None => stagebench::docs::page_anchors(
                        &std::fs::read_to_string(&on_disk).unwrap_or_default(),
                    ),
                };
                if !anchors.iter().any(|a| a == anchor) {
                    broken.push(format!(
                        "{}: {link} (no heading #{anchor} in {})",
                        path.display(),
                        target.display()
                    ));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(checked >= 100, "only {checked} links checked");
}

#[test]
fn the_readme_fits_on_a_page_and_links_every_docs_page() {
    let readme = std::fs::read_to_string(repository().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(lines < 250, "README.md has {lines} lines");
    let pages = read_all();
    let linked: BTreeSet<&String> = pages[Path::new("README.md")].links.iter().collect();
    for page in documentation()
        .iter()
        .skip(1)
        .map(|p| p.display().to_string())
    {
        assert!(
            linked
                .iter()
                .any(|l| l.split('#').next() == Some(page.as_str())),
            "README.md does not link {page}"
        );
    }
    let first_commands = readme
        .find(
            "scripts/with-docker cargo run --release -- run scenarios/python-node --profile quick",
        )
        .zip(readme.find("scripts/test"));
    assert!(
        first_commands.is_some_and(|(run, test)| run < 2000 && test < 2400),
        "README.md starts with the two commands"
    );
}

/// `a/../b` as `b`, without touching the disk.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}
