//! Wasted bytes: what a lower layer holds that a later layer deletes (an overlay whiteout) or
//! overwrites. Those bytes stay in the image and in every pull, but no container ever sees them,
//! which is why "clean up in a later RUN" never made an image smaller.

use std::collections::BTreeMap;
use std::io::Read;

use serde::{Deserialize, Serialize};

use super::AnalysisError;

/// Prefix of an overlay whiteout: `.wh.name` in a layer deletes `name` below it.
const WHITEOUT_PREFIX: &str = ".wh.";
/// An opaque-directory marker: the directory's contents below this layer are hidden.
const OPAQUE_MARKER: &str = ".wh..wh..opq";

/// What a layer does to one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    /// Adds or replaces a file (or a link) of this many bytes.
    Write,
    /// Deletes the path, and everything under it, in the layers below.
    Delete,
    /// Hides everything under the directory in the layers below.
    Opaque,
}

/// One entry of a layer tar that matters for waste.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LayerFile {
    /// Path without a leading `./` or `/`; for a whiteout, the path it deletes.
    pub path: String,
    /// Size of a written file; 0 otherwise.
    pub bytes: u64,
    pub change: Change,
}

impl LayerFile {
    pub(super) fn is_whiteout(&self) -> bool {
        match self.change {
            Change::Write => false,
            Change::Delete | Change::Opaque => true,
        }
    }
}

pub(super) type LayerFiles = Vec<LayerFile>;

/// How a lower layer's file came to be wasted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WasteKind {
    /// A later layer deletes it.
    Deleted,
    /// A later layer writes the same path again.
    Overwritten,
}

impl WasteKind {
    /// The name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            WasteKind::Deleted => "deleted",
            WasteKind::Overwritten => "overwritten",
        }
    }
}

/// A file a lower layer holds and a later one deletes or overwrites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WastedFile {
    /// Its path in the image.
    pub path: String,
    /// Its size.
    pub bytes: u64,
    /// 0-based index of the layer that wrote it.
    pub layer: usize,
    /// 0-based index of the layer that deleted or overwrote it.
    pub removed_by: usize,
    /// Which of the two.
    pub kind: WasteKind,
}

/// Lists a layer tar's files and whiteouts, reading it to its end-of-archive blocks.
pub(super) fn list_layer(reader: &mut impl Read) -> Result<LayerFiles, AnalysisError> {
    let mut archive = tar::Archive::new(reader);
    let mut files = Vec::new();
    for entry in archive.entries()? {
        let entry = entry?;
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        let raw = entry.path()?.to_string_lossy().into_owned();
        let path = raw
            .trim_start_matches("./")
            .trim_start_matches('/')
            .to_string();
        let (parent, name) = match path.rsplit_once('/') {
            Some((parent, name)) => (parent.to_string(), name.to_string()),
            None => (String::new(), path.clone()),
        };
        let joined = |name: &str| {
            if parent.is_empty() {
                name.to_string()
            } else {
                format!("{parent}/{name}")
            }
        };
        if name == OPAQUE_MARKER {
            files.push(LayerFile {
                path: parent.clone(),
                bytes: 0,
                change: Change::Opaque,
            });
        } else if let Some(deleted) = name.strip_prefix(WHITEOUT_PREFIX) {
            files.push(LayerFile {
                path: joined(deleted),
                bytes: 0,
                change: Change::Delete,
            });
        } else {
            files.push(LayerFile {
                path,
                bytes: if kind.is_file() { entry.size() } else { 0 },
                change: Change::Write,
            });
        }
    }
    Ok(files)
}

/// The bytes each layer wrote that a later one deletes or overwrites (indexed like `layers`),
/// and the `top` largest such files.
pub(super) fn wasted<'a>(
    layers: impl Iterator<Item = &'a [LayerFile]>,
    top: usize,
) -> (Vec<u64>, Vec<WastedFile>) {
    // The file every visible path comes from: (layer index, bytes).
    let mut visible: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    let mut per_layer: Vec<u64> = Vec::new();
    let mut wasted_files: Vec<WastedFile> = Vec::new();
    for (index, files) in layers.enumerate() {
        per_layer.push(0);
        let mut lose = |path: String, (layer, bytes): (usize, u64), kind: WasteKind| {
            if bytes > 0 {
                per_layer[layer] = per_layer[layer].saturating_add(bytes);
                wasted_files.push(WastedFile {
                    path,
                    bytes,
                    layer,
                    removed_by: index,
                    kind,
                });
            }
        };
        // Whiteouts act on the layers below, so they go first.
        for file in files.iter().filter(|f| f.is_whiteout()) {
            let under = if file.path.is_empty() {
                String::new()
            } else {
                format!("{}/", file.path)
            };
            let mut gone: Vec<String> = visible
                .range(under.clone()..)
                .take_while(|(path, _)| path.starts_with(&under))
                .map(|(path, _)| path.clone())
                .collect();
            if file.change == Change::Delete {
                gone.push(file.path.clone());
            }
            for path in gone {
                if let Some(origin) = visible.remove(&path) {
                    lose(path, origin, WasteKind::Deleted);
                }
            }
        }
        for file in files.iter().filter(|f| !f.is_whiteout()) {
            if let Some(origin) = visible.insert(file.path.clone(), (index, file.bytes))
                && origin.0 < index
            {
                lose(file.path.clone(), origin, WasteKind::Overwritten);
            }
        }
    }
    wasted_files.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.path.cmp(&b.path)));
    wasted_files.truncate(top);
    (per_layer, wasted_files)
}
