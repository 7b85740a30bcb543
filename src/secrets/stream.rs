//! Finding every form of every secret value in text: whole, or as a stream delivers it in
//! chunks that may cut a value anywhere.
//!
//! A stream keeps back only the tail that could still be the start of a form (at most the
//! longest form less one byte) and releases the rest redacted, so no part of a value is ever
//! released and text that cannot be one goes on at once (the classic builder's step lines are
//! timed as they arrive).

use std::sync::Arc;

use aho_corasick::{AhoCorasick, Input, MatchKind};

use super::REDACTED;

/// Every form of every value, compiled for searching.
pub(super) struct Matcher {
    /// Leftmost-longest, so that a form holding another (a value and one of its lines, a
    /// padded base64 form and the unpadded one) is replaced whole.
    automaton: AhoCorasick,
    /// The same forms sorted, to tell whether a tail is the start of one.
    sorted_forms: Vec<Vec<u8>>,
    /// Whether some form starts with the byte.
    starts_a_form: [bool; 256],
    longest_form_bytes: usize,
}

impl Matcher {
    /// A matcher of `forms`, or `None` when there are none.
    pub(super) fn new(mut forms: Vec<Vec<u8>>) -> Result<Option<Matcher>, String> {
        forms.retain(|form| !form.is_empty());
        forms.sort();
        forms.dedup();
        if forms.is_empty() {
            return Ok(None);
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&forms)
            .map_err(|e| format!("the secret values cannot be searched for: {e}"))?;
        let mut starts_a_form = [false; 256];
        for form in &forms {
            starts_a_form[usize::from(form[0])] = true;
        }
        Ok(Some(Matcher {
            automaton,
            longest_form_bytes: forms.iter().map(Vec::len).max().unwrap_or(0),
            sorted_forms: forms,
            starts_a_form,
        }))
    }

    /// `text` with every form replaced by [`REDACTED`].
    pub(super) fn redact(&self, text: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len());
        self.automaton
            .replace_all_with_bytes(text, &mut out, |_, _, out| {
                out.extend_from_slice(REDACTED.as_bytes());
                true
            });
        out
    }

    /// Whether `tail` is the start of some form (and not a whole one).
    fn may_start_form(&self, tail: &[u8]) -> bool {
        // Forms starting with `tail` sort right after it, before every other form above it.
        let at = self
            .sorted_forms
            .partition_point(|form| form.as_slice() <= tail);
        self.sorted_forms
            .get(at)
            .is_some_and(|form| form.starts_with(tail))
    }

    /// Where the tail of `text` that may start a form begins, looking no earlier than `from`;
    /// `text.len()` when there is none.
    fn partial_form_start(&self, text: &[u8], from: usize) -> usize {
        let window = text.len().saturating_sub(self.longest_form_bytes - 1);
        (from.max(window)..text.len())
            .find(|&at| {
                self.starts_a_form[usize::from(text[at])] && self.may_start_form(&text[at..])
            })
            .unwrap_or(text.len())
    }

    /// What of `pending` can be released now, redacted, and how many of its bytes that
    /// consumes; the rest may still turn out to be part of a form.
    fn release(&self, pending: &[u8]) -> (Vec<u8>, usize) {
        let mut out = Vec::with_capacity(pending.len());
        let mut at = 0;
        loop {
            let held_from = self.partial_form_start(pending, at);
            // A match before the held tail is final: every form that could start at or before
            // it fits in `pending`, so a longer one would have been found.
            match self
                .automaton
                .find(Input::new(pending).span(at..pending.len()))
            {
                Some(found) if found.start() < held_from => {
                    out.extend_from_slice(&pending[at..found.start()]);
                    out.extend_from_slice(REDACTED.as_bytes());
                    at = found.end();
                }
                _ => {
                    let end = whole_characters_end(pending, at, held_from);
                    out.extend_from_slice(&pending[at..end]);
                    return (out, end);
                }
            }
        }
    }
}

/// `end`, or the start of an incomplete UTF-8 character that `text[start..end]` ends with, so
/// that a character cut between two chunks is released whole.
fn whole_characters_end(text: &[u8], start: usize, end: usize) -> usize {
    let mut lead = end;
    while lead > start && end - lead < 4 {
        lead -= 1;
        let byte = text[lead];
        if byte & 0xC0 != 0x80 {
            let length = match byte {
                0xF0.. => 4,
                0xE0.. => 3,
                0xC0.. => 2,
                _ => 1,
            };
            return if lead + length > end { lead } else { end };
        }
    }
    end
}

/// One stream of text (a build's classic output, one BuildKit step's stdout or stderr), to be
/// redacted as it arrives. The default one has no secrets to find.
#[derive(Default)]
pub struct SecretStream {
    matcher: Option<Arc<Matcher>>,
    pending: Vec<u8>,
}

impl SecretStream {
    pub(super) fn new(matcher: Option<Arc<Matcher>>) -> SecretStream {
        SecretStream {
            matcher,
            pending: Vec::new(),
        }
    }

    /// Takes the next chunk; returns the text that can be released now, redacted.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        let Some(matcher) = &self.matcher else {
            return chunk.to_vec();
        };
        self.pending.extend_from_slice(chunk);
        let (released, consumed) = matcher.release(&self.pending);
        self.pending.drain(..consumed);
        released
    }

    /// The stream ended: the rest, redacted.
    pub fn finish(&mut self) -> Vec<u8> {
        let rest = std::mem::take(&mut self.pending);
        match &self.matcher {
            Some(matcher) => matcher.redact(&rest),
            None => rest,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(forms: &[&str]) -> Arc<Matcher> {
        let forms = forms.iter().map(|f| f.as_bytes().to_vec()).collect();
        Arc::new(Matcher::new(forms).unwrap().unwrap())
    }

    fn streamed(matcher: &Arc<Matcher>, chunks: &[&[u8]]) -> (Vec<Vec<u8>>, Vec<u8>) {
        let mut stream = SecretStream::new(Some(Arc::clone(matcher)));
        let mut released: Vec<Vec<u8>> = chunks.iter().map(|c| stream.push(c)).collect();
        released.push(stream.finish());
        let whole = released.concat();
        (released, whole)
    }

    #[test]
    fn a_value_cut_between_chunks_is_held_back_and_redacted_whole() {
        let m = matcher(&["tok-SECRET-abcde"]);
        let (released, whole) = streamed(&m, &[b"leaking tok-SEC", b"RET-abcde and more"]);
        assert_eq!(released[0], b"leaking ");
        assert_eq!(released[1], b"<secret> and more");
        assert_eq!(whole, b"leaking <secret> and more");
    }

    #[test]
    fn text_that_cannot_start_a_form_is_released_at_once() {
        let m = matcher(&["tok-SECRET-abcde"]);
        let (released, _) = streamed(&m, &[b"Step 2/3 : RUN make\n", b"tok"]);
        assert_eq!(released[0], b"Step 2/3 : RUN make\n");
        assert!(released[1].is_empty());
        assert_eq!(released[2], b"tok", "at the end what was held goes out");
    }

    #[test]
    fn the_longest_form_wins_even_when_it_completes_in_a_later_chunk() {
        let m = matcher(&["line-one", "line-one\nline-two"]);
        let (_, whole) = streamed(&m, &[b"a line-one", b"\nline-", b"two b"]);
        assert_eq!(whole, b"a <secret> b");
        let (_, whole) = streamed(&m, &[b"a line-one", b"\nline-three"]);
        assert_eq!(whole, b"a <secret>\nline-three");
    }

    #[test]
    fn a_character_cut_between_chunks_is_released_whole() {
        let m = matcher(&["tok-SECRET-abcde"]);
        let text = "é€😀".as_bytes();
        let (released, whole) = streamed(&m, &[&text[..1], &text[1..4], &text[4..8], &text[8..]]);
        assert!(released.iter().all(|r| std::str::from_utf8(r).is_ok()));
        assert_eq!(whole, text);
    }

    proptest::proptest! {
        #[test]
        fn any_split_releases_what_whole_redaction_gives_and_no_form(
            parts in proptest::collection::vec(0usize..6, 1..12),
            cuts in proptest::collection::vec(0usize..200, 0..8),
        ) {
            let pieces = ["tok-SECRET-abcde", "dG9rLVNFQ1JFVC1hYmNkZQ", "tok-SEC", " x ", "\n", "tok-SECRET-abcdeX"];
            let m = matcher(&["tok-SECRET-abcde", "dG9rLVNFQ1JFVC1hYmNkZQ", "dG9rLVNFQ1JFVC1hYmNkZQ=="]);
            let text: Vec<u8> = parts.iter().flat_map(|&i| pieces[i].bytes()).collect();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(text.len())).collect();
            cuts.sort_unstable();
            let mut chunks: Vec<&[u8]> = Vec::new();
            let mut last = 0;
            for cut in cuts {
                chunks.push(&text[last..cut]);
                last = cut;
            }
            chunks.push(&text[last..]);
            let (released, whole) = streamed(&m, &chunks);
            proptest::prop_assert_eq!(&whole, &m.redact(&text));
            for piece in released {
                let piece = String::from_utf8(piece).unwrap();
                proptest::prop_assert!(!piece.contains("tok-SECRET") && !piece.contains("dG9rLVNFQ1JF"), "{}", piece);
            }
        }
    }
}
