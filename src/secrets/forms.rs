//! The forms a secret value takes when a build prints it through a tool: percent-encoded (a URL,
//! a form body), JSON-escaped (a config file, an API call) and base64 (an auth header, a
//! Kubernetes secret, a docker config's `auth`). Each is redacted like the value itself.
//!
//! Tools differ in what they escape, so each encoding gives a few forms, one per way the common
//! tools write it; the forms are few because most values are plain ASCII, for which many ways
//! give the same text.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};

/// Every form of `value` other than the value itself, each once.
pub(super) fn encoded_forms(value: &[u8]) -> Vec<Vec<u8>> {
    let mut forms = percent_forms(value);
    if let Ok(text) = std::str::from_utf8(value) {
        forms.extend(json_forms(text).into_iter().map(String::into_bytes));
    }
    forms.extend(base64_forms(value).into_iter().map(String::into_bytes));
    forms.sort();
    forms.dedup();
    forms.retain(|form| form != value);
    forms
}

/// RFC 3986's unreserved characters stay as they are: Go's `url.PathEscape`/`QueryEscape`,
/// Python's `quote(safe='')`, curl's `--data-urlencode`.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// Python's `quote` with its default `safe='/'`.
const PATH: &AsciiSet = &UNRESERVED.remove(b'/');
/// JavaScript's `encodeURIComponent`.
const URI_COMPONENT: &AsciiSet = &UNRESERVED
    .remove(b'!')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');
/// JavaScript's `encodeURI`, which leaves a URL's own punctuation alone.
const URI: &AsciiSet = &URI_COMPONENT
    .remove(b';')
    .remove(b',')
    .remove(b'/')
    .remove(b'?')
    .remove(b':')
    .remove(b'@')
    .remove(b'&')
    .remove(b'=')
    .remove(b'+')
    .remove(b'$')
    .remove(b'#');
/// HTML forms (`application/x-www-form-urlencoded`), which also write a space as `+`.
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');

/// `value` percent-encoded as the common tools do it, in upper-case hex (most tools) and
/// lower-case hex (some), and with a space as `%20` or as `+` (query strings and forms).
fn percent_forms(value: &[u8]) -> Vec<Vec<u8>> {
    let mut forms = Vec::new();
    for set in [UNRESERVED, PATH, URI_COMPONENT, URI, FORM] {
        let upper = percent_encode(value, set).to_string();
        let lower = lower_case_escapes(&upper, '%', 2);
        for form in [upper, lower] {
            forms.push(form.replace("%20", "+").into_bytes());
            forms.push(form.into_bytes());
        }
    }
    forms
}

/// `text` with the `width` hex digits after each `escape` in lower case.
fn lower_case_escapes(text: &str, escape: char, width: usize) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits_left = 0;
    for c in text.chars() {
        if digits_left > 0 {
            out.push(c.to_ascii_lowercase());
            digits_left -= 1;
        } else {
            out.push(c);
            if c == escape {
                digits_left = width;
            }
        }
    }
    out
}

/// How one JSON encoder escapes a string.
#[derive(Clone, Copy)]
struct JsonStyle {
    /// `<`, `>` and `&` as `\u003c`, `\u003e`, `\u0026` (Go's `encoding/json`), and U+2028
    /// and U+2029 as `\u2028`, `\u2029` (Go, and JavaScript's JSON.stringify in newer engines).
    html: bool,
    /// Every non-ASCII character as `\uXXXX` (Python's `json.dumps`, PHP, Jackson's option).
    ascii_only: bool,
    /// `/` as `\/` (PHP's `json_encode`).
    slash: bool,
    /// Backspace and form feed as `\b` and `\f` (serde_json, Python, Go since 1.22) rather
    /// than `\u0008` and `\u000c` (Go before 1.22).
    short_b_f: bool,
    /// `\uXXXX` in upper-case hex (Jackson, .NET) rather than lower case (serde_json, Go,
    /// Python).
    upper_hex: bool,
}

/// `text` JSON-escaped (without the quotes around it) by each common encoder.
fn json_forms(text: &str) -> Vec<String> {
    let mut forms = Vec::new();
    for bits in 0u8..32 {
        let style = JsonStyle {
            html: bits & 1 != 0,
            ascii_only: bits & 2 != 0,
            slash: bits & 4 != 0,
            short_b_f: bits & 8 != 0,
            upper_hex: bits & 16 != 0,
        };
        forms.push(json_escape(text, style));
    }
    forms
}

fn json_escape(text: &str, style: JsonStyle) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let unicode = |out: &mut String, unit: u16| {
        out.push_str(&if style.upper_hex {
            format!("\\u{unit:04X}")
        } else {
            format!("\\u{unit:04x}")
        });
    };
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' if style.short_b_f => out.push_str("\\b"),
            '\u{c}' if style.short_b_f => out.push_str("\\f"),
            '/' if style.slash => out.push_str("\\/"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' if style.html => unicode(&mut out, c as u16),
            c if (c as u32) < 0x20 => unicode(&mut out, c as u16),
            c if !c.is_ascii() && style.ascii_only => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    unicode(&mut out, *unit);
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// `value` in base64, standard and URL-safe, with and without padding; and the part of it
/// that any longer base64 text holding `value` shows, at each of the three alignments `value`
/// can have in the bytes encoded, as secret scanners look for it.
fn base64_forms(value: &[u8]) -> Vec<String> {
    let mut forms = Vec::new();
    for (padded, unpadded) in [(&STANDARD, &STANDARD_NO_PAD), (&URL_SAFE, &URL_SAFE_NO_PAD)] {
        forms.push(padded.encode(value));
        forms.push(unpadded.encode(value));
        for offset in 0..3 {
            let mut shifted = vec![0u8; offset];
            shifted.extend_from_slice(value);
            let encoded = unpadded.encode(&shifted);
            // A character encodes 6 bits; those that mix in a neighbour's bits are left off.
            let first = (offset * 8).div_ceil(6);
            let end = shifted.len() * 8 / 6;
            if let Some(core) = encoded.get(first..end)
                && !core.is_empty()
            {
                forms.push(core.to_string());
            }
        }
    }
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(forms: &[Vec<u8>], form: &str) -> bool {
        forms.iter().any(|f| f == form.as_bytes())
    }

    #[test]
    fn percent_forms_are_those_of_the_common_tools() {
        let forms = encoded_forms("p@ss w/rd!é".as_bytes());
        for expected in [
            "p%40ss%20w%2Frd%21%C3%A9",
            "p%40ss%20w%2frd%21%c3%a9",
            "p%40ss+w%2Frd%21%C3%A9",
            "p%40ss%20w/rd%21%C3%A9",
            "p%40ss%20w%2Frd!%C3%A9",
            "p@ss%20w/rd!%C3%A9",
        ] {
            assert!(has(&forms, expected), "{expected}");
        }
        assert!(
            !has(&forms, "p@ss w/rd!é"),
            "the value itself is not an encoded form"
        );
    }

    #[test]
    fn json_forms_are_those_of_serde_json_go_and_python() {
        let value = "a\"b\\c\nd<e>&f/é😀\u{1}\u{8}";
        let forms = encoded_forms(value.as_bytes());
        let serde = serde_json::to_string(value).unwrap();
        let serde = &serde[1..serde.len() - 1];
        assert!(has(&forms, serde), "{serde}");
        for expected in [
            // Go's encoding/json.
            r#"a\"b\\c\nd\u003ce\u003e\u0026f/é😀\u0001\b"#,
            // Python's json.dumps.
            r#"a\"b\\c\nd<e>&f/\u00e9\ud83d\ude00\u0001\b"#,
            // Jackson with non-ASCII escaped.
            r#"a\"b\\c\nd<e>&f/\u00E9\uD83D\uDE00\u0001\b"#,
            // PHP.
            r#"a\"b\\c\nd<e>&f\/\u00e9\ud83d\ude00\u0001\b"#,
            // Go before 1.22.
            r#"a\"b\\c\nd\u003ce\u003e\u0026f/é😀\u0001\u0008"#,
        ] {
            assert!(has(&forms, expected), "{expected}");
        }
    }

    #[test]
    fn base64_forms_include_every_alignment_inside_longer_text() {
        let value = b"tok-SECRET-abcdef?>";
        let forms = encoded_forms(value);
        for (engine, name) in [(&STANDARD, "standard"), (&URL_SAFE, "url-safe")] {
            assert!(has(&forms, &engine.encode(value)), "{name} padded");
            for prefix in ["", "x", "xy", "xyz", "user:"] {
                for suffix in ["", "!", "!!", "!!!"] {
                    let text =
                        engine.encode([prefix.as_bytes(), value, suffix.as_bytes()].concat());
                    assert!(
                        forms
                            .iter()
                            .any(|f| text.contains(std::str::from_utf8(f).unwrap())
                                && f.len() >= value.len() * 4 / 3 - 3),
                        "{name}: no form inside {text} ({prefix:?} + value + {suffix:?})"
                    );
                }
            }
        }
    }
}
