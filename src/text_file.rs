//! Reading the small text files a scenario is made of (scenario.toml, Dockerfiles,
//! .dockerignore) so that hostile ones fail with one sentence instead of a hang or a crash:
//! only regular files (a FIFO or a device would block or never end), at most a fixed size
//! (read no further than that even if the file grows), and UTF-8 text without NUL bytes.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// The largest scenario.toml, Dockerfile or .dockerignore read: far above any real one (the
/// largest in the wild are tens of kilobytes), far below what could hurt.
pub const MAX_TEXT_BYTES: u64 = 1024 * 1024;

/// Why a file is not usable text.
#[derive(Debug)]
pub enum TextFileError {
    /// It does not exist.
    Missing,
    /// It is a directory, FIFO, socket or device.
    NotARegularFile,
    /// Larger than the limit.
    TooLarge {
        /// Its size, or at least how much was there to read.
        bytes: u64,
    },
    /// It holds a NUL byte, which no text format stagebench reads allows.
    Binary {
        /// Byte offset of the first NUL.
        offset: usize,
    },
    /// Not UTF-8.
    NotUtf8 {
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// Reading failed.
    Io(std::io::Error),
}

impl fmt::Display for TextFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextFileError::Missing => write!(f, "does not exist"),
            TextFileError::NotARegularFile => write!(f, "is not a regular file"),
            TextFileError::TooLarge { bytes } => write!(
                f,
                "is {bytes} bytes, more than the {MAX_TEXT_BYTES} bytes such a file may have"
            ),
            TextFileError::Binary { offset } => {
                write!(f, "is binary, not text (a NUL byte at offset {offset})")
            }
            TextFileError::NotUtf8 { offset } => {
                write!(f, "is not UTF-8 text (an invalid byte at offset {offset})")
            }
            TextFileError::Io(error) => write!(f, "cannot be read: {error}"),
        }
    }
}

/// Reads `path` as text, following symbolic links.
pub fn read_text(path: &Path) -> Result<String, TextFileError> {
    let metadata = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => TextFileError::Missing,
        _ => TextFileError::Io(e),
    })?;
    if !metadata.is_file() {
        return Err(TextFileError::NotARegularFile);
    }
    if metadata.len() > MAX_TEXT_BYTES {
        return Err(TextFileError::TooLarge {
            bytes: metadata.len(),
        });
    }
    let file = File::open(path).map_err(TextFileError::Io)?;
    let mut bytes = Vec::new();
    file.take(MAX_TEXT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(TextFileError::Io)?;
    if bytes.len() as u64 > MAX_TEXT_BYTES {
        return Err(TextFileError::TooLarge {
            bytes: bytes.len() as u64,
        });
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(TextFileError::Binary { offset });
    }
    String::from_utf8(bytes).map_err(|e| TextFileError::NotUtf8 {
        offset: e.utf8_error().valid_up_to(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_files_are_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        };
        assert_eq!(read_text(&write("ok", b"FROM x\n")).unwrap(), "FROM x\n");
        let huge = write("huge", &vec![b'#'; MAX_TEXT_BYTES as usize + 1]);
        assert!(matches!(
            read_text(&huge),
            Err(TextFileError::TooLarge { .. })
        ));
        let binary = write("bin", b"FROM x\n\0\x01");
        assert!(matches!(
            read_text(&binary),
            Err(TextFileError::Binary { offset: 7 })
        ));
        let latin1 = write("latin1", b"# caf\xe9\n");
        assert!(matches!(
            read_text(&latin1),
            Err(TextFileError::NotUtf8 { offset: 5 })
        ));
        assert!(matches!(
            read_text(dir.path()),
            Err(TextFileError::NotARegularFile)
        ));
        assert!(matches!(
            read_text(&dir.path().join("none")),
            Err(TextFileError::Missing)
        ));
        // A FIFO would block a plain read forever.
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        assert!(matches!(
            read_text(&fifo),
            Err(TextFileError::NotARegularFile)
        ));
        assert!(matches!(
            read_text(Path::new("/dev/zero")),
            Err(TextFileError::NotARegularFile)
        ));
    }
}
