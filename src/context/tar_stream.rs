//! The build context tar: the walk in the CLI's order and exclusions, and the tar it writes or
//! streams in chunks.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{self, File, Metadata};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use tar::{EntryType, Header};
use tokio::sync::mpsc;

use super::ContextError;
use super::dockerignore::{DOCKERIGNORE, DockerIgnore};
use crate::text_file::{open_no_follow, read_no_follow};
use crate::touch::SourceEdits;

/// Size of the chunks handed to the HTTP body: large enough to keep per-chunk overhead low.
const CHUNK_SIZE: usize = 64 * 1024;
/// Chunks in flight: bounds memory to about half a MiB whatever the context size.
const CHANNEL_CAPACITY: usize = 8;

/// A checked build context: a directory, the Dockerfile to build and the ignore rules.
/// Cloning is cheap (one `Arc`).
#[derive(Debug, Clone)]
pub struct BuildContext {
    inner: Arc<Inner>,
    /// Files sent with other content than on disk (an incremental run's edits).
    edits: Option<Arc<SourceEdits>>,
}

#[derive(Debug)]
struct Inner {
    /// Canonical, so the walk and the inside/outside test agree with the CLI's `EvalSymlinks`.
    context_dir: PathBuf,
    /// Canonical path of the Dockerfile.
    dockerfile: PathBuf,
    /// What the build's `dockerfile` option must say.
    dockerfile_name: String,
    /// The Dockerfile is added under a generated name (it is outside the context).
    dockerfile_outside: bool,
    /// The `.dockerignore` patterns plus the always-sent exceptions.
    rules: DockerIgnore,
}

/// One entry found by the walk.
struct WalkEntry<'a> {
    rel: &'a str,
    tar_path: &'a Path,
    abs: &'a Path,
    meta: &'a Metadata,
}

/// Entries appended after the walk, as the CLI appends them to the tar it already made.
enum Generated {
    Dockerfile,
    Dockerignore,
}

impl BuildContext {
    /// Validates that the context dir exists and is a directory and that the Dockerfile exists
    /// and is a file, and loads `.dockerignore`. A relative `dockerfile` is relative to the
    /// current directory, as with `docker build -f`.
    pub fn new(context_dir: &Path, dockerfile: &Path) -> Result<Self, ContextError> {
        let context_abs =
            fs::canonicalize(context_dir).map_err(|cause| ContextError::ContextDir {
                path: context_dir.to_path_buf(),
                cause,
            })?;
        if !context_abs.is_dir() {
            return Err(ContextError::NotADirectory {
                path: context_dir.to_path_buf(),
            });
        }
        let dockerfile_abs =
            fs::canonicalize(dockerfile).map_err(|cause| ContextError::Dockerfile {
                path: dockerfile.to_path_buf(),
                cause,
            })?;
        if !dockerfile_abs.is_file() {
            return Err(ContextError::DockerfileNotAFile {
                path: dockerfile.to_path_buf(),
            });
        }
        let ignore = DockerIgnore::load(context_dir)?;
        let inside = dockerfile_abs
            .strip_prefix(&context_abs)
            .ok()
            .and_then(slash_path);
        let (dockerfile_name, dockerfile_outside, rules) = match inside {
            Some(rel) => {
                let rules = ignore.with_forced(&[DOCKERIGNORE, &rel]);
                (rel, false, rules)
            }
            // A non-UTF-8 name inside the context is also sent this way: the option is a string.
            None => {
                let name = generated_dockerfile_name(&context_abs, &dockerfile_abs);
                (name, true, ignore.with_forced(&[DOCKERIGNORE]))
            }
        };
        Ok(BuildContext {
            inner: Arc::new(Inner {
                context_dir: context_abs,
                dockerfile: dockerfile_abs,
                dockerfile_name,
                dockerfile_outside,
                rules,
            }),
            edits: None,
        })
    }

    /// The same context with `edits` sent instead of the files' own content, each with the
    /// modification time of now, as an editor would leave it. A file outside the context is
    /// refused (unless it is the Dockerfile), since editing it could not change the build.
    pub fn with_edits(&self, edits: SourceEdits) -> Result<BuildContext, ContextError> {
        for (path, _) in &edits.files {
            if !path.starts_with(&self.inner.context_dir) && *path != self.inner.dockerfile {
                return Err(ContextError::EditOutsideContext {
                    path: path.clone(),
                    context: self.inner.context_dir.clone(),
                });
            }
        }
        Ok(BuildContext {
            inner: Arc::clone(&self.inner),
            edits: Some(Arc::new(edits)),
        })
    }

    /// The Dockerfile's canonical path, the one [`BuildContext::with_edits`] knows it by.
    pub fn dockerfile_path(&self) -> &Path {
        &self.inner.dockerfile
    }

    /// Whether files are sent with edited content.
    pub fn is_edited(&self) -> bool {
        self.edits.is_some()
    }

    fn edited(&self, path: &Path) -> Option<&[u8]> {
        self.edits.as_ref().and_then(|edits| edits.content_of(path))
    }

    /// The name to pass as the build's `dockerfile` option.
    pub fn dockerfile_name(&self) -> &str {
        &self.inner.dockerfile_name
    }

    /// Writes the whole tar synchronously (used by tests and benchmarks).
    pub fn write_tar<W: Write>(&self, out: W) -> Result<W, ContextError> {
        self.write_tar_until(out, &|| false)
    }

    /// Relative paths that would be sent, in tar order (directories without a trailing `/`).
    /// Like the CLI's `ValidateContextDirectory`, every regular file is opened once, so an
    /// unreadable file is reported here rather than halfway through a build.
    pub fn included_paths(&self) -> Result<Vec<String>, ContextError> {
        let mut paths = Vec::new();
        let mut saw_dockerignore = false;
        self.walk(&|| false, &mut |entry| {
            if entry.meta.is_file() {
                open_no_follow(entry.abs).map_err(ContextError::read(entry.abs))?;
            }
            saw_dockerignore |= entry.rel == DOCKERIGNORE;
            paths.push(entry.rel.to_string());
            Ok(())
        })?;
        for generated in self.generated(saw_dockerignore) {
            if let Generated::Dockerfile = generated {
                open_no_follow(&self.inner.dockerfile)
                    .map_err(ContextError::read(&self.inner.dockerfile))?;
            }
            paths.push(self.generated_name(&generated).to_string());
        }
        Ok(paths)
    }

    /// Streams the tar as it is written. A blocking thread walks the context and fills 64 KiB
    /// chunks into a channel of 8, so memory stays flat whatever the context size. A read error
    /// arrives as an `Err` item (carrying the [`ContextError`]); dropping the stream (a cancelled
    /// build) makes the thread stop at its next entry or chunk.
    pub fn stream(&self) -> impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static {
        let (rx, _worker) = self.spawn_writer();
        futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
    }

    /// A std thread rather than `spawn_blocking`, so a stream can be made outside a runtime.
    fn spawn_writer(
        &self,
    ) -> (
        mpsc::Receiver<Result<Bytes, io::Error>>,
        Option<std::thread::JoinHandle<()>>,
    ) {
        let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
        let context = self.clone();
        let worker_tx = tx.clone();
        let spawned = std::thread::Builder::new()
            .name("stagebench-context".to_string())
            .spawn(move || context.send_tar(worker_tx));
        match spawned {
            Ok(handle) => (rx, Some(handle)),
            Err(cause) => {
                let error = io::Error::new(
                    cause.kind(),
                    format!("cannot start the thread that sends the build context: {cause}"),
                );
                // The channel is new and empty, so this cannot be full.
                let _ = tx.try_send(Err(error));
                (rx, None)
            }
        }
    }

    fn send_tar(&self, tx: mpsc::Sender<Result<Bytes, io::Error>>) {
        let writer = ChannelWriter {
            tx: tx.clone(),
            buffer: BytesMut::with_capacity(CHUNK_SIZE),
        };
        let outcome = self
            .write_tar_until(writer, &|| tx.is_closed())
            .and_then(|mut writer| writer.flush().map_err(ContextError::write));
        if let Err(error) = outcome {
            // Fails only when nobody listens any more, and then nobody needs the error.
            let _ = tx.blocking_send(Err(error.into_io()));
        }
    }

    fn write_tar_until<W: Write>(
        &self,
        out: W,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<W, ContextError> {
        let mut builder = tar::Builder::new(Guarded {
            inner: out,
            discard: false,
        });
        builder.follow_symlinks(false);
        let outcome = self.append_all(&mut builder, cancelled);
        if let Err(error) = outcome {
            // The builder's drop writes the end-of-archive blocks; a failed tar must not look
            // complete to the daemon.
            builder.get_mut().discard = true;
            return Err(error);
        }
        builder
            .into_inner()
            .map(|guarded| guarded.inner)
            .map_err(ContextError::write)
    }

    fn append_all<W: Write>(
        &self,
        builder: &mut tar::Builder<W>,
        cancelled: &dyn Fn() -> bool,
    ) -> Result<(), ContextError> {
        let mut hard_links: HashMap<(u64, u64), PathBuf> = HashMap::new();
        let mut saw_dockerignore = false;
        self.walk(cancelled, &mut |entry| {
            saw_dockerignore |= entry.rel == DOCKERIGNORE;
            self.append_entry(builder, entry, &mut hard_links)
        })?;
        for generated in self.generated(saw_dockerignore) {
            let data = match generated {
                Generated::Dockerfile => match self.edited(&self.inner.dockerfile) {
                    Some(edited) => edited.to_vec(),
                    None => read_no_follow(&self.inner.dockerfile)
                        .map_err(ContextError::read(&self.inner.dockerfile))?,
                },
                Generated::Dockerignore => {
                    format!("{DOCKERIGNORE}\n{}\n", self.inner.dockerfile_name).into_bytes()
                }
            };
            let meta = fs::metadata(&self.inner.dockerfile)
                .map_err(ContextError::read(&self.inner.dockerfile))?;
            let mut header = header_for(&meta, EntryType::Regular, data.len() as u64);
            // The CLI's mode for the entries it adds.
            header.set_mode(0o600);
            builder
                .append_data(
                    &mut header,
                    self.generated_name(&generated),
                    data.as_slice(),
                )
                .map_err(ContextError::write)?;
        }
        Ok(())
    }

    fn generated(&self, saw_dockerignore: bool) -> Vec<Generated> {
        match (self.inner.dockerfile_outside, saw_dockerignore) {
            (false, _) => Vec::new(),
            (true, true) => vec![Generated::Dockerfile],
            (true, false) => vec![Generated::Dockerfile, Generated::Dockerignore],
        }
    }

    fn generated_name(&self, generated: &Generated) -> &str {
        match generated {
            Generated::Dockerfile => &self.inner.dockerfile_name,
            Generated::Dockerignore => DOCKERIGNORE,
        }
    }

    fn append_entry<W: Write>(
        &self,
        builder: &mut tar::Builder<W>,
        entry: &WalkEntry<'_>,
        hard_links: &mut HashMap<(u64, u64), PathBuf>,
    ) -> Result<(), ContextError> {
        let meta = entry.meta;
        let file_type = meta.file_type();
        if file_type.is_dir() {
            let mut name = entry.tar_path.as_os_str().to_os_string();
            name.push("/");
            let mut header = header_for(meta, EntryType::Directory, 0);
            return builder
                .append_data(&mut header, Path::new(&name), io::empty())
                .map_err(ContextError::write);
        }
        if let Some(key) = hard_link_key(meta) {
            if let Some(first) = hard_links.get(&key) {
                let mut header = header_for(meta, EntryType::Link, 0);
                return builder
                    .append_link(&mut header, entry.tar_path, first)
                    .map_err(ContextError::write);
            }
            hard_links.insert(key, entry.tar_path.to_path_buf());
        }
        if file_type.is_symlink() {
            let target = fs::read_link(entry.abs).map_err(ContextError::read(entry.abs))?;
            let mut header = header_for(meta, EntryType::Symlink, 0);
            return builder
                .append_link(&mut header, entry.tar_path, &target)
                .map_err(ContextError::write);
        }
        if self.inner.dockerfile_outside && entry.rel == DOCKERIGNORE {
            // The CLI appends the generated name so the classic builder leaves it out of COPY.
            let mut data = read_no_follow(entry.abs).map_err(ContextError::read(entry.abs))?;
            data.extend_from_slice(format!("\n{}\n", self.inner.dockerfile_name).as_bytes());
            let mut header = header_for(meta, EntryType::Regular, data.len() as u64);
            return builder
                .append_data(&mut header, entry.tar_path, data.as_slice())
                .map_err(ContextError::write);
        }
        if let Some(edited) = self.edited(entry.abs) {
            let mut header = header_for(meta, EntryType::Regular, edited.len() as u64);
            header.set_mtime(now_seconds());
            return builder
                .append_data(&mut header, entry.tar_path, edited)
                .map_err(ContextError::write);
        }
        // The walk saw a regular file; a link put in its place since is refused, not followed.
        let file = open_no_follow(entry.abs).map_err(ContextError::read(entry.abs))?;
        let size = meta.len();
        let mut reader = ExactReader {
            file,
            remaining: size,
            path: entry.abs,
            failure: None,
        };
        let mut header = header_for(meta, EntryType::Regular, size);
        let capacity = usize::try_from(size.clamp(1, CHUNK_SIZE as u64)).unwrap_or(CHUNK_SIZE);
        let outcome = builder.append_data(
            &mut header,
            entry.tar_path,
            BufReader::with_capacity(capacity, &mut reader),
        );
        match (outcome, reader.failure.take()) {
            (Ok(()), _) => Ok(()),
            (Err(_), Some(failure)) => Err(failure),
            (Err(cause), None) => Err(ContextError::write(cause)),
        }
    }

    /// Go's `filepath.WalkDir` order with moby's exclusion rules; `visit` sees what is sent.
    fn walk(
        &self,
        cancelled: &dyn Fn() -> bool,
        visit: &mut dyn FnMut(&WalkEntry<'_>) -> Result<(), ContextError>,
    ) -> Result<(), ContextError> {
        struct Dir {
            abs: PathBuf,
            rel: String,
            tar_path: PathBuf,
            names: std::vec::IntoIter<OsString>,
            /// This directory's pattern results, which its children inherit.
            info: Vec<bool>,
        }
        let rules = &self.inner.rules;
        let root = &self.inner.context_dir;
        let mut stack = vec![Dir {
            abs: root.clone(),
            rel: String::new(),
            tar_path: PathBuf::new(),
            names: sorted_names(root)?.into_iter(),
            info: Vec::new(),
        }];
        while let Some(dir) = stack.last_mut() {
            let Some(name) = dir.names.next() else {
                stack.pop();
                continue;
            };
            if cancelled() {
                return Err(ContextError::write(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the build context is no longer being read",
                )));
            }
            let abs = dir.abs.join(&name);
            let name_text = name.to_string_lossy();
            let rel = if dir.rel.is_empty() {
                name_text.into_owned()
            } else {
                format!("{}/{name_text}", dir.rel)
            };
            let tar_path = dir.tar_path.join(&name);
            let (excluded, info) = rules.matches(&rel, &dir.info);
            let meta = fs::symlink_metadata(&abs).map_err(ContextError::read(&abs))?;
            let file_type = meta.file_type();
            if !(file_type.is_dir() || file_type.is_file() || file_type.is_symlink()) {
                continue;
            }
            if excluded {
                if !file_type.is_dir() || !rules.may_reinclude_below(&rel) {
                    continue;
                }
            } else {
                visit(&WalkEntry {
                    rel: &rel,
                    tar_path: &tar_path,
                    abs: &abs,
                    meta: &meta,
                })?;
            }
            if file_type.is_dir() {
                let names = sorted_names(&abs)?.into_iter();
                stack.push(Dir {
                    abs,
                    rel,
                    tar_path,
                    names,
                    info,
                });
            }
        }
        Ok(())
    }
}

/// The relative path with `/` separators, or `None` if it cannot be a string.
fn slash_path(rel: &Path) -> Option<String> {
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    let joined = parts?.join("/");
    (!joined.is_empty()).then_some(joined)
}

/// Derived from the Dockerfile's path, not random, so repeated builds send identical tars; the
/// CLI's `.dockerfile.<random>` would make every `COPY .` a cache miss where `.dockerignore` is
/// not applied by the daemon.
fn generated_dockerfile_name(context_dir: &Path, dockerfile: &Path) -> String {
    // FNV-1a: tiny, stable across Rust versions (unlike `DefaultHasher`).
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in dockerfile.as_os_str().as_encoded_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    loop {
        let name = format!(".stagebench-dockerfile-{hash:016x}");
        if fs::symlink_metadata(context_dir.join(&name)).is_err() {
            return name;
        }
        hash = hash.wrapping_add(1);
    }
}

fn sorted_names(dir: &Path) -> Result<Vec<OsString>, ContextError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(ContextError::read(dir))? {
        names.push(entry.map_err(ContextError::read(dir))?.file_name());
    }
    names.sort_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
    Ok(names)
}

fn header_for(meta: &Metadata, entry_type: EntryType, size: u64) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(entry_type);
    header.set_mode(mode_bits(meta));
    header.set_uid(0);
    header.set_gid(0);
    let mtime = meta
        .modified()
        .ok()
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |since| since.as_secs());
    header.set_mtime(mtime);
    header.set_size(size);
    header
}

fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// Go's `FileInfoHeader` keeps permission, setuid, setgid and sticky bits, not the file type.
#[cfg(unix)]
fn mode_bits(meta: &Metadata) -> u32 {
    use std::os::unix::fs::MetadataExt;
    meta.mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_bits(meta: &Metadata) -> u32 {
    match (meta.is_dir(), meta.permissions().readonly()) {
        (true, _) => 0o755,
        (false, true) => 0o444,
        (false, false) => 0o644,
    }
}

#[cfg(unix)]
fn hard_link_key(meta: &Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    (!meta.is_dir() && meta.nlink() > 1).then(|| (meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn hard_link_key(_meta: &Metadata) -> Option<(u64, u64)> {
    None
}

/// Reads exactly the size written in the header: a file that grows is cut, one that shrinks
/// is an error, either of which would otherwise corrupt every later entry.
struct ExactReader<'a> {
    file: File,
    remaining: u64,
    path: &'a Path,
    /// The real cause, since the tar crate mixes read and write errors into one `io::Error`.
    failure: Option<ContextError>,
}

impl Read for ExactReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let max = usize::try_from(self.remaining).map_or(buf.len(), |left| left.min(buf.len()));
        match self.file.read(&mut buf[..max]) {
            Ok(0) => {
                self.failure = Some(ContextError::FileChanged {
                    path: self.path.to_path_buf(),
                });
                Err(io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank"))
            }
            Ok(read) => {
                self.remaining -= read as u64;
                Ok(read)
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => Err(error),
            Err(cause) => {
                let kind = cause.kind();
                self.failure = Some(ContextError::Read {
                    path: self.path.to_path_buf(),
                    cause,
                });
                Err(io::Error::new(kind, "read failed"))
            }
        }
    }
}

/// Swallows writes once the tar has failed (see `write_tar_until`).
struct Guarded<W> {
    inner: W,
    discard: bool,
}

impl<W: Write> Write for Guarded<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.discard {
            return Ok(buf.len());
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.discard {
            return Ok(());
        }
        self.inner.flush()
    }
}

/// Cuts the tar into fixed chunks for the channel; a failed send means the receiver is gone.
struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
    buffer: BytesMut,
}

impl ChannelWriter {
    fn send_buffer(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = self.buffer.split().freeze();
        self.buffer.reserve(CHUNK_SIZE);
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the build context is no longer being read",
            )
        })
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = CHUNK_SIZE.saturating_sub(self.buffer.len()).max(1);
        let taken = buf.len().min(room);
        self.buffer.extend_from_slice(&buf[..taken]);
        if self.buffer.len() >= CHUNK_SIZE {
            self.send_buffer()?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_buffer()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use std::time::{Duration, SystemTime};

    fn write(root: &Path, rel: &str, content: &[u8]) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    struct TarEntry {
        path: String,
        kind: EntryType,
        link: Option<String>,
        mode: u32,
        mtime: u64,
        uid: u64,
        gid: u64,
        data: Vec<u8>,
    }

    fn read_tar(bytes: &[u8]) -> Vec<TarEntry> {
        let mut archive = tar::Archive::new(bytes);
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let mut entry = entry.unwrap();
                let mut data = Vec::new();
                entry.read_to_end(&mut data).unwrap();
                let header = entry.header();
                TarEntry {
                    path: String::from_utf8(entry.path_bytes().into_owned()).unwrap(),
                    kind: header.entry_type(),
                    link: entry
                        .link_name_bytes()
                        .map(|l| String::from_utf8(l.into_owned()).unwrap()),
                    mode: header.mode().unwrap(),
                    mtime: header.mtime().unwrap(),
                    uid: header.uid().unwrap(),
                    gid: header.gid().unwrap(),
                    data,
                }
            })
            .collect()
    }

    fn tar_of(context: &BuildContext) -> Vec<TarEntry> {
        read_tar(&context.write_tar(Vec::new()).unwrap())
    }

    fn names(entries: &[TarEntry]) -> Vec<&str> {
        entries.iter().map(|e| e.path.as_str()).collect()
    }

    /// A context dir with a Dockerfile at its root.
    fn context_with(files: &[(&str, &str)]) -> (tempfile::TempDir, BuildContext) {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "Dockerfile", b"FROM scratch\n");
        for (rel, content) in files {
            write(dir.path(), rel, content.as_bytes());
        }
        let context = BuildContext::new(dir.path(), &dir.path().join("Dockerfile")).unwrap();
        (dir, context)
    }

    // --- walk and tar ---

    #[test]
    fn walk_order_is_per_directory_lexical_like_go_walkdir() {
        let (_dir, context) =
            context_with(&[("b", ""), ("a-b", ""), ("a/c", ""), ("a/B", ""), ("A", "")]);
        assert_eq!(
            context.included_paths().unwrap(),
            ["A", "Dockerfile", "a", "a/B", "a/c", "a-b", "b"]
        );
        let entries = tar_of(&context);
        assert_eq!(
            names(&entries),
            ["A", "Dockerfile", "a/", "a/B", "a/c", "a-b", "b"]
        );
        assert_eq!(entries[2].kind, EntryType::Directory);
    }

    #[test]
    fn excluded_directory_is_skipped_unless_an_exception_names_it() {
        let (_dir, context) = context_with(&[
            (".dockerignore", "docs\n!docs/README.md\nbuild\n!**/*.go\n"),
            ("docs/README.md", "r"),
            ("docs/other.md", "o"),
            ("build/x.go", "package x"),
            ("main.go", "package main"),
        ]);
        // `docs/` itself is not sent, only what is re-included; `build` is never descended
        // into because no exception's text starts with `build/` (Docker's behaviour).
        assert_eq!(
            context.included_paths().unwrap(),
            [".dockerignore", "Dockerfile", "docs/README.md", "main.go"]
        );
        assert_eq!(
            names(&tar_of(&context)),
            [".dockerignore", "Dockerfile", "docs/README.md", "main.go"]
        );
        // The patterns alone do not exclude it: only the walk's skip leaves it out.
        let rules = DockerIgnore::load(&context.inner.context_dir).unwrap();
        assert!(!rules.is_excluded("build/x.go"));
        assert!(rules.is_excluded("build"));
    }

    #[test]
    fn excluded_dockerfile_and_dockerignore_are_still_sent() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), ".dockerignore", b"*\n");
        write(dir.path(), "docker/app.Dockerfile", b"FROM scratch\n");
        write(dir.path(), "docker/other", b"x");
        write(dir.path(), "src/main.rs", b"fn main() {}");
        let context =
            BuildContext::new(dir.path(), &dir.path().join("docker/app.Dockerfile")).unwrap();
        assert_eq!(context.dockerfile_name(), "docker/app.Dockerfile");
        assert_eq!(
            context.included_paths().unwrap(),
            [".dockerignore", "docker/app.Dockerfile"]
        );
        let entries = tar_of(&context);
        assert_eq!(names(&entries), [".dockerignore", "docker/app.Dockerfile"]);
        assert_eq!(entries[1].data, b"FROM scratch\n");
        // Unchanged: the Dockerfile is inside the context.
        assert_eq!(entries[0].data, b"*\n");
    }

    #[test]
    fn dockerfile_outside_context_is_added_under_a_generated_name() {
        let scenario = tempfile::tempdir().unwrap();
        write(
            scenario.path(),
            "single.Dockerfile",
            b"FROM scratch\nCOPY . /\n",
        );
        write(scenario.path(), "sub/dir/app.txt", b"app");
        let context_dir = scenario.path().join("sub/dir");
        let dockerfile = scenario.path().join("single.Dockerfile");
        let context = BuildContext::new(&context_dir, &dockerfile).unwrap();
        let name = context.dockerfile_name().to_string();
        assert!(name.starts_with(".stagebench-dockerfile-"), "{name}");
        // Stable across instances, so repeated builds send identical tars.
        assert_eq!(
            BuildContext::new(&context_dir, &dockerfile)
                .unwrap()
                .dockerfile_name(),
            name
        );
        assert_eq!(
            context.included_paths().unwrap(),
            ["app.txt", name.as_str(), ".dockerignore"]
        );
        let entries = tar_of(&context);
        assert_eq!(names(&entries), ["app.txt", name.as_str(), ".dockerignore"]);
        assert_eq!(entries[1].data, b"FROM scratch\nCOPY . /\n");
        assert_eq!(entries[1].mode, 0o600);
        assert_eq!(entries[1].kind, EntryType::Regular);
        // Like the CLI, a .dockerignore naming the generated file keeps it out of `COPY .`.
        assert_eq!(
            entries[2].data,
            format!(".dockerignore\n{name}\n").as_bytes()
        );

        // With an existing .dockerignore, the name is appended to it in place.
        write(&context_dir, ".dockerignore", b"*.tmp");
        let entries = tar_of(&BuildContext::new(&context_dir, &dockerfile).unwrap());
        assert_eq!(names(&entries), [".dockerignore", "app.txt", name.as_str()]);
        assert_eq!(entries[0].data, format!("*.tmp\n{name}\n").as_bytes());
    }

    #[test]
    fn generated_name_avoids_existing_files() {
        let scenario = tempfile::tempdir().unwrap();
        write(scenario.path(), "x.Dockerfile", b"FROM scratch\n");
        let context_dir = scenario.path().join("ctx");
        fs::create_dir(&context_dir).unwrap();
        let dockerfile = scenario.path().join("x.Dockerfile");
        let first = BuildContext::new(&context_dir, &dockerfile).unwrap();
        write(&context_dir, first.dockerfile_name(), b"squatter");
        let second = BuildContext::new(&context_dir, &dockerfile).unwrap();
        assert_ne!(first.dockerfile_name(), second.dockerfile_name());
        let entries = tar_of(&second);
        let added = entries
            .iter()
            .find(|e| e.path == second.dockerfile_name())
            .unwrap();
        assert_eq!(added.data, b"FROM scratch\n");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_stored_as_links_and_never_followed() {
        use std::os::unix::fs::symlink;
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "secret", b"TOP-SECRET-CONTENT");
        write(outside.path(), "dir/inner", b"ALSO-SECRET");
        let (dir, _) = context_with(&[("real.txt", "real")]);
        symlink(outside.path().join("secret"), dir.path().join("abs-link")).unwrap();
        symlink("real.txt", dir.path().join("rel-link")).unwrap();
        symlink(outside.path().join("dir"), dir.path().join("dir-link")).unwrap();
        let context = BuildContext::new(dir.path(), &dir.path().join("Dockerfile")).unwrap();
        let bytes = context.write_tar(Vec::new()).unwrap();
        let needle = b"SECRET";
        assert!(!bytes.windows(needle.len()).any(|w| w == needle));
        let entries = read_tar(&bytes);
        assert_eq!(
            names(&entries),
            ["Dockerfile", "abs-link", "dir-link", "real.txt", "rel-link"]
        );
        let link = |name: &str| entries.iter().find(|e| e.path == name).unwrap();
        assert_eq!(link("abs-link").kind, EntryType::Symlink);
        assert_eq!(
            link("abs-link").link.as_deref(),
            outside.path().join("secret").to_str()
        );
        assert!(link("abs-link").data.is_empty());
        assert_eq!(link("dir-link").kind, EntryType::Symlink);
        assert_eq!(link("rel-link").link.as_deref(), Some("real.txt"));
    }

    #[cfg(unix)]
    #[test]
    fn modes_mtimes_and_ownership_are_kept_like_the_cli() {
        use std::os::unix::fs::PermissionsExt;
        let (dir, context) = context_with(&[("run.sh", "#!/bin/sh\n"), ("private", "p")]);
        let script = dir.path().join("run.sh");
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(
            dir.path().join("private"),
            fs::Permissions::from_mode(0o640),
        )
        .unwrap();
        let mtime = UNIX_EPOCH + Duration::from_secs(1_600_000_000);
        File::options()
            .write(true)
            .open(&script)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        let entries = tar_of(&context);
        let entry = |name: &str| entries.iter().find(|e| e.path == name).unwrap();
        assert_eq!(entry("run.sh").mode, 0o755);
        assert_eq!(entry("private").mode, 0o640);
        assert_eq!(entry("run.sh").mtime, 1_600_000_000);
        assert_eq!(entry("run.sh").data, b"#!/bin/sh\n");
        assert!(entries.iter().all(|e| e.uid == 0 && e.gid == 0));
    }

    #[cfg(unix)]
    #[test]
    fn hard_links_after_the_first_are_link_entries() {
        let (dir, context) = context_with(&[("a.bin", "same bytes")]);
        fs::hard_link(dir.path().join("a.bin"), dir.path().join("b.bin")).unwrap();
        let entries = tar_of(&context);
        let b = entries.iter().find(|e| e.path == "b.bin").unwrap();
        assert_eq!(b.kind, EntryType::Link);
        assert_eq!(b.link.as_deref(), Some("a.bin"));
        assert!(b.data.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn sockets_are_skipped() {
        let (dir, context) = context_with(&[("file", "f")]);
        let _listener = std::os::unix::net::UnixListener::bind(dir.path().join("sock")).unwrap();
        assert_eq!(context.included_paths().unwrap(), ["Dockerfile", "file"]);
        assert_eq!(names(&tar_of(&context)), ["Dockerfile", "file"]);
    }

    #[test]
    fn long_paths_and_link_targets_round_trip() {
        let deep = format!("{}/{}/file.txt", "d".repeat(120), "e".repeat(150));
        let (dir, context) = context_with(&[(deep.as_str(), "deep")]);
        #[cfg(unix)]
        std::os::unix::fs::symlink(&deep, dir.path().join("link")).unwrap();
        let entries = tar_of(&context);
        let file = entries.iter().find(|e| e.path == deep).unwrap();
        assert_eq!(file.data, b"deep");
        #[cfg(unix)]
        assert_eq!(
            entries
                .iter()
                .find(|e| e.path == "link")
                .unwrap()
                .link
                .as_deref(),
            Some(deep.as_str())
        );
        #[cfg(not(unix))]
        drop(dir);
    }

    #[tokio::test]
    async fn streamed_bytes_equal_write_tar_bytes() {
        let big: String = (0..300_000)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        let mut files: Vec<(String, String)> = vec![("big.txt".into(), big)];
        for i in 0..200 {
            files.push((format!("many/f{i:03}"), format!("content {i}")));
        }
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let (_dir, context) = context_with(&refs);
        let expected = context.write_tar(Vec::new()).unwrap();
        let mut streamed = Vec::new();
        let mut chunks = 0;
        let mut stream = Box::pin(context.stream());
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.unwrap();
            assert!(chunk.len() <= CHUNK_SIZE);
            streamed.extend_from_slice(&chunk);
            chunks += 1;
        }
        assert!(chunks > 4, "expected several chunks, got {chunks}");
        assert_eq!(streamed.len(), expected.len());
        assert!(streamed == expected);
        assert_eq!(names(&read_tar(&streamed))[0], "Dockerfile");
    }

    #[test]
    fn dropping_the_receiver_stops_the_writer_thread() {
        let big = "x".repeat(CHUNK_SIZE * (CHANNEL_CAPACITY + 8));
        let (_dir, context) = context_with(&[("big", big.as_str())]);
        let (mut rx, worker) = context.spawn_writer();
        let first = rx.blocking_recv().unwrap().unwrap();
        assert_eq!(first.len(), CHUNK_SIZE);
        drop(rx);
        let worker = worker.unwrap();
        let started = SystemTime::now();
        while !worker.is_finished() {
            assert!(
                started.elapsed().unwrap() < Duration::from_secs(10),
                "writer thread kept running after the receiver was dropped"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        worker.join().unwrap();
    }

    #[test]
    fn read_errors_arrive_as_err_items_naming_the_file() {
        // Far larger than what the writer can hold ahead of the reader (channel, buffers).
        let big = "x".repeat(CHUNK_SIZE * (CHANNEL_CAPACITY + 32));
        let (dir, context) = context_with(&[("big", big.as_str())]);
        let (mut rx, _worker) = context.spawn_writer();
        let first = rx.blocking_recv().unwrap().unwrap();
        assert_eq!(first.len(), CHUNK_SIZE);
        // The writer is now blocked on the full channel partway through `big`.
        File::options()
            .write(true)
            .open(dir.path().join("big"))
            .unwrap()
            .set_len(0)
            .unwrap();
        let mut received = first.len();
        let error = loop {
            match rx.blocking_recv() {
                Some(Ok(chunk)) => received += chunk.len(),
                Some(Err(error)) => break error,
                None => panic!("stream ended without an error"),
            }
        };
        assert!(received < big.len());
        assert!(error.to_string().contains("big"), "{error}");
        assert!(error.to_string().contains("changed while"), "{error}");
        let inner = error.into_inner().unwrap();
        assert!(matches!(
            inner.downcast_ref::<ContextError>(),
            Some(ContextError::FileChanged { .. })
        ));
        assert!(rx.blocking_recv().is_none(), "nothing may follow the error");
    }

    #[test]
    fn a_failed_tar_does_not_end_like_a_complete_one() {
        let (_dir, context) = context_with(&[("z", "z")]);
        let calls = std::cell::Cell::new(0);
        let mut written = Vec::new();
        let stop_at_second_entry = || {
            calls.set(calls.get() + 1);
            calls.get() > 1
        };
        let error = context
            .write_tar_until(&mut written, &stop_at_second_entry)
            .unwrap_err();
        assert!(matches!(error, ContextError::Write { .. }));
        // Just the Dockerfile's header and data block: no end-of-archive zero blocks.
        assert_eq!(written.len(), 1024);
        let header = Header::from_byte_slice(&written[..512]);
        assert_eq!(header.path_bytes().as_ref(), b"Dockerfile");
        assert!(written[512..].starts_with(b"FROM scratch\n"));
    }

    #[test]
    fn new_validates_context_and_dockerfile() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "Dockerfile", b"FROM scratch\n");
        let missing = dir.path().join("nope");
        let error = BuildContext::new(&missing, &dir.path().join("Dockerfile")).unwrap_err();
        assert!(matches!(error, ContextError::ContextDir { .. }));
        assert!(error.to_string().contains("nope"));

        let error = BuildContext::new(
            &dir.path().join("Dockerfile"),
            &dir.path().join("Dockerfile"),
        )
        .unwrap_err();
        assert!(matches!(error, ContextError::NotADirectory { .. }));

        let error = BuildContext::new(dir.path(), &dir.path().join("Missing")).unwrap_err();
        assert!(matches!(error, ContextError::Dockerfile { .. }));
        assert!(error.to_string().contains("Missing"));

        let error = BuildContext::new(dir.path(), dir.path()).unwrap_err();
        assert!(matches!(error, ContextError::DockerfileNotAFile { .. }));

        write(dir.path(), ".dockerignore", b"ok\n[\n");
        let error = BuildContext::new(dir.path(), &dir.path().join("Dockerfile")).unwrap_err();
        assert!(error.to_string().contains(".dockerignore:2:"), "{error}");
    }

    #[test]
    fn edits_replace_a_file_s_content_in_the_tar_and_nothing_on_disk() {
        let (dir, context) = context_with(&[
            ("Dockerfile", "FROM busybox\nCOPY app /app\n"),
            ("app/main.py", "print(1)\n"),
            ("app/other.py", "print(2)\n"),
        ]);
        let root = fs::canonicalize(dir.path()).unwrap();
        let edits = crate::touch::SourceEdits {
            files: vec![(root.join("app/main.py"), b"print(1)\n# edit\n".to_vec())],
        };
        let edited = context.with_edits(edits).unwrap();
        let entries = tar_of(&edited);
        let main = entries.iter().find(|e| e.path == "app/main.py").unwrap();
        assert_eq!(main.data, b"print(1)\n# edit\n");
        let other = entries.iter().find(|e| e.path == "app/other.py").unwrap();
        assert_eq!(other.data, b"print(2)\n");
        assert_eq!(
            fs::read_to_string(dir.path().join("app/main.py")).unwrap(),
            "print(1)\n"
        );
        let unedited = tar_of(&context);
        let main = unedited.iter().find(|e| e.path == "app/main.py").unwrap();
        assert_eq!(
            main.data, b"print(1)\n",
            "the original context is unchanged"
        );

        let outside = tempfile::tempdir().unwrap();
        let stray = fs::canonicalize(outside.path()).unwrap().join("x.py");
        let error = context
            .with_edits(crate::touch::SourceEdits {
                files: vec![(stray, b"x".to_vec())],
            })
            .unwrap_err();
        assert!(
            error.to_string().contains("is not in the build context"),
            "{error}"
        );
    }
}
