//! `layers.csv` and `waste.csv`: what each analysed image is made of. One image is analysed per
//! variant and host in a run (its first successful measured build); its rows carry that build's
//! identity (`run_id`, `host`, `seq`), as `steps.csv` does, and are written before its row of
//! `results.csv`.

use serde::{Deserialize, Serialize};

use super::csv::CsvRow;
use super::record::BuildRecord;
use crate::image_analysis::{ImageAnalysis, WasteKind};

/// File name of the layer table in a results folder.
pub const LAYERS_FILE: &str = "layers.csv";
/// File name of the wasted-file table in a results folder.
pub const WASTE_FILE: &str = "waste.csv";

/// Where a layer comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerOrigin {
    /// The image the final stage starts `FROM` (a base image or a prebuild).
    Base,
    /// An instruction of the variant's Dockerfile.
    Instruction,
}

/// One layer of an analysed image: a row of `layers.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRecord {
    /// Scenario name.
    pub scenario: String,
    /// Variant name.
    pub variant: String,
    /// Docker host.
    pub host: String,
    /// The image analysed.
    pub image_id: String,
    /// 1-based position from the bottom.
    pub layer: u32,
    /// The layer's diff ID.
    pub diff_id: String,
    /// `base` or `instruction`.
    pub origin: LayerOrigin,
    /// For a base layer, the image it comes from; empty otherwise.
    pub base_image: String,
    /// The instruction that made the layer, as the image history records it.
    pub created_by: String,
    /// Bytes of the files it adds or changes.
    pub bytes: u64,
    /// Its tar gzip-compressed as a push would send it.
    pub compressed_bytes: u64,
    /// Files it adds or changes.
    pub files: u64,
    /// Of `bytes`, what later layers delete or overwrite.
    pub wasted_bytes: u64,
    /// The build's run id.
    pub run_id: String,
    /// The build's sequence number on its host.
    pub seq: u32,
}

/// One of the largest wasted files of an analysed image: a row of `waste.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WasteRecord {
    /// Scenario name.
    pub scenario: String,
    /// Variant name.
    pub variant: String,
    /// Docker host.
    pub host: String,
    /// The image analysed.
    pub image_id: String,
    /// The file's path in the image.
    pub path: String,
    /// Its size.
    pub bytes: u64,
    /// `deleted` or `overwritten` by a later layer.
    pub kind: WasteKind,
    /// 1-based layer that wrote it.
    pub layer: u32,
    /// The instruction that wrote it.
    pub created_by: String,
    /// 1-based layer that deleted or overwrote it.
    pub removed_by_layer: u32,
    /// The instruction that deleted or overwrote it.
    pub removed_by: String,
    /// The build's run id.
    pub run_id: String,
    /// The build's sequence number on its host.
    pub seq: u32,
}

/// The rows of an analysed image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageRows {
    /// One per layer, bottom first.
    pub layers: Vec<LayerRecord>,
    /// The largest wasted files, largest first.
    pub waste: Vec<WasteRecord>,
}

impl ImageRows {
    /// The rows of `analysis`, the image `build` made, whose first `base_layers` layers come
    /// from `base_image`.
    pub fn of(
        build: &BuildRecord,
        analysis: &ImageAnalysis,
        base_layers: usize,
        base_image: &str,
    ) -> ImageRows {
        let layers = analysis
            .layers
            .iter()
            .enumerate()
            .map(|(index, layer)| {
                let base = index < base_layers;
                LayerRecord {
                    scenario: build.scenario.clone(),
                    variant: build.variant.clone(),
                    host: build.host.clone(),
                    image_id: build.image_id.clone(),
                    layer: index as u32 + 1,
                    diff_id: layer.diff_id.clone(),
                    origin: if base {
                        LayerOrigin::Base
                    } else {
                        LayerOrigin::Instruction
                    },
                    base_image: if base {
                        base_image.to_string()
                    } else {
                        String::new()
                    },
                    created_by: layer.created_by.clone(),
                    bytes: layer.bytes,
                    compressed_bytes: layer.compressed_bytes,
                    files: layer.files,
                    wasted_bytes: layer.wasted_bytes,
                    run_id: build.run_id.clone(),
                    seq: build.seq,
                }
            })
            .collect();
        let instruction = |index: usize| {
            analysis
                .layers
                .get(index)
                .map(|l| l.created_by.clone())
                .unwrap_or_default()
        };
        let waste = analysis
            .top_wasted
            .iter()
            .map(|file| WasteRecord {
                scenario: build.scenario.clone(),
                variant: build.variant.clone(),
                host: build.host.clone(),
                image_id: build.image_id.clone(),
                path: file.path.clone(),
                bytes: file.bytes,
                kind: file.kind,
                layer: file.layer as u32 + 1,
                created_by: instruction(file.layer),
                removed_by_layer: file.removed_by as u32 + 1,
                removed_by: instruction(file.removed_by),
                run_id: build.run_id.clone(),
                seq: build.seq,
            })
            .collect();
        ImageRows { layers, waste }
    }
}

super::record::of_build!(LayerRecord);
super::record::of_build!(WasteRecord);

impl CsvRow for LayerRecord {
    const HEADER: &'static [&'static str] = &[
        "scenario",
        "variant",
        "host",
        "image_id",
        "layer",
        "diff_id",
        "origin",
        "base_image",
        "created_by",
        "bytes",
        "compressed_bytes",
        "files",
        "wasted_bytes",
        "run_id",
        "seq",
    ];

    /// Its names are names stagebench writes (see `names`).
    fn refusal(&self) -> Option<String> {
        super::names::row_refusal(&self.scenario, &self.variant, Some(&self.host))
    }
}

impl CsvRow for WasteRecord {
    const HEADER: &'static [&'static str] = &[
        "scenario",
        "variant",
        "host",
        "image_id",
        "path",
        "bytes",
        "kind",
        "layer",
        "created_by",
        "removed_by_layer",
        "removed_by",
        "run_id",
        "seq",
    ];

    /// Its names are names stagebench writes (see `names`).
    fn refusal(&self) -> Option<String> {
        super::names::row_refusal(&self.scenario, &self.variant, Some(&self.host))
    }
}
