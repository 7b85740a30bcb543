//! Secret build arguments: used for builds, never written or printed.
//!
//! A build argument is secret when a scenario lists its name in `secret_build_args` or it is
//! given with `--secret-build-arg K=V`. Recorded build arguments show `<secret>` for its value,
//! and every line stagebench writes or prints that could carry text from a build (errors, step
//! names, progress, problems) has each secret value replaced by `<secret>` first.

use std::collections::BTreeSet;
use std::fmt;

use crate::scenario::BuildArgs;

/// What a secret value is replaced with.
pub const REDACTED: &str = "<secret>";

/// The secret names and values of one run.
#[derive(Clone, Default)]
pub struct Secrets {
    names: BTreeSet<String>,
    /// Longest first, so that a value containing another is replaced whole.
    values: Vec<String>,
}

// Written by hand so that no `{:?}` of the settings can print a value.
impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("names", &self.names)
            .field("values", &format_args!("[{} redacted]", self.values.len()))
            .finish()
    }
}

impl Secrets {
    /// Secrets named `names`, whose values are found in any of `arg_sets`.
    pub fn new<'a>(
        names: impl IntoIterator<Item = String>,
        arg_sets: impl IntoIterator<Item = &'a BuildArgs>,
    ) -> Secrets {
        let names: BTreeSet<String> = names.into_iter().collect();
        let mut values: Vec<String> = arg_sets
            .into_iter()
            .flat_map(|args| args.iter())
            .filter(|(k, v)| names.contains(*k) && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect();
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        values.dedup();
        Secrets { names, values }
    }

    /// Whether `name` is a secret build argument.
    pub fn is_secret(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// `text` with every secret value replaced by [`REDACTED`].
    pub fn redact(&self, text: &str) -> String {
        let mut redacted = text.to_string();
        for value in &self.values {
            if redacted.contains(value.as_str()) {
                redacted = redacted.replace(value.as_str(), REDACTED);
            }
        }
        redacted
    }

    /// Build arguments as they may be recorded: secret ones with [`REDACTED`] for a value.
    pub fn recorded(&self, args: &BuildArgs) -> BuildArgs {
        args.iter()
            .map(|(k, v)| {
                let value = if self.is_secret(k) { REDACTED } else { v };
                (k.clone(), value.to_string())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_replaced_and_never_debug_printed() {
        let args = BuildArgs::from([
            ("TOKEN".to_string(), "s3cr3t-value".to_string()),
            ("PLAIN".to_string(), "visible".to_string()),
        ]);
        let secrets = Secrets::new(["TOKEN".to_string()], [&args]);
        assert_eq!(
            secrets.redact("curl -H s3cr3t-value x; s3cr3t-value"),
            "curl -H <secret> x; <secret>"
        );
        assert_eq!(secrets.redact("visible"), "visible");
        let recorded = secrets.recorded(&args);
        assert_eq!(recorded["TOKEN"], REDACTED);
        assert_eq!(recorded["PLAIN"], "visible");
        assert!(!format!("{secrets:?}").contains("s3cr3t"));
    }
}
