//! Where the documentation of each command and of each family of errors lives, so that `--help`
//! and an error sentence can send the reader to the section that explains it.
//!
//! A section is named by its path in the repository (`docs/scenarios.md#scenariotoml`): in a
//! checkout it is a file to open, and the same path under the repository's address is the
//! page online. Each error family says which section explains it in one place, its
//! [`Documented`] implementation here, rather than in each of its sentences.

use std::fmt;

use crate::compare::DifferentHosts;
use crate::config::ConfigError;
use crate::engine::EndpointError;
use crate::error::{EngineError, ScenarioError};
use crate::registry::RegistryError;
use crate::runner::RunError;

/// A section of the documentation: a page under `docs/` and the anchor of one of its headings,
/// as GitHub makes it ([`heading_anchor`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocSection {
    /// The page's file name under `docs/`, e.g. `scenarios.md`.
    pub page: &'static str,
    /// The heading's anchor, e.g. `scenariotoml`.
    pub anchor: &'static str,
}

impl fmt::Display for DocSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "docs/{}#{}", self.page, self.anchor)
    }
}

/// A scenario directory and its Dockerfiles.
pub const SCENARIO_FOLDERS: DocSection = DocSection {
    page: "scenarios.md",
    anchor: "scenario-folders",
};
/// Every key of `scenario.toml`.
pub const SCENARIO_TOML: DocSection = DocSection {
    page: "scenarios.md",
    anchor: "scenariotoml",
};
/// Paths that reach above the scenario directory.
pub const SCENARIO_IN_REPOSITORY: DocSection = DocSection {
    page: "scenarios.md",
    anchor: "a-scenario-inside-your-repository",
};
/// Prebuilds and their tags.
pub const PREBUILDS: DocSection = DocSection {
    page: "scenarios.md",
    anchor: "prebuilds",
};
/// The CI cache modes and what they need.
pub const CI_MODES: DocSection = DocSection {
    page: "cache-modes.md",
    anchor: "ci-modes",
};
/// The registry of the CI cache modes, its credentials.
pub const REGISTRY: DocSection = DocSection {
    page: "cache-modes.md",
    anchor: "the-registry",
};
/// Docker hosts: endpoints, TLS, ssh, contexts.
pub const DOCKER_HOSTS: DocSection = DocSection {
    page: "hosts-and-engines.md",
    anchor: "several-docker-hosts",
};
/// `run --resume`.
pub const RESUMING: DocSection = DocSection {
    page: "hosts-and-engines.md",
    anchor: "resuming-a-run",
};
/// Saved baselines and the gate of `run --baseline` and `compare`.
pub const BASELINES: DocSection = DocSection {
    page: "ci.md",
    anchor: "baselines-and-the-gate",
};
/// Secret build arguments and BuildKit secrets.
pub const SECRETS: DocSection = DocSection {
    page: "security.md",
    anchor: "secrets",
};

/// Every section an error can point to, for the test that each exists.
pub const ERROR_SECTIONS: [DocSection; 10] = [
    SCENARIO_FOLDERS,
    SCENARIO_TOML,
    SCENARIO_IN_REPOSITORY,
    PREBUILDS,
    CI_MODES,
    REGISTRY,
    DOCKER_HOSTS,
    RESUMING,
    BASELINES,
    SECRETS,
];

/// The repository-relative path and the address online of a command's section in
/// `docs/cli.md`, as each command's `--help` ends: `Docs: docs/cli.md#run (online: ...)`.
#[macro_export]
#[doc(hidden)]
macro_rules! cli_docs_help {
    ($anchor:literal) => {
        concat!(
            "Docs: docs/cli.md#",
            $anchor,
            " (online: ",
            env!("CARGO_PKG_REPOSITORY"),
            "/blob/main/docs/cli.md#",
            $anchor,
            ")"
        )
    };
}

/// An error family whose sentences a section of the documentation explains.
pub trait Documented {
    /// The section that explains this error, when there is one.
    fn doc_section(&self) -> Option<DocSection>;
}

impl Documented for ScenarioError {
    fn doc_section(&self) -> Option<DocSection> {
        match self {
            ScenarioError::NotADirectory(_) | ScenarioError::NoVariants(_) => {
                Some(SCENARIO_FOLDERS)
            }
            ScenarioError::Manifest { .. } | ScenarioError::Invalid { .. } => Some(SCENARIO_TOML),
            // A file that cannot be read is the system's business, not the format's.
            ScenarioError::Io { .. } => None,
        }
    }
}

impl Documented for RegistryError {
    fn doc_section(&self) -> Option<DocSection> {
        Some(REGISTRY)
    }
}

impl Documented for EngineError {
    fn doc_section(&self) -> Option<DocSection> {
        match self {
            EngineError::Unreachable { .. } => Some(DOCKER_HOSTS),
            // The daemon's own refusals and unreadable files are not explained by a page.
            EngineError::Request { .. } | EngineError::Dockerfile { .. } => None,
        }
    }
}

impl Documented for EndpointError {
    fn doc_section(&self) -> Option<DocSection> {
        Some(DOCKER_HOSTS)
    }
}

impl Documented for DifferentHosts {
    fn doc_section(&self) -> Option<DocSection> {
        Some(BASELINES)
    }
}

impl Documented for ConfigError {
    fn doc_section(&self) -> Option<DocSection> {
        match self {
            ConfigError::Scenario(error) => error.doc_section(),
            ConfigError::Endpoint(error) => error.doc_section(),
            ConfigError::Registry(error) => error.doc_section(),
            ConfigError::CacheModes(_) => Some(CI_MODES),
            ConfigError::RegistryFlag(_) => Some(REGISTRY),
            ConfigError::Secrets(_) => Some(SECRETS),
            ConfigError::Resume { .. } => Some(RESUMING),
            // Flags that do not fit together name the flags; docs/cli.md lists them all.
            ConfigError::Store(_) | ConfigError::Usage(_) | ConfigError::WorkingDir(_) => None,
        }
    }
}

impl Documented for RunError {
    fn doc_section(&self) -> Option<DocSection> {
        match self {
            RunError::Engine(error) => error.doc_section(),
            RunError::NoHost(_) => Some(DOCKER_HOSTS),
            RunError::Registry(_) => Some(REGISTRY),
            RunError::PrebuildTagTaken { .. } => Some(PREBUILDS),
            RunError::Resume { .. } => Some(RESUMING),
            RunError::Output { .. }
            | RunError::Read { .. }
            | RunError::Touch { .. }
            | RunError::Context(_)
            | RunError::HostCannot(_)
            | RunError::InputsChanged { .. } => None,
        }
    }
}

/// The section that explains `error`: the first error in its chain whose family has one.
pub fn section_for(error: &anyhow::Error) -> Option<DocSection> {
    error.chain().find_map(|cause| {
        if let Some(e) = cause.downcast_ref::<ConfigError>() {
            e.doc_section()
        } else if let Some(e) = cause.downcast_ref::<ScenarioError>() {
            e.doc_section()
        } else if let Some(e) = cause.downcast_ref::<RegistryError>() {
            e.doc_section()
        } else if let Some(e) = cause.downcast_ref::<EngineError>() {
            e.doc_section()
        } else if let Some(e) = cause.downcast_ref::<EndpointError>() {
            e.doc_section()
        } else if let Some(e) = cause.downcast_ref::<RunError>() {
            e.doc_section()
        } else if let Some(e) = cause.downcast_ref::<DifferentHosts>() {
            e.doc_section()
        } else {
            None
        }
    })
}

/// `sentence` with the pointer to `section` after it, on the same line, when there is one:
/// `... (see docs/scenarios.md#scenariotoml)`.
pub fn with_pointer(sentence: &str, section: Option<DocSection>) -> String {
    match section {
        Some(section) => format!("{sentence} (see {section})"),
        None => sentence.to_string(),
    }
}

/// The anchor GitHub gives a Markdown heading: lower-case, with every character but letters,
/// digits, `_`, `-` and spaces dropped and each space made a `-` (`## scenario.toml` is
/// `#scenariotoml`, ``## `stagebench site` on a year`` is `#stagebench-site-on-a-year`).
pub fn heading_anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of every heading of a Markdown page, leaving out lines in fenced code blocks.
pub fn page_anchors(markdown: &str) -> Vec<String> {
    let mut in_code = false;
    let mut anchors = Vec::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            anchors.push(heading_anchor(line.trim_start_matches('#')));
        }
    }
    anchors
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn assert_section_exists(section: DocSection) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs")
            .join(section.page);
        let page = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("{section}: cannot read {}: {error}", path.display()));
        let anchors = page_anchors(&page);
        assert!(
            anchors.iter().any(|a| a == section.anchor),
            "{section}: no heading with that anchor; the page has {anchors:?}"
        );
    }

    #[test]
    fn every_error_pointer_names_an_existing_page_and_heading() {
        for section in ERROR_SECTIONS {
            assert_section_exists(section);
        }
    }

    #[test]
    fn every_help_names_an_existing_docs_section() {
        let command = crate::cli::Cli::command();
        let mut helps = vec![(
            "stagebench".to_string(),
            command.get_after_help().map(ToString::to_string),
        )];
        for sub in command.get_subcommands() {
            helps.push((
                sub.get_name().to_string(),
                sub.get_after_help().map(ToString::to_string),
            ));
        }
        assert!(helps.len() >= 9, "the top level and eight commands");
        for (name, help) in helps {
            let help = help.unwrap_or_else(|| panic!("`{name} --help` names no docs page"));
            let pointers: Vec<&str> = help
                .split_whitespace()
                .filter(|word| word.starts_with("docs/"))
                .collect();
            assert!(!pointers.is_empty(), "`{name} --help` ends: {help}");
            for pointer in pointers {
                let pointer = pointer.trim_end_matches([',', '.', ';', ')']);
                let (page, anchor) = pointer
                    .trim_start_matches("docs/")
                    .split_once('#')
                    .map_or((pointer.trim_start_matches("docs/"), None), |(p, a)| {
                        (p, Some(a))
                    });
                let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("docs")
                    .join(page);
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("`{name} --help`: {pointer}: {e}"));
                if let Some(anchor) = anchor {
                    assert!(
                        page_anchors(&text).iter().any(|a| a == anchor),
                        "`{name} --help`: {pointer} has no such heading"
                    );
                }
            }
        }
    }

    #[test]
    fn anchors_are_made_as_github_makes_them() {
        assert_eq!(heading_anchor(" scenario.toml"), "scenariotoml");
        assert_eq!(
            heading_anchor("`stagebench site` on a year of nights"),
            "stagebench-site-on-a-year-of-nights"
        );
        assert_eq!(
            heading_anchor("Cold, warm and incremental"),
            "cold-warm-and-incremental"
        );
        assert_eq!(
            page_anchors("# A\n```\n# not a heading\n```\n## B c\n"),
            ["a", "b-c"]
        );
    }

    #[test]
    fn a_pointer_follows_the_sentence_on_its_line() {
        let error = anyhow::Error::new(ScenarioError::Invalid {
            file: "s/scenario.toml".into(),
            message: "has no [profile.x]".to_string(),
        })
        .context("while loading");
        assert_eq!(section_for(&error), Some(SCENARIO_TOML));
        assert_eq!(
            with_pointer("bad", section_for(&error)),
            "bad (see docs/scenarios.md#scenariotoml)"
        );
        let plain = anyhow::anyhow!("no family");
        assert_eq!(section_for(&plain), None);
        assert_eq!(with_pointer("plain", None), "plain");
    }
}
