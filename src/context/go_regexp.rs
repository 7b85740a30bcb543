//! Pattern translation: patternmatcher's exact / prefix / suffix split, and the Go regexp it
//! builds rewritten in the `regex` crate's dialect with the same meaning.

use regex::Regex;

/// patternmatcher's fast paths are not just optimisations: `**x` as a suffix test matches `yx`.
#[derive(Debug, Clone)]
pub(super) enum MatchKind {
    Exact,
    Prefix(String),
    Suffix(String),
    Regexp(Regex),
}

/// `Pattern.compile` on Linux: the match type, and for regexps the Go regexp it builds.
pub(super) fn compile_kind(text: &str) -> Result<MatchKind, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
