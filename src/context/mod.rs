//! The build context: the tar of the context directory that the daemon's `/build` endpoint
//! receives, produced the way the `docker build` CLI produces it, streamed while it is sent.
//!
//! Why this module exists rather than a crate: no maintained Rust crate implements Docker's
//! `.dockerignore` semantics (gitignore crates differ on anchoring, `**`, parent matching and
//! exception handling), and a context that differs from the CLI's by one file changes cache keys
//! and therefore the very timings this tool measures. So the matcher below is a line-by-line port
//! of the Go code the CLI runs:
//!
//! * `moby/patternmatcher/ignorefile.ReadAll`: a line is a comment only when `#` is in column 1
//!   (before trimming); `!` marks an exception; a pattern is cleaned like Go's `filepath.Clean`
//!   and a leading `/` dropped, so `/foo`, `./foo` and `foo/` all mean `foo`.
//! * `patternmatcher.New` + `Pattern.compile`: syntax checked as Go's `filepath.Match` does, then
//!   the same exact / prefix / suffix / regexp split (so `**file` is a plain suffix test and also
//!   matches `xfile`, as in Docker). The Go regexp text is then translated to the `regex` crate's
//!   dialect (Go treats `[` inside a class and `\d` differently), so odd patterns mean what they
//!   mean to Docker.
//! * `archive.TarWithOptions`, which the CLI's classic-builder path runs: the walk is Go's
//!   `filepath.WalkDir` order (names sorted bytewise in each directory, parents first), exclusion is
//!   `MatchesUsingParentResults` fed by the parent directory's results, and an excluded directory
//!   is skipped unless the text of some exception pattern starts with `dir/`. Note that this is
//!   textual: `foo` followed by `!**/*.go` does not bring back `foo/x.go` in Docker either. An
//!   excluded directory that is descended into is not itself sent, only what is re-included in it.
//! * `build.TrimBuildFilesFromExcludes`: `.dockerignore` and the Dockerfile are always sent.
//! * `build.AddDockerfileToBuildContext`: a Dockerfile outside the context is added under a
//!   generated name, and that name is appended to `.dockerignore` (one is created if missing) so
//!   the classic builder does not copy it into the image.
//!
//! Entries carry the file's mode (permission, setuid, setgid and sticky bits) and whole-second
//! mtime, with uid and gid 0 and no user or group names, as the CLI's `ChownOpts{0,0}` sends them.
//! Hard-linked files after the first become link entries, as in moby's tar writer. Symlinks are
//! stored as links and never followed, so nothing outside the context leaks in.
//!
//! Deliberate differences from the CLI: sockets, fifos and devices are skipped (the CLI sends
//! fifos and devices as header-only entries); the generated Dockerfile name is derived from the
//! Dockerfile's path rather than random, and the generated entries take the Dockerfile's mtime
//! rather than "now", so two tars of an unchanged context are byte-identical; a malformed pattern is
//! reported when `.dockerignore` is read rather than when it is first used; security xattrs are not
//! copied; and the Dockerfile and `.dockerignore` are sent even in the corner cases where the CLI's
//! own check (the deprecated single-parent `Matches`) fails to keep them.

mod dockerignore;
mod go_regexp;
mod tar_stream;

use std::io;
use std::path::{Path, PathBuf};

pub use dockerignore::DockerIgnore;
pub use tar_stream::BuildContext;

/// A build context that cannot be read or sent. Every message names the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// The context directory is missing or unreadable.
    #[error("build context {} cannot be opened: {cause}", path.display())]
    ContextDir {
        /// The directory as given.
        path: PathBuf,
        /// The cause (not a `source`, so the chain prints it once).
        cause: io::Error,
    },
    /// The context path is not a directory.
    #[error("build context {} is not a directory", path.display())]
    NotADirectory {
        /// The path as given.
        path: PathBuf,
    },
    /// The Dockerfile is missing or unreadable.
    #[error("Dockerfile {} cannot be opened: {cause}", path.display())]
    Dockerfile {
        /// The Dockerfile as given.
        path: PathBuf,
        /// The cause.
        cause: io::Error,
    },
    /// The Dockerfile path names a directory or special file.
    #[error("Dockerfile {} is not a regular file", path.display())]
    DockerfileNotAFile {
        /// The Dockerfile as given.
        path: PathBuf,
    },
    /// A `.dockerignore` that is not usable text (too large, binary, a FIFO...).
    #[error("{}: {reason}", path.display())]
    IgnoreFile {
        /// The ignore file.
        path: PathBuf,
        /// Why, as one clause.
        reason: String,
    },
    /// A `.dockerignore` line that Docker would reject.
    #[error("{}:{line}: invalid pattern `{pattern}`: {reason}", file.display())]
    BadPattern {
        /// The ignore file.
        file: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The line as written, trimmed.
        pattern: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A file or directory in the context could not be read.
    #[error("cannot read {} for the build context: {cause}", path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        cause: io::Error,
    },
    /// An incremental edit names a file the build context does not send.
    #[error("{} is not in the build context {} (nor its Dockerfile), so editing it cannot change the build", path.display(), context.display())]
    EditOutsideContext {
        /// The edited file.
        path: PathBuf,
        /// The context directory.
        context: PathBuf,
    },
    /// A file shrank while it was being sent, which would corrupt the tar.
    #[error("{} changed while the build context was being sent", path.display())]
    FileChanged {
        /// The file.
        path: PathBuf,
    },
    /// The tar could not be written (for a stream: nobody is reading it any more).
    #[error("cannot send the build context: {cause}")]
    Write {
        /// The cause.
        cause: io::Error,
    },
}

impl ContextError {
    fn read(path: &Path) -> impl FnOnce(io::Error) -> ContextError + '_ {
        move |cause| ContextError::Read {
            path: path.to_path_buf(),
            cause,
        }
    }

    fn write(cause: io::Error) -> ContextError {
        ContextError::Write { cause }
    }

    /// Keeps the I/O kind so a body consumer can still tell e.g. permission problems apart.
    fn into_io(self) -> io::Error {
        let kind = match &self {
            ContextError::Read { cause, .. }
            | ContextError::Write { cause }
            | ContextError::ContextDir { cause, .. }
            | ContextError::Dockerfile { cause, .. } => cause.kind(),
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_errors_keep_their_io_kind_as_stream_items() {
        let error = ContextError::Read {
            path: PathBuf::from("/ctx/gone"),
            cause: io::Error::from(io::ErrorKind::PermissionDenied),
        }
        .into_io();
        assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
        assert!(error.to_string().contains("/ctx/gone"));
    }
}
