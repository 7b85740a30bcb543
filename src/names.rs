//! The names that become parts of file names and image tags (scenario, variant, Docker host):
//! one rule for each, used both where a name is made (scenario.toml, directory names,
//! `--docker-host`) and where it is read back from a results folder. Results folders arrive as
//! CI artifacts and from forks, so a name read from one is checked exactly as a name typed into
//! scenario.toml is, before a chart or a table is named after it: `../../../escape` never
//! becomes a path.

use std::fmt;

/// The longest scenario or variant name.
pub const MAX_NAME_CHARS: usize = 100;

/// The longest host name a results folder may hold: a `--docker-host` name has at most 64
/// characters, and `stagebench merge` may add `@<daemon name>` or `#<n>` to tell two machines
/// of the same name apart.
pub const MAX_HOST_NAME_CHARS: usize = 128;

/// What a name names, each with its own alphabet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// A scenario: image repositories, results folders and chart files are named after it.
    Scenario,
    /// A variant: image tags are named after it.
    Variant,
    /// A Docker host: chart files of a report of several hosts are named after it.
    Host,
}

impl NameKind {
    /// Whether `name` is a name of this kind.
    pub fn accepts(self, name: &str) -> bool {
        let (extra, max): (&[char], usize) = match self {
            NameKind::Scenario | NameKind::Variant => (&['_', '.', '-'], MAX_NAME_CHARS),
            NameKind::Host => (&['_', '.', '-', ':', '@', '#'], MAX_HOST_NAME_CHARS),
        };
        name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name.chars().count() <= max
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
    }

    /// The rule, as the end of a sentence: "must start with ...".
    pub fn rule(self) -> &'static str {
        match self {
            NameKind::Scenario | NameKind::Variant => {
                "must start with a letter or digit and use only letters, digits, `_`, `.` and `-` (at most 100)"
            }
            NameKind::Host => {
                "must start with a letter or digit and use only letters, digits, `_`, `.`, `-`, `:`, `@` and `#` (at most 128)"
            }
        }
    }

    /// `Ok` for a name of this kind, else the sentence "scenario name `x` must start with ...".
    pub fn check(self, name: &str) -> Result<(), String> {
        if self.accepts(name) {
            Ok(())
        } else {
            Err(format!(
                "{self} name `{}` {}",
                name.escape_debug(),
                self.rule()
            ))
        }
    }
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameKind::Scenario => "scenario",
            NameKind::Variant => "variant",
            NameKind::Host => "host",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_leave_a_folder_are_refused() {
        for kind in [NameKind::Scenario, NameKind::Variant, NameKind::Host] {
            for bad in [
                "",
                ".",
                "..",
                "../../../escape",
                "a/b",
                "/etc",
                "-rf",
                ".hidden",
                "a\\b",
                "a\0b",
                "a\nb",
                "ü",
            ] {
                assert!(!kind.accepts(bad), "{kind} {bad:?}");
            }
            assert!(kind.accepts("go-service_2.v1"), "{kind}");
        }
        assert!(NameKind::Host.accepts("ci@runner-7#2"));
        assert!(!NameKind::Scenario.accepts("ci@runner"));
        assert!(NameKind::Scenario.accepts(&"a".repeat(100)));
        assert!(!NameKind::Scenario.accepts(&"a".repeat(101)));
        let message = NameKind::Variant.check("../x\n").unwrap_err();
        assert_eq!(
            message,
            "variant name `../x\\n` must start with a letter or digit and use only letters, digits, `_`, `.` and `-` (at most 100)"
        );
    }
}
