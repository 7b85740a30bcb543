//! One stream of build output (the classic builder's, or one BuildKit step's stdout or
//! stderr): redacted as it arrives, then cut into lines, each timed by its first part.

use crate::secrets::{SecretStream, Secrets};

/// The longest line kept whole while it arrives (a step line names its whole instruction);
/// the rest of a longer one is dropped, after redaction, as the kept output drops it.
const MAX_LINE_BYTES: usize = 64 * 1024;

/// One stream of build output, redacted as it arrives and cut into lines.
#[derive(Default)]
pub(super) struct OutputStream {
    redactor: SecretStream,
    /// The line arriving, and when its first part arrived.
    partial: String,
    partial_started_s: f64,
}

impl OutputStream {
    pub(super) fn new(secrets: &Secrets) -> OutputStream {
        OutputStream {
            redactor: secrets.stream(),
            ..OutputStream::default()
        }
    }

    /// Takes a chunk that arrived at `elapsed_s`; returns the lines it completes, redacted,
    /// each with when it started arriving.
    pub(super) fn push(&mut self, chunk: &[u8], elapsed_s: f64) -> Vec<(String, f64)> {
        let released = self.redactor.push(chunk);
        self.take_lines(&String::from_utf8_lossy(&released), elapsed_s)
    }

    /// The stream ended at `elapsed_s`: the lines it still held, the last one without a
    /// newline.
    pub(super) fn finish(&mut self, elapsed_s: f64) -> Vec<(String, f64)> {
        let released = self.redactor.finish();
        let mut lines = self.take_lines(&String::from_utf8_lossy(&released), elapsed_s);
        if !self.partial.is_empty() {
            lines.push((std::mem::take(&mut self.partial), self.partial_started_s));
        }
        lines
    }

    fn take_lines(&mut self, text: &str, elapsed_s: f64) -> Vec<(String, f64)> {
        let mut lines = Vec::new();
        let mut pieces = text.split('\n').peekable();
        while let Some(piece) = pieces.next() {
            if self.partial.is_empty() {
                self.partial_started_s = elapsed_s;
            }
            let room = MAX_LINE_BYTES.saturating_sub(self.partial.len());
            let mut cut = piece.len().min(room);
            while !piece.is_char_boundary(cut) {
                cut -= 1;
            }
            self.partial.push_str(&piece[..cut]);
            if pieces.peek().is_some() {
                let mut line = std::mem::take(&mut self.partial);
                if line.ends_with('\r') {
                    line.pop();
                }
                lines.push((line, self.partial_started_s));
            }
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_whole_timed_by_their_first_part_and_bounded() {
        let mut output = OutputStream::new(&Secrets::default());
        assert!(output.push(b"first pa", 1.0).is_empty());
        assert_eq!(
            output.push(b"rt\r\nsecond\n\nthi", 2.0),
            [
                ("first part".to_string(), 1.0),
                ("second".to_string(), 2.0),
                (String::new(), 2.0)
            ]
        );
        assert_eq!(output.finish(3.0), [("thi".to_string(), 2.0)]);
        let huge = "é".repeat(MAX_LINE_BYTES);
        output.push(huge.as_bytes(), 4.0);
        let lines = output.push(b"\n", 5.0);
        assert_eq!(lines[0].0.len(), MAX_LINE_BYTES);
    }
}
