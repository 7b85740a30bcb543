//! Reading the small text files a scenario is made of (scenario.toml, Dockerfiles,
//! .dockerignore) so that hostile ones fail with one sentence instead of a hang or a crash:
//! only regular files (a FIFO or a device would block or never end), at most a fixed size
//! (read no further than that even if the file grows), and UTF-8 text without NUL bytes.
//!
//! Every file stagebench reads from a scenario or a results folder is opened without following
//! a symbolic link ([`open_no_follow`]): a scenario.toml or .dockerignore that links to
//! `~/.ssh/config` is refused as a link, and the target is never read, so none of its lines can
//! reach an error message. Paths that may pass through links (a Dockerfile that is a link inside
//! the repository) are resolved and checked first, then their resolved path is opened this way.
//! Why `custom_flags(O_NOFOLLOW)` on std's `OpenOptions` rather than a crate: std opens the file
//! exactly as before (with `O_CLOEXEC`) and only needs the flag's value, which `libc` gives
//! without any unsafe code; `rustix` or `nix` would add a second way of opening files for one
//! flag.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The largest scenario.toml, Dockerfile or .dockerignore read: far above any real one (the
/// largest in the wild are tens of kilobytes), far below what could hurt.
pub const MAX_TEXT_BYTES: u64 = 1024 * 1024;

/// Why a file is not usable text.
#[derive(Debug)]
pub enum TextFileError {
    /// It does not exist.
    Missing,
    /// It is a symbolic link, which is not followed.
    SymbolicLink,
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
            TextFileError::SymbolicLink => write!(f, "{LINK_REFUSED}"),
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

/// Why a link is refused, as the end of a sentence that starts with the file's path.
const LINK_REFUSED: &str =
    "is a symbolic link, which stagebench does not follow (make it a regular file)";

/// Opens `path` for reading without following a symbolic link as its last component
/// (`O_NOFOLLOW`: a link fails with an error that says so) and without blocking on a FIFO
/// (`O_NONBLOCK`, which changes nothing for a regular file).
pub fn open_no_follow(path: &Path) -> io::Result<File> {
    open_raw(path).map_err(|error| {
        if is_link_error(&error) {
            io::Error::new(io::ErrorKind::InvalidInput, LINK_REFUSED)
        } else {
            error
        }
    })
}

fn open_raw(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

/// Whether opening failed because the path is a link (`ELOOP` from `O_NOFOLLOW`).
fn is_link_error(error: &io::Error) -> bool {
    error.raw_os_error() == Some(libc::ELOOP)
}

/// The whole of the regular file `path`, opened with [`open_no_follow`].
pub fn read_no_follow(path: &Path) -> io::Result<Vec<u8>> {
    read_no_follow_at_most(path, u64::MAX)
}

/// [`read_no_follow`], refusing a file of more than `max_bytes` (and reading no further than
/// that should it grow meanwhile).
pub fn read_no_follow_at_most(path: &Path, max_bytes: u64) -> io::Result<Vec<u8>> {
    let file = open_no_follow(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "is not a regular file",
        ));
    }
    if metadata.len() > max_bytes {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("holds {} bytes, more than {max_bytes}", metadata.len()),
        ));
    }
    let mut bytes = Vec::new();
    file.take(max_bytes).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// [`read_no_follow`] as UTF-8 text.
pub fn read_string_no_follow(path: &Path) -> io::Result<String> {
    String::from_utf8(read_no_follow(path)?)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.utf8_error()))
}

/// Reads `path` as text, never through a symbolic link (see [`open_no_follow`]): the size and
/// kind are those of the file opened, not of a path looked up before.
pub fn read_text(path: &Path) -> Result<String, TextFileError> {
    let file = match open_raw(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(TextFileError::Missing);
        }
        Err(error) if is_link_error(&error) => return Err(TextFileError::SymbolicLink),
        // A socket cannot be opened at all; say what it is rather than how opening failed.
        Err(error) => {
            return Err(match std::fs::symlink_metadata(path) {
                Ok(metadata) if !metadata.is_file() => TextFileError::NotARegularFile,
                _ => TextFileError::Io(error),
            });
        }
    };
    let metadata = file.metadata().map_err(TextFileError::Io)?;
    if !metadata.is_file() {
        return Err(TextFileError::NotARegularFile);
    }
    if metadata.len() > MAX_TEXT_BYTES {
        return Err(TextFileError::TooLarge {
            bytes: metadata.len(),
        });
    }
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

    #[test]
    fn links_are_refused_and_their_targets_never_read() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("private");
        std::fs::write(&target, "Host secret-box\n").unwrap();
        let link = dir.path().join("scenario.toml");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let error = read_text(&link).unwrap_err();
        assert!(matches!(error, TextFileError::SymbolicLink), "{error}");
        assert_eq!(
            error.to_string(),
            "is a symbolic link, which stagebench does not follow (make it a regular file)"
        );
        let error = read_no_follow(&link).unwrap_err().to_string();
        assert!(
            error.contains("symbolic link") && !error.contains("secret-box"),
            "{error}"
        );
        // A link to a FIFO is refused as a link, before anything could block on it.
        let fifo = dir.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let fifo_link = dir.path().join("fifo-link");
        std::os::unix::fs::symlink(&fifo, &fifo_link).unwrap();
        assert!(matches!(
            read_text(&fifo_link),
            Err(TextFileError::SymbolicLink)
        ));
        assert!(read_no_follow(&fifo).is_err());
        assert_eq!(read_no_follow(&target).unwrap(), b"Host secret-box\n");
    }
}
