//! Secrets: used for builds, never written or printed.
//!
//! A build argument is secret when a scenario lists its name in `secret_build_args` or it is
//! given with `--secret-build-arg KEY=VALUE` (or `--secret-build-arg KEY`, which reads `$KEY`).
//! Recorded build arguments show `<secret>` for its value. A BuildKit secret
//! (`--secret id=NAME,src=FILE`) reaches a build only through `RUN --mount=type=secret`;
//! meta.json records its id and where it was read from, never its value.
//!
//! Every text stagebench writes or prints that could carry text from a build (output, errors,
//! step names, image history, problems) has each secret replaced by `<secret>` first: the value,
//! each of its lines, and the percent-encoded, JSON-escaped and base64 forms of each
//! ([`forms`]). Build output is redacted as it streams in, before it is cut into lines or cut
//! short ([`SecretStream`]). A value shorter than [`MIN_SECRET_CHARS`] is refused, since
//! redacting it would hide ordinary text everywhere.

mod build_secret;
mod forms;
mod sources;
mod stream;
mod urls;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

pub use build_secret::{BuildSecret, BuildSecretValues, MAX_BUILD_SECRET_BYTES, SecretSource};
pub use sources::{
    GivenSecret, build_args_with_url_credentials, build_args_with_values, kept_image_warning,
    refuse_short_values, scenario_secret_values, secret_build_args_from_flags,
};
pub use stream::SecretStream;
pub use urls::without_url_credentials;

use crate::scenario::BuildArgs;
use stream::Matcher;

/// What a secret value is replaced with.
pub const REDACTED: &str = "<secret>";

/// The fewest characters a secret value may have (leaving out whitespace around it), and that
/// a line of a multi-line value needs to be redacted on its own: replacing every `1` or `yes`
/// in the output would hide more than it protects.
pub const MIN_SECRET_CHARS: usize = 6;

/// The most bytes of encoded forms searched for, all values together. Compiling the search
/// takes some 40 bytes of memory for each byte of a form, and a value's encoded forms are some
/// 20 times its size: this covers about 50 KiB of secrets in every form, well beyond a private
/// key or a kubeconfig, while a 500 KiB CA bundle (its lines in every form, the whole as
/// written) takes under 100 MB while the run starts instead of gigabytes.
pub const MAX_ENCODED_FORM_BYTES: usize = 1024 * 1024;

/// The secret names and values of one run.
#[derive(Clone, Default)]
pub struct Secrets {
    names: BTreeSet<String>,
    /// Every form of every value; `None` when there is no value.
    matcher: Option<Arc<Matcher>>,
    /// How many values were given.
    value_count: usize,
    /// How many parts are searched for only as written (see [`MAX_ENCODED_FORM_BYTES`]).
    unencoded_parts: usize,
}

// Written by hand so that no `{:?}` of the settings can print a value.
impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("names", &self.names)
            .field("values", &format_args!("[{} redacted]", self.value_count))
            .finish()
    }
}

impl Secrets {
    /// Secret build arguments named `names`, and secret `values` (of those arguments and of
    /// BuildKit secrets). Values should have been checked with [`too_short`]; empty ones have
    /// nothing to hide. Fails only when the values are too many or too large to search for.
    pub fn new<V: AsRef<[u8]>>(
        names: impl IntoIterator<Item = String>,
        values: impl IntoIterator<Item = V>,
    ) -> Result<Secrets, String> {
        let values: Vec<V> = values
            .into_iter()
            .filter(|v| !v.as_ref().is_empty())
            .collect();
        let mut parts: Vec<&[u8]> = values
            .iter()
            .flat_map(|v| redacted_parts(v.as_ref()))
            .collect();
        // Shortest first, so that when the budget runs out only the longest parts (the whole
        // of a large file, whose lines have their forms) go without encoded forms.
        parts.sort_unstable_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        parts.dedup();
        let mut forms: Vec<Vec<u8>> = parts.iter().map(|part| part.to_vec()).collect();
        let mut encoded_bytes = 0;
        let mut unencoded_parts = 0;
        for part in &parts {
            let encoded = forms::encoded_forms(part);
            let bytes: usize = encoded.iter().map(Vec::len).sum();
            if encoded_bytes + bytes <= MAX_ENCODED_FORM_BYTES {
                encoded_bytes += bytes;
                forms.extend(encoded);
            } else {
                unencoded_parts += 1;
            }
        }
        Ok(Secrets {
            names: names.into_iter().collect(),
            matcher: Matcher::new(forms)?.map(Arc::new),
            value_count: values.len(),
            unencoded_parts,
        })
    }

    /// How many parts of the values (each a value or a line of one) are too large to be
    /// searched for in their encoded forms too: they are redacted only as written.
    pub fn unencoded_parts(&self) -> usize {
        self.unencoded_parts
    }

    /// Whether `name` is a secret build argument.
    pub fn is_secret(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// `text` with every form of every secret value replaced by [`REDACTED`].
    pub fn redact(&self, text: &str) -> String {
        match &self.matcher {
            Some(matcher) => String::from_utf8_lossy(&matcher.redact(text.as_bytes())).into_owned(),
            None => text.to_string(),
        }
    }

    /// A stream to redact as it arrives, chunk by chunk.
    pub fn stream(&self) -> SecretStream {
        SecretStream::new(self.matcher.clone())
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

/// The parts of `value` that are redacted, each with its forms: the value, the value without
/// the whitespace around it, and each of its lines that is long enough not to be mistaken for
/// ordinary text (a build that prints a secret file prints it line by line).
fn redacted_parts(value: &[u8]) -> Vec<&[u8]> {
    let mut parts = vec![value, value.trim_ascii()];
    parts.extend(
        value
            .split(|&b| b == b'\n')
            .map(<[u8]>::trim_ascii)
            .filter(|line| characters(line) >= MIN_SECRET_CHARS),
    );
    parts.retain(|part| !part.is_empty());
    parts.sort_unstable();
    parts.dedup();
    parts
}

/// Characters in `text` (bytes where it is not UTF-8).
fn characters(text: &[u8]) -> usize {
    std::str::from_utf8(text).map_or(text.len(), |t| t.chars().count())
}

/// How many characters `value` has, leaving out the whitespace around it, when that is more
/// than none and fewer than [`MIN_SECRET_CHARS`]: too short to be a secret.
pub fn too_short(value: &[u8]) -> Option<usize> {
    let chars = characters(value.trim_ascii());
    (1..MIN_SECRET_CHARS).contains(&chars).then_some(chars)
}

/// The sentence refusing a value of `chars` characters given by `origin` (a flag and key, or a
/// file and key).
pub fn too_short_sentence(origin: &str, chars: usize) -> String {
    let plural = if chars == 1 { "" } else { "s" };
    format!(
        "{origin}: the value has {chars} character{plural}, and a secret needs at least {MIN_SECRET_CHARS} (redacting a shorter one would also hide every place the same text appears by chance)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(values: &[&str]) -> Secrets {
        Secrets::new(["TOKEN".to_string()], values).unwrap()
    }

    #[test]
    fn values_are_replaced_and_never_debug_printed() {
        let args = BuildArgs::from([
            ("TOKEN".to_string(), "s3cr3t-value".to_string()),
            ("PLAIN".to_string(), "visible".to_string()),
        ]);
        let secrets = secrets(&["s3cr3t-value"]);
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

    #[test]
    fn every_form_of_every_value_and_line_is_replaced() {
        let value = "first-line <&> é\"\\\nok\nsecond-line/value\n";
        let secrets = secrets(&[value]);
        let lines = ["first-line <&> é\"\\", "second-line/value"];
        let mut texts: Vec<String> = vec![value.to_string(), value.trim().to_string()];
        for part in [value, value.trim(), lines[0], lines[1]] {
            texts.extend(
                forms::encoded_forms(part.as_bytes())
                    .into_iter()
                    .map(|f| String::from_utf8(f).unwrap()),
            );
        }
        texts.extend(lines.iter().map(|l| l.to_string()));
        for text in texts {
            let redacted = secrets.redact(&format!("[{text}]"));
            assert_eq!(redacted, "[<secret>]", "{text}");
        }
        assert_eq!(
            secrets.redact("ok"),
            "ok",
            "a short line alone is ordinary text"
        );
    }

    #[test]
    fn a_value_too_large_for_every_form_is_still_redacted_as_written_and_says_so() {
        let line = |i: usize| format!("line-{i:05}-{}", "abcdefgh".repeat(7));
        let large: String = (0..1000).map(|i| line(i) + "\n").collect();
        let small = "small-secret-value";
        let secrets = secrets(&[&large, small]);
        assert_eq!(secrets.unencoded_parts(), 2, "the whole, trimmed and not");
        assert_eq!(secrets.redact(&format!("[{large}]")), "[<secret>]");
        let encoded = forms::encoded_forms(line(7).as_bytes());
        let encoded = String::from_utf8(encoded.last().unwrap().clone()).unwrap();
        assert_eq!(
            secrets.redact(&encoded),
            "<secret>",
            "its lines keep every form"
        );
        let encoded = forms::encoded_forms(small.as_bytes());
        let encoded = String::from_utf8(encoded.last().unwrap().clone()).unwrap();
        assert_eq!(secrets.redact(&encoded), "<secret>");
    }

    #[test]
    fn short_values_are_refused_in_one_sentence() {
        assert_eq!(too_short(b"1"), Some(1));
        assert_eq!(too_short(b"  abcde \n"), Some(5));
        assert_eq!(too_short("éééééé".as_bytes()), None);
        assert_eq!(too_short(b""), None, "an empty value hides nothing");
        assert_eq!(too_short(b"abcdef"), None);
        assert_eq!(
            too_short_sentence("--secret-build-arg X", 1),
            "--secret-build-arg X: the value has 1 character, and a secret needs at least 6 (redacting a shorter one would also hide every place the same text appears by chance)"
        );
    }
}
