//! What an analysis learns about a layer, kept by the layer's diff ID (the sha256 of its
//! uncompressed tar) so that a layer shared by variants, runs or nights is compressed and listed
//! once: in memory for a run, and in a folder a later run reads.
//!
//! A diff ID names the layer's exact bytes, so what was computed from them holds for every image
//! that has the layer. Entries on disk are still checked on every read (a checksum of the whole
//! entry, format, compressor, the digest they claim, sizes that a tar of that size can hold);
//! one that fails is ignored with a warning and the layer is analysed again, so a damaged folder
//! costs time, never a wrong figure. Each entry is written to a temporary file beside it and
//! renamed into place, so a reader never sees half of one.
//!
//! The folder is used only when it is a real directory (not a link) that the user running
//! stagebench owns and that nobody else may write, and so is its parent: otherwise another user
//! could plant entries (or links to a FIFO or `/dev/zero`) in it. An entry is read without
//! following a link, only as a regular file, and no further than [`MAX_ENTRY_BYTES`].
//!
//! The entries hold paths and sizes only: no file contents and no image history (whose build
//! arguments may carry secrets).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use super::PUSH_GZIP_LEVEL;
use super::waste::{Change, LayerFile, LayerFiles};

/// Version of the entries' format; a folder per version, so that a later format never reads
/// (nor warns about) an earlier one's entries.
pub const LAYER_CACHE_FORMAT: u32 = 2;

/// The largest entry read: a layer of a million files with long paths stays far below it.
pub const MAX_ENTRY_BYTES: u64 = 256 << 20;

/// Environment variable naming the folder stagebench keeps its caches in, instead of
/// `$XDG_CACHE_HOME/stagebench` (or `~/.cache/stagebench`).
pub const CACHE_DIR_VARIABLE: &str = "STAGEBENCH_CACHE_DIR";

/// What produced `compressed_bytes`: an entry from another compressor or level is not used.
const COMPRESSOR: &str = "gzp-gzip";

/// One layer's analysis, apart from what the image it sits in decides (its instruction, its waste).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct KnownLayer {
    /// Bytes of its uncompressed tar, as the export holds it.
    pub tar_bytes: u64,
    /// Its tar after gzip at [`PUSH_GZIP_LEVEL`].
    pub compressed_bytes: u64,
    /// Its files and whiteouts.
    pub files: LayerFiles,
}

/// Layer analyses by diff ID: for the run, and in `dir` when there is one.
#[derive(Debug, Default)]
pub struct LayerCache {
    dir: Option<PathBuf>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    known: HashMap<String, Arc<KnownLayer>>,
    /// Sentences about entries that were ignored or could not be written, not yet reported.
    warnings: Vec<String>,
    /// Writing failed once; the folder is not tried again in this run.
    write_failed: bool,
    /// Whether the folder may be used, once asked: `Some(false)` after it was refused.
    folder_checked: Option<bool>,
}

/// An entry as it is stored.
#[derive(Serialize, Deserialize)]
struct Entry {
    format: u32,
    /// The sha256 of the entry written with this field empty: damage anywhere shows.
    #[serde(default)]
    check: String,
    diff_id: String,
    compressor: String,
    gzip_level: u32,
    tar_bytes: u64,
    compressed_bytes: u64,
    /// `[path, bytes, change]` with change `w` (written), `d` (deleted) or `o` (opaque
    /// directory): a quarter of the size of named fields for a layer of thousands of files.
    files: Vec<(String, u64, char)>,
}

impl LayerCache {
    /// A cache kept for the run only.
    pub fn in_memory() -> LayerCache {
        LayerCache::default()
    }

    /// A cache that also reads and writes entries under `dir` (made when first written).
    pub fn in_dir(dir: impl Into<PathBuf>) -> LayerCache {
        LayerCache {
            dir: Some(dir.into()),
            state: Mutex::default(),
        }
    }

    /// The cache at its usual place: `layers-v2` under [`CACHE_DIR_VARIABLE`] when set, else
    /// under `$XDG_CACHE_HOME/stagebench` or `~/.cache/stagebench`; for the run only when none
    /// of those can be told.
    pub fn at_default_location() -> LayerCache {
        // The library's own tests run whole runs on a fake engine; they keep out of the user's
        // cache folder.
        if cfg!(test) {
            return LayerCache::in_memory();
        }
        match default_dir() {
            Some(dir) => LayerCache::in_dir(dir),
            None => LayerCache::in_memory(),
        }
    }

    /// The folder entries are kept in, if any.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held leaves only a map of complete entries behind.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sentences about ignored or unwritable entries since the last call.
    pub fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut self.state().warnings)
    }

    /// The layer `diff_id`, from memory or else from the folder.
    pub(super) fn get(&self, diff_id: &str) -> Option<Arc<KnownLayer>> {
        // A digest's hex is case-free: both spellings are one layer and one entry.
        let diff_id = diff_id.to_ascii_lowercase();
        if let Some(known) = self.state().known.get(&diff_id) {
            return Some(Arc::clone(known));
        }
        let path = self.entry_path(&diff_id)?;
        let loaded = match read_entry(&path) {
            Ok(bytes) => decode(&diff_id, &bytes),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
            Err(error) => Err(error.to_string()),
        };
        let mut state = self.state();
        match loaded {
            Ok(known) => {
                let known = Arc::new(known);
                state.known.insert(diff_id, Arc::clone(&known));
                Some(known)
            }
            Err(reason) => {
                state.warnings.push(format!(
                    "the layer cache entry {} is ignored and the layer analysed again: {reason}",
                    path.display()
                ));
                None
            }
        }
    }

    /// Keeps the layer `diff_id` for the run and, when there is a folder, for later runs.
    pub(super) fn put(&self, diff_id: &str, known: KnownLayer) {
        let diff_id = diff_id.to_ascii_lowercase();
        let known = Arc::new(known);
        let (write_failed, unchanged) = {
            let mut state = self.state();
            let unchanged = state.known.get(&diff_id).is_some_and(|k| **k == *known);
            state.known.insert(diff_id.clone(), Arc::clone(&known));
            (state.write_failed, unchanged)
        };
        // What the folder already holds (it was read from there, or written this run) is not
        // written again.
        if unchanged {
            return;
        }
        let Some(path) = self.entry_path(&diff_id).filter(|_| !write_failed) else {
            return;
        };
        if let Err(error) = write_atomically(&path, &encode(&diff_id, &known)) {
            let mut state = self.state();
            state.write_failed = true;
            state.warnings.push(format!(
                "layer analyses are not kept for later runs: writing {} failed: {error}",
                path.display()
            ));
        }
    }

    /// `diff_ids` without the known layers of `tar_bytes` bytes: what an analysis may still
    /// expect after a layer of that size turned out to be new.
    pub fn expected_without_size(&self, diff_ids: &[String], tar_bytes: u64) -> Vec<String> {
        diff_ids
            .iter()
            .filter(|id| {
                self.get(id)
                    .is_none_or(|known| known.tar_bytes != tar_bytes)
            })
            .cloned()
            .collect()
    }

    /// Where the entry for `diff_id` lives; `None` without a folder or for a name that is not a
    /// sha256 digest (which could not be a file name safely).
    fn entry_path(&self, diff_id: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        let hex = diff_id.strip_prefix("sha256:")?;
        let is_digest = hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit());
        (is_digest && self.folder_usable(dir))
            .then(|| dir.join(format!("{}.json", hex.to_ascii_lowercase())))
    }

    /// Whether `dir` may be read and written, asked once per cache (see the module's text); it
    /// is made, private to the user, when missing. A refusal is a warning, and the cache then
    /// keeps layers for the run only.
    fn folder_usable(&self, dir: &Path) -> bool {
        if let Some(usable) = self.state().folder_checked {
            return usable;
        }
        let verdict = check_folder(dir);
        let mut state = self.state();
        if let Err(reason) = &verdict {
            state.warnings.push(format!(
                "layer analyses are not kept in {} for later runs, nor read from it: {reason}",
                dir.display()
            ));
        }
        state.folder_checked = Some(verdict.is_ok());
        verdict.is_ok()
    }
}

/// `Ok` when `dir` (made, private to the user, when missing) and its parent are real
/// directories of the user running stagebench that no one else may write.
fn check_folder(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    if std::fs::symlink_metadata(dir).is_err() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("it cannot be made: {e}"))?;
    }
    // `/proc/self` belongs to the process's effective user: its owner, without unsafe code.
    let me = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
    for (folder, what) in [(dir, "it"), (dir.parent().unwrap_or(dir), "its parent")] {
        let meta =
            std::fs::symlink_metadata(folder).map_err(|e| format!("{what} cannot be read: {e}"))?;
        if meta.file_type().is_symlink() {
            return Err(format!("{what} is a symbolic link"));
        }
        if !meta.is_dir() {
            return Err(format!("{what} is not a directory"));
        }
        if me.is_some_and(|me| meta.uid() != me && meta.uid() != 0) {
            return Err(format!("{what} belongs to another user"));
        }
        // Writable by others without the sticky bit (which /tmp has) lets them swap entries.
        if meta.mode() & 0o022 != 0 && meta.mode() & 0o1000 == 0 {
            return Err(format!("others may write {what}"));
        }
    }
    Ok(())
}

/// The entry at `path`: a regular file, opened without following a link, at most
/// [`MAX_ENTRY_BYTES`].
fn read_entry(path: &Path) -> std::io::Result<Vec<u8>> {
    crate::text_file::read_no_follow_at_most(path, MAX_ENTRY_BYTES)
}

/// `layers-v2` under stagebench's own cache folder.
fn default_dir() -> Option<PathBuf> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let root = if let Some(dir) = non_empty(CACHE_DIR_VARIABLE) {
        PathBuf::from(dir)
    } else if let Some(xdg) = non_empty("XDG_CACHE_HOME") {
        Path::new(&xdg).join("stagebench")
    } else {
        Path::new(&non_empty("HOME")?)
            .join(".cache")
            .join("stagebench")
    };
    Some(root.join(format!("layers-v{LAYER_CACHE_FORMAT}")))
}

/// The hex sha256 of `entry` as written with its `check` empty.
fn checksum(entry: &mut Entry) -> String {
    use sha2::{Digest, Sha256};
    let check = std::mem::take(&mut entry.check);
    // Serialising plain strings, numbers and chars cannot fail.
    let digest = Sha256::digest(serde_json::to_vec(entry).unwrap_or_default());
    entry.check = check;
    super::hex(&digest)
}

fn encode(diff_id: &str, known: &KnownLayer) -> Vec<u8> {
    let mut entry = Entry {
        format: LAYER_CACHE_FORMAT,
        check: String::new(),
        diff_id: diff_id.to_string(),
        compressor: COMPRESSOR.to_string(),
        gzip_level: PUSH_GZIP_LEVEL,
        tar_bytes: known.tar_bytes,
        compressed_bytes: known.compressed_bytes,
        files: known
            .files
            .iter()
            .map(|f| {
                let change = match f.change {
                    Change::Write => 'w',
                    Change::Delete => 'd',
                    Change::Opaque => 'o',
                };
                (f.path.clone(), f.bytes, change)
            })
            .collect(),
    };
    entry.check = checksum(&mut entry);
    // Serialising plain strings, numbers and chars cannot fail; an empty entry would be
    // rejected on reading anyway.
    serde_json::to_vec(&entry).unwrap_or_default()
}

fn decode(diff_id: &str, bytes: &[u8]) -> Result<KnownLayer, String> {
    let mut entry: Entry =
        serde_json::from_slice(bytes).map_err(|e| format!("not an entry: {e}"))?;
    let expected = checksum(&mut entry);
    if entry.check != expected {
        return Err("its checksum does not match what it holds".to_string());
    }
    if entry.format != LAYER_CACHE_FORMAT {
        return Err(format!(
            "format {} where {LAYER_CACHE_FORMAT} was expected",
            entry.format
        ));
    }
    if entry.diff_id != diff_id {
        return Err(format!("it describes {} instead", entry.diff_id));
    }
    if entry.compressor != COMPRESSOR || entry.gzip_level != PUSH_GZIP_LEVEL {
        return Err(format!(
            "its pull size comes from {} level {}, not {COMPRESSOR} level {PUSH_GZIP_LEVEL}",
            entry.compressor, entry.gzip_level
        ));
    }
    let files = entry
        .files
        .into_iter()
        .map(|(path, bytes, change)| {
            let change = match change {
                'w' => Change::Write,
                'd' => Change::Delete,
                'o' => Change::Opaque,
                other => return Err(format!("unknown change {other:?} for {path}")),
            };
            if change != Change::Write && bytes != 0 {
                return Err(format!("the whiteout {path} has {bytes} bytes"));
            }
            Ok(LayerFile {
                path,
                bytes,
                change,
            })
        })
        .collect::<Result<LayerFiles, String>>()?;
    // Every file's bytes sit in the tar (with headers and padding around them).
    let file_bytes = files
        .iter()
        .try_fold(0_u64, |sum, f| sum.checked_add(f.bytes))
        .filter(|sum| *sum <= entry.tar_bytes)
        .ok_or_else(|| {
            format!(
                "its files hold more bytes than its tar's {}",
                entry.tar_bytes
            )
        })?;
    debug_assert!(file_bytes <= entry.tar_bytes);
    // Deflate never grows data by more than a few bytes a block: anything larger is not a
    // compression of this tar.
    if entry.compressed_bytes > most_compressed_bytes(entry.tar_bytes) {
        return Err(format!(
            "its pull size of {} bytes is more than a gzip of its {}-byte tar can be",
            entry.compressed_bytes, entry.tar_bytes
        ));
    }
    Ok(KnownLayer {
        tar_bytes: entry.tar_bytes,
        compressed_bytes: entry.compressed_bytes,
        files,
    })
}

/// The most bytes a gzip of `tar_bytes` bytes can take, with room to spare: deflate's stored
/// blocks add 5 bytes per 64 KiB, the parallel compressor a few per block of its own, and the
/// gzip header and trailer 18.
pub(super) fn most_compressed_bytes(tar_bytes: u64) -> u64 {
    tar_bytes
        .saturating_add(tar_bytes / 1024)
        .saturating_add(1024)
}

/// Writes `bytes` to a temporary file in `path`'s folder and renames it to `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut partial = tempfile::NamedTempFile::new_in(dir)?;
    partial.write_all(bytes)?;
    partial.as_file().sync_all()?;
    partial.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn layer() -> KnownLayer {
        KnownLayer {
            tar_bytes: 10_240,
            compressed_bytes: 321,
            files: vec![
                LayerFile {
                    path: "etc/motd".to_string(),
                    bytes: 6,
                    change: Change::Write,
                },
                LayerFile {
                    path: "tmp/gone".to_string(),
                    bytes: 0,
                    change: Change::Delete,
                },
                LayerFile {
                    path: "var/cache".to_string(),
                    bytes: 0,
                    change: Change::Opaque,
                },
            ],
        }
    }

    #[test]
    fn an_entry_stored_is_loaded_by_a_later_cache() {
        let dir = tempfile::tempdir().unwrap();
        LayerCache::in_dir(dir.path()).put(DIGEST, layer());
        let later = LayerCache::in_dir(dir.path());
        assert_eq!(later.get(DIGEST).as_deref(), Some(&layer()));
        assert!(later.take_warnings().is_empty());
        // No temporary file is left beside the entry.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec![format!("{}.json", &DIGEST[7..])]);
    }

    #[test]
    fn a_cache_in_memory_keeps_layers_for_the_run() {
        let cache = LayerCache::in_memory();
        assert_eq!(cache.get(DIGEST), None);
        cache.put(DIGEST, layer());
        assert_eq!(cache.get(DIGEST).as_deref(), Some(&layer()));
        assert!(cache.take_warnings().is_empty());
    }

    #[test]
    fn a_damaged_entry_is_ignored_with_a_warning() {
        let good = encode(DIGEST, &layer());
        let text = String::from_utf8(good.clone()).unwrap();
        let other = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        let damaged: Vec<(&str, Vec<u8>)> = vec![
            ("truncated", good[..good.len() / 2].to_vec()),
            ("empty", Vec::new()),
            ("garbage", b"\x00\xff not json".to_vec()),
            (
                "another format",
                text.replace("\"format\":2", "\"format\":3").into_bytes(),
            ),
            (
                "one digit of the pull size changed",
                text.replace("\"compressed_bytes\":321", "\"compressed_bytes\":322")
                    .into_bytes(),
            ),
            (
                "a path changed",
                text.replace("etc/motd", "etc/mote").into_bytes(),
            ),
            ("another layer", text.replace(DIGEST, other).into_bytes()),
            (
                "another level",
                text.replace("\"gzip_level\":6", "\"gzip_level\":9")
                    .into_bytes(),
            ),
            (
                "an unknown change",
                text.replace("\"o\"]", "\"x\"]").into_bytes(),
            ),
            (
                "more file bytes than the tar",
                text.replace("\"tar_bytes\":10240", "\"tar_bytes\":2")
                    .into_bytes(),
            ),
        ];
        for (what, bytes) in damaged {
            assert_ne!(bytes, good, "{what}: the damage changed nothing");
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(format!("{}.json", &DIGEST[7..]));
            std::fs::write(&path, &bytes).unwrap();
            let cache = LayerCache::in_dir(dir.path());
            assert_eq!(cache.get(DIGEST), None, "{what}");
            let warnings = cache.take_warnings();
            assert_eq!(warnings.len(), 1, "{what}: {warnings:?}");
            assert!(
                warnings[0].contains(&path.display().to_string())
                    && warnings[0].contains("analysed again"),
                "{what}: {warnings:?}"
            );
            // Storing the layer again repairs the entry.
            cache.put(DIGEST, layer());
            assert_eq!(
                LayerCache::in_dir(dir.path()).get(DIGEST).as_deref(),
                Some(&layer()),
                "{what}"
            );
        }
    }

    #[test]
    fn an_entry_whose_sizes_no_tar_of_its_size_could_give_is_ignored_though_its_checksum_holds() {
        let huge_pull = KnownLayer {
            compressed_bytes: 1 << 40,
            ..layer()
        };
        assert!(decode(DIGEST, &encode(DIGEST, &huge_pull)).is_err());
        // Two files of 2^63 bytes would add up to 0 if the sum wrapped.
        let wrapping = KnownLayer {
            files: vec![
                LayerFile {
                    path: "a".to_string(),
                    bytes: 1 << 63,
                    change: Change::Write,
                },
                LayerFile {
                    path: "b".to_string(),
                    bytes: 1 << 63,
                    change: Change::Write,
                },
            ],
            ..layer()
        };
        assert!(decode(DIGEST, &encode(DIGEST, &wrapping)).is_err());
        assert_eq!(decode(DIGEST, &encode(DIGEST, &layer())), Ok(layer()));
    }

    #[test]
    fn an_entry_that_is_a_link_or_a_fifo_is_never_read_through() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere.json");
        std::fs::write(&target, encode(DIGEST, &layer())).unwrap();
        let entry = dir.path().join(format!("{}.json", &DIGEST[7..]));
        std::os::unix::fs::symlink(&target, &entry).unwrap();
        let cache = LayerCache::in_dir(dir.path());
        assert_eq!(cache.get(DIGEST), None, "a link is not followed");
        assert_eq!(cache.take_warnings().len(), 1);
        std::fs::remove_file(&entry).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(&entry)
            .status()
            .unwrap();
        assert!(made.success());
        // Opened without blocking, and refused as not a regular file: the test ends.
        let cache = LayerCache::in_dir(dir.path());
        assert_eq!(cache.get(DIGEST), None);
        assert_eq!(cache.take_warnings().len(), 1);
    }

    #[test]
    fn a_folder_others_may_write_or_a_linked_one_is_not_used() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let open = root.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        std::fs::write(
            open.join(format!("{}.json", &DIGEST[7..])),
            encode(DIGEST, &layer()),
        )
        .unwrap();
        let linked = root.path().join("linked");
        std::os::unix::fs::symlink(&open, &linked).unwrap();
        for dir in [&open, &linked] {
            let cache = LayerCache::in_dir(dir);
            assert_eq!(cache.get(DIGEST), None, "{}", dir.display());
            let warnings = cache.take_warnings();
            assert_eq!(warnings.len(), 1, "{warnings:?}");
            assert!(warnings[0].contains("not kept in"), "{warnings:?}");
            // The run still keeps what it learns, and writes nothing there.
            cache.put(DIGEST, layer());
            assert_eq!(cache.get(DIGEST).as_deref(), Some(&layer()));
        }
        assert_eq!(std::fs::read_dir(&open).unwrap().count(), 1);
        // A missing folder is made private to the user.
        let made = root.path().join("made/layers");
        LayerCache::in_dir(&made).put(DIGEST, layer());
        let mode = std::fs::metadata(&made).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn both_spellings_of_a_digest_are_one_entry() {
        let dir = tempfile::tempdir().unwrap();
        let upper = format!("sha256:{}", DIGEST[7..].to_ascii_uppercase());
        LayerCache::in_dir(dir.path()).put(&upper, layer());
        let later = LayerCache::in_dir(dir.path());
        assert_eq!(later.get(DIGEST).as_deref(), Some(&layer()));
        assert!(later.take_warnings().is_empty());
    }

    #[test]
    fn an_unreadable_entry_is_ignored_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the entry's file should be: reading it fails, whoever runs the test.
        std::fs::create_dir(dir.path().join(format!("{}.json", &DIGEST[7..]))).unwrap();
        let cache = LayerCache::in_dir(dir.path());
        assert_eq!(cache.get(DIGEST), None);
        assert_eq!(cache.take_warnings().len(), 1);
    }

    #[test]
    fn a_folder_that_cannot_be_written_leaves_the_run_cache_working() {
        let dir = tempfile::tempdir().unwrap();
        let blocked = dir.path().join("file");
        std::fs::write(&blocked, "not a folder").unwrap();
        let cache = LayerCache::in_dir(blocked.join("layers"));
        cache.put(DIGEST, layer());
        assert_eq!(cache.get(DIGEST).as_deref(), Some(&layer()));
        let warnings = cache.take_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        // It says so once, not for every layer.
        cache.put(
            "sha256:2222222222222222222222222222222222222222222222222222222222222222",
            layer(),
        );
        assert!(cache.take_warnings().is_empty());
    }

    #[test]
    fn names_that_are_not_digests_never_become_paths() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LayerCache::in_dir(dir.path());
        for name in ["sha256:../../etc/passwd", "", "sha256:abc", "md5:0123"] {
            cache.put(name, layer());
            assert_eq!(cache.get(name).as_deref(), Some(&layer()), "{name}");
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
