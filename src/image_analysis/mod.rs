//! What an image is made of, read from the daemon's export of it (`docker save`) in one
//! streaming pass: each layer's files and bytes, the instruction that made it, its size after the
//! gzip compression a registry push applies, and the bytes that lower layers hold but later ones
//! delete or overwrite.
//!
//! The export is a tar of tars. It is read entry by entry and never held in memory: each layer's
//! bytes flow once through a tee into a parallel gzip compressor (whose output is only counted)
//! while its own tar headers are read for the file list. The small JSON documents (the image
//! config with its history, the manifest with the layer order) are kept whole.
//!
//! Both layouts a daemon may write are read: `docker save` of Docker 20.10 (`<id>/layer.tar`,
//! identical layers as symbolic links to one another, `manifest.json` last) and the OCI layout of
//! later engines (`blobs/sha256/<digest>`, `manifest.json` with the same `Layers` list).

mod cache;
mod waste;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use gzp::ZWriter;
use gzp::deflate::Gzip;
use gzp::par::compress::{ParCompress, ParCompressBuilder};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use cache::KnownLayer;
pub use cache::{CACHE_DIR_VARIABLE, LAYER_CACHE_FORMAT, LayerCache};
use waste::{LayerFile, LayerFiles};
pub use waste::{WasteKind, WastedFile};

/// The gzip level a push uses: Docker compresses layers with Go's `gzip.DefaultCompression`,
/// which is level 6, the same level `gzip` defaults to.
pub const PUSH_GZIP_LEVEL: u32 = 6;

/// The largest JSON document (config, manifest) kept whole; a real one is a few kilobytes.
const MAX_DOCUMENT_BYTES: u64 = 16 << 20;

/// The most bytes of such documents one export may hold: a real one has two or three per image.
const MAX_DOCUMENTS_BYTES: u64 = 64 << 20;

/// Layers smaller than this are compressed as they stream even when one of the image's known
/// layers has their size: compressing them costs little, and small layers of equal size (a
/// directory made here, a small file copied there) are common enough that guessing could cost
/// a second export.
pub const FORESEEN_LAYER_MIN_BYTES: u64 = 1 << 20;

/// How many of the largest wasted files an analysis keeps.
pub const TOP_WASTED_FILES: usize = 10;

/// One layer of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerAnalysis {
    /// The layer's diff ID (`sha256:` of its uncompressed tar), from the image config.
    pub diff_id: String,
    /// The instruction that made it, as the image history records it, cleaned of the shell
    /// prefix and builder markers (`RUN apt-get install -y gcc`).
    pub created_by: String,
    /// Bytes of the files it adds or changes (what `docker history` calls its size).
    pub bytes: u64,
    /// Its tar after gzip at [`PUSH_GZIP_LEVEL`]: what a push would transfer for it.
    pub compressed_bytes: u64,
    /// Files (regular files and links) it adds or changes.
    pub files: u64,
    /// Of `bytes`, what later layers delete or overwrite: carried by the image, never visible.
    pub wasted_bytes: u64,
}

/// An image, layer by layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageAnalysis {
    /// Layers from the bottom (the base image's first) up.
    pub layers: Vec<LayerAnalysis>,
    /// The largest wasted files, largest first (at most [`TOP_WASTED_FILES`]).
    pub top_wasted: Vec<WastedFile>,
}

impl ImageAnalysis {
    /// Sum of the layers' compressed sizes: the bytes a push of the whole image would transfer
    /// (its config, a few kilobytes, aside).
    pub fn compressed_bytes(&self) -> u64 {
        self.layers
            .iter()
            .map(|l| l.compressed_bytes)
            .fold(0, u64::saturating_add)
    }

    /// Bytes lower layers hold that later layers delete or overwrite.
    pub fn wasted_bytes(&self) -> u64 {
        self.layers
            .iter()
            .map(|l| l.wasted_bytes)
            .fold(0, u64::saturating_add)
    }
}

/// The export could not be read as an image.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// Reading the stream failed.
    #[error("reading the image export failed: {0}")]
    Read(#[from] io::Error),
    /// The export lacks something every image export has, or holds something malformed.
    #[error("the image export is not a saved image: {0}")]
    Format(String),
    /// The compressor failed.
    #[error("compressing a layer failed: {0}")]
    Compress(String),
    /// A layer taken for a known one by its size turned out to be new, so it was not
    /// compressed; reading the export again without expecting the known layers of that size
    /// analyses it.
    #[error("the layer {diff_id} has the size of a known layer but not its bytes")]
    UnforeseenLayer {
        /// Its digest, as hashed.
        diff_id: String,
        /// Its size, which it shares with a known layer of the image.
        tar_bytes: u64,
    },
}

/// One layer tar as read from the export, before the manifest says where it goes.
struct ReadLayer {
    files: Vec<LayerFile>,
    compressed_bytes: u64,
    /// The sha256 of its bytes as they streamed (`sha256:<hex>`): the config's diff ID for it.
    diff_id: String,
}

#[derive(Deserialize)]
struct ManifestEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

#[derive(Deserialize)]
struct ImageConfig {
    #[serde(default)]
    history: Vec<HistoryEntry>,
    rootfs: RootFs,
}

#[derive(Deserialize)]
struct HistoryEntry {
    #[serde(default)]
    created_by: String,
    #[serde(default)]
    empty_layer: bool,
}

#[derive(Deserialize)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

/// Reads an image export (`GET /images/{name}/get`) from `export`, compressing each layer with
/// `threads` threads.
pub fn analyze_export(export: impl Read, threads: usize) -> Result<ImageAnalysis, AnalysisError> {
    analyze_export_cached(export, threads, &LayerCache::in_memory(), &[])
}

/// [`analyze_export`], taking what `cache` knows of a layer instead of compressing it again, and
/// keeping there what it learns. `diff_ids` are the layers the image is expected to hold (its
/// `RootFS.Layers`), which tells which of the export's layers may be known before their bytes
/// are read; the result is the same whatever they are.
///
/// A layer is known by the sha256 of its bytes, which the export names only in the OCI layout
/// (`blobs/sha256/<digest>`); Docker 20.10 names it by an ID made of other things, so its
/// digest is known only once its bytes have gone past. A layer whose size is that of a known
/// layer of this image (and at least [`FORESEEN_LAYER_MIN_BYTES`]) is taken to be that layer:
/// it is only hashed (several times faster than compressing) and its file list read. Should its
/// digest turn out unknown after all, the analysis stops with
/// [`AnalysisError::UnforeseenLayer`], having kept what it learnt of the other layers, and the
/// caller reads the export again with `diff_ids` empty. Any other layer is compressed as it
/// streams and kept under the digest hashed on the way. Keeping each layer in a temporary file
/// until its digest is known would spare that second export, at the cost of writing every
/// known layer to disk on every analysis.
pub fn analyze_export_cached(
    export: impl Read,
    threads: usize,
    cache: &LayerCache,
    diff_ids: &[String],
) -> Result<ImageAnalysis, AnalysisError> {
    let known_sizes: BTreeSet<u64> = diff_ids
        .iter()
        .filter_map(|diff_id| cache.get(diff_id))
        .map(|known| known.tar_bytes)
        .collect();
    let mut archive = tar::Archive::new(export);
    let mut layers: BTreeMap<String, ReadLayer> = BTreeMap::new();
    let mut links: BTreeMap<String, String> = BTreeMap::new();
    let mut documents: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut documents_bytes = 0_u64;
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry
            .path()?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        let kind = entry.header().entry_type();
        if kind.is_symlink() {
            if let Some(target) = entry.link_name()? {
                links.insert(path.clone(), resolve(&path, &target.to_string_lossy()));
            }
            continue;
        }
        if !kind.is_file() {
            continue;
        }
        let mut first_block = [0u8; 512];
        let filled = read_up_to(&mut entry, &mut first_block)?;
        if looks_like_tar(&first_block[..filled]) {
            let tar_bytes = entry.size();
            let named = path
                .strip_prefix("blobs/sha256/")
                .and_then(|hex| cache.get(&format!("sha256:{hex}")))
                .filter(|known| known.tar_bytes == tar_bytes);
            let layer = if named.is_some() {
                // The OCI layout names the blob by its digest, so it need not be compressed;
                // it is still hashed and listed, so that a blob whose bytes are not its name's
                // is caught rather than given the named layer's figures.
                let (files, diff_id, _) = hash_and_list(&first_block[..filled], &mut entry)?;
                match named.filter(|_| {
                    diff_id.strip_prefix("sha256:") == path.strip_prefix("blobs/sha256/")
                }) {
                    Some(known) => ReadLayer {
                        files,
                        compressed_bytes: known.compressed_bytes,
                        diff_id,
                    },
                    None => {
                        return Err(AnalysisError::Format(format!(
                            "the blob {path} holds bytes whose digest is {diff_id}"
                        )));
                    }
                }
            } else if tar_bytes >= FORESEEN_LAYER_MIN_BYTES && known_sizes.contains(&tar_bytes) {
                read_known_layer(&first_block[..filled], &mut entry, cache)?
            } else {
                read_layer(&first_block[..filled], &mut entry, threads, cache)?
            };
            layers.insert(path, layer);
        } else if entry.size() <= MAX_DOCUMENT_BYTES {
            documents_bytes = documents_bytes.saturating_add(entry.size());
            if documents_bytes > MAX_DOCUMENTS_BYTES {
                return Err(AnalysisError::Format(format!(
                    "it holds more than {MAX_DOCUMENTS_BYTES} bytes of files that are neither layers nor large, where an image's config and manifest take kilobytes"
                )));
            }
            let mut bytes = first_block[..filled].to_vec();
            entry.read_to_end(&mut bytes)?;
            documents.insert(path, bytes);
        }
    }
    assemble(layers, &links, &documents)
}

/// Orders the layers as the manifest lists them and names each with its history entry.
fn assemble(
    read: BTreeMap<String, ReadLayer>,
    links: &BTreeMap<String, String>,
    documents: &BTreeMap<String, Vec<u8>>,
) -> Result<ImageAnalysis, AnalysisError> {
    let format = |message: String| AnalysisError::Format(message);
    let manifest = documents
        .get("manifest.json")
        .ok_or_else(|| format("it has no manifest.json".to_string()))?;
    let manifest: Vec<ManifestEntry> =
        serde_json::from_slice(manifest).map_err(|e| format(format!("manifest.json: {e}")))?;
    let image = manifest
        .into_iter()
        .next()
        .ok_or_else(|| format("manifest.json lists no image".to_string()))?;
    let config = documents
        .get(&image.config)
        .ok_or_else(|| format(format!("it has no {}", image.config)))?;
    let config: ImageConfig =
        serde_json::from_slice(config).map_err(|e| format(format!("{}: {e}", image.config)))?;
    let mut created_by: Vec<String> = config
        .history
        .iter()
        .filter(|h| !h.empty_layer)
        .map(|h| clean_instruction(&h.created_by))
        .collect();
    // A history that does not make as many layers as the image has cannot say which made which:
    // no instruction is named rather than each shifted onto another layer.
    if created_by.len() != image.layers.len() {
        created_by.clear();
    }
    if config.rootfs.diff_ids.len() != image.layers.len() {
        return Err(format(format!(
            "{} names {} layers where manifest.json lists {}",
            image.config,
            config.rootfs.diff_ids.len(),
            image.layers.len()
        )));
    }

    let mut ordered: Vec<(LayerFiles, u64)> = Vec::with_capacity(image.layers.len());
    for (name, diff_id) in image.layers.iter().zip(&config.rootfs.diff_ids) {
        let mut target = name.clone();
        // A link may point at another link; a loop would never end, so follow a few at most.
        for _ in 0..8 {
            match links.get(&target) {
                Some(next) => target = next.clone(),
                None => break,
            }
        }
        let layer = read
            .get(&target)
            .ok_or_else(|| format(format!("it lacks the layer {name}")))?;
        if !layer.diff_id.eq_ignore_ascii_case(diff_id) {
            return Err(format(format!(
                "the layer {name} hashes to {}, not to the {diff_id} the image config names",
                layer.diff_id
            )));
        }
        ordered.push((layer.files.clone(), layer.compressed_bytes));
    }
    let (wasted_per_layer, top_wasted) = waste::wasted(
        ordered.iter().map(|(files, _)| files.as_slice()),
        TOP_WASTED_FILES,
    );
    let layers = ordered
        .iter()
        .enumerate()
        .map(|(index, (files, compressed_bytes))| LayerAnalysis {
            diff_id: config.rootfs.diff_ids[index].clone(),
            created_by: created_by.get(index).cloned().unwrap_or_default(),
            bytes: files.iter().map(|f| f.bytes).fold(0, u64::saturating_add),
            compressed_bytes: *compressed_bytes,
            files: files.iter().filter(|f| !f.is_whiteout()).count() as u64,
            wasted_bytes: wasted_per_layer.get(index).copied().unwrap_or_default(),
        })
        .collect();
    Ok(ImageAnalysis { layers, top_wasted })
}

/// A path relative to the directory of `link`, as a symbolic link in the export names it.
fn resolve(link: &str, target: &str) -> String {
    let mut parts: Vec<&str> = link.split('/').collect();
    parts.pop();
    for part in target.split('/') {
        match part {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            part => parts.push(part),
        }
    }
    parts.join("/")
}

/// A tar's first block: a ustar header, or the zeros that end an empty archive.
fn looks_like_tar(block: &[u8]) -> bool {
    block.len() == 512 && (block[257..262] == *b"ustar" || block.iter().all(|b| *b == 0))
}

/// Fills `buffer` as far as the reader allows; returns how much it read.
fn read_up_to(reader: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// A parallel gzip compressor at [`PUSH_GZIP_LEVEL`] whose output is only counted.
fn compressor(
    threads: usize,
) -> Result<(ParCompress<'static, Gzip, ByteCounter>, Arc<AtomicU64>), AnalysisError> {
    let counted = Arc::new(AtomicU64::new(0));
    let compressor = ParCompressBuilder::<Gzip>::new()
        .num_threads(threads.max(1))
        .map_err(|e| AnalysisError::Compress(e.to_string()))?
        .compression_level(gzp::Compression::new(PUSH_GZIP_LEVEL))
        .from_writer(ByteCounter(Arc::clone(&counted)));
    Ok((compressor, counted))
}

/// Reads one layer tar (its first block already read) through the compressor and its headers
/// into a file list, and keeps what it found in `cache` under the layer's digest.
fn read_layer(
    first_block: &[u8],
    rest: &mut impl Read,
    threads: usize,
    cache: &LayerCache,
) -> Result<ReadLayer, AnalysisError> {
    let (mut compressor, counted) = compressor(threads)?;
    let mut hashing = Hashing::new(first_block.chain(rest));
    let files = {
        let mut tee = Tee {
            inner: &mut hashing,
            sink: &mut compressor,
        };
        let files = waste::list_layer(&mut tee)?;
        // The layer's padding after its end-of-archive blocks is part of what a push sends.
        io::copy(&mut tee, &mut io::sink())?;
        files
    };
    compressor
        .finish()
        .map_err(|e| AnalysisError::Compress(e.to_string()))?;
    let compressed_bytes = counted.load(Ordering::Relaxed);
    let (diff_id, tar_bytes) = hashing.finish();
    cache.put(
        &diff_id,
        KnownLayer {
            tar_bytes,
            compressed_bytes,
            files: files.clone(),
        },
    );
    Ok(ReadLayer {
        files,
        compressed_bytes,
        diff_id,
    })
}

/// Reads one layer tar (its first block already read) for its digest and file list only,
/// expecting `cache` to know its digest; [`AnalysisError::UnforeseenLayer`] when it does not.
fn read_known_layer(
    first_block: &[u8],
    rest: &mut impl Read,
    cache: &LayerCache,
) -> Result<ReadLayer, AnalysisError> {
    let (files, diff_id, tar_bytes) = hash_and_list(first_block, rest)?;
    match cache.get(&diff_id).filter(|k| k.tar_bytes == tar_bytes) {
        Some(known) => Ok(ReadLayer {
            files,
            compressed_bytes: known.compressed_bytes,
            diff_id,
        }),
        None => Err(AnalysisError::UnforeseenLayer { diff_id, tar_bytes }),
    }
}

/// Reads one layer tar (its first block already read) for its file list, its digest and its
/// size, without compressing it.
fn hash_and_list(
    first_block: &[u8],
    rest: &mut impl Read,
) -> Result<(LayerFiles, String, u64), AnalysisError> {
    let mut hashing = Hashing::new(first_block.chain(rest));
    let files = waste::list_layer(&mut hashing)?;
    io::copy(&mut hashing, &mut io::sink())?;
    let (diff_id, tar_bytes) = hashing.finish();
    Ok((files, diff_id, tar_bytes))
}

/// Hashes and counts what is read through it: a layer's diff ID is the sha256 of its tar.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Hashing<R> {
    fn new(inner: R) -> Hashing<R> {
        Hashing {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The diff ID (`sha256:<hex>`) and size of what was read.
    fn finish(self) -> (String, u64) {
        (
            format!("sha256:{}", hex(&self.hasher.finalize())),
            self.bytes,
        )
    }
}

/// `bytes` as lowercase hex digits, as a digest is written.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buffer)?;
        self.hasher.update(&buffer[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Passes what it reads on to `sink` as well.
struct Tee<'a, R, W: ?Sized> {
    inner: R,
    sink: &'a mut W,
}

impl<R: Read, W: Write + ?Sized> Read for Tee<'_, R, W> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buffer)?;
        self.sink.write_all(&buffer[..n])?;
        Ok(n)
    }
}

/// A writer that keeps only the count of what it was given: the compressed layer itself is
/// not needed, its size is.
struct ByteCounter(Arc<AtomicU64>);

impl Write for ByteCounter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `RUN apt-get install -y gcc` from the history's `RUN |1 A=1 /bin/sh -c apt-get install -y gcc
/// # buildkit` (BuildKit) or `|1 A=1 /bin/sh -c apt-get install -y gcc` (classic), and `COPY
/// file:ab12… in /app` from the classic builder's `/bin/sh -c #(nop) COPY file:ab12… in /app`.
pub fn clean_instruction(created_by: &str) -> String {
    let text = created_by.trim();
    let text = text.strip_suffix("# buildkit").unwrap_or(text).trim_end();
    if let Some(rest) = text.strip_prefix("/bin/sh -c #(nop)") {
        return rest.trim().to_string();
    }
    let (run, rest) = match text.strip_prefix("RUN ") {
        Some(rest) => (true, rest.trim_start()),
        None => (false, text),
    };
    // Build arguments in effect come first: `|2 A=1 B=2 /bin/sh -c make`.
    let command = if rest.starts_with('|') {
        rest.split_once("/bin/sh -c ").map(|(_, command)| command)
    } else {
        rest.strip_prefix("/bin/sh -c ")
    };
    match command {
        Some(command) => format!("RUN {}", command.trim()),
        None if run => format!("RUN {rest}"),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests;
