//! What each analysed image is made of, summed by origin: the base image the final stage starts
//! from, then each instruction of the variant's Dockerfile, with the bytes later layers waste.
//! Read from `layers.csv` and `waste.csv`; one breakdown per variant, builder and host (the
//! first analysed build of each, in `results.csv` order).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::stages::BuildRef;
use crate::builder::Builder;
use crate::image_analysis::WasteKind;
use crate::results::{BuildRecord, LayerOrigin, LayerRecord, OfBuild, WasteRecord};

/// How many of an image's largest wasted files a breakdown names.
pub const WASTED_FILES_NAMED: usize = 5;

/// One layer an instruction made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstructionBytes {
    /// 1-based layer position from the bottom.
    pub layer: u32,
    /// The instruction, as the image history records it.
    pub created_by: String,
    /// Bytes of the files it adds or changes.
    pub bytes: u64,
    /// Its size gzip-compressed as a push sends it.
    pub compressed_bytes: u64,
    /// Of `bytes`, what later layers delete or overwrite.
    pub wasted_bytes: u64,
}

/// A wasted file, named for a reader.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedWaste {
    /// Path in the image.
    pub path: String,
    /// Its size.
    pub bytes: u64,
    /// Deleted or overwritten.
    pub kind: WasteKind,
    /// The instruction that wrote it.
    pub created_by: String,
    /// The instruction that deleted or overwrote it.
    pub removed_by: String,
}

/// One analysed image of a variant, by origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageBreakdown {
    /// Scenario name.
    pub scenario: String,
    /// Variant name.
    pub variant: String,
    /// Builder of the build that made it.
    pub builder: Builder,
    /// Docker host.
    pub host: String,
    /// The build that made it.
    pub build: BuildRef,
    /// The image.
    pub image_id: String,
    /// Sum of its layers' bytes.
    pub image_bytes: u64,
    /// Sum of its layers' compressed sizes: what a push transfers.
    pub compressed_bytes: u64,
    /// The image its bottom layers come from; empty when none was recognised.
    pub base_image: String,
    /// Bytes of those layers.
    pub base_bytes: u64,
    /// Their compressed size.
    pub base_compressed_bytes: u64,
    /// The layers the variant's own instructions made, bottom first.
    pub instructions: Vec<InstructionBytes>,
    /// Bytes its layers hold that later layers delete or overwrite.
    pub wasted_bytes: u64,
    /// The largest of those files (at most [`WASTED_FILES_NAMED`]), largest first.
    pub largest_wasted_files: Vec<NamedWaste>,
}

impl ImageBreakdown {
    /// The instruction layer holding the most bytes.
    pub fn largest_instruction(&self) -> Option<&InstructionBytes> {
        self.instructions.iter().max_by_key(|i| i.bytes)
    }

    /// The instruction layer wasting the most bytes, when any wastes some.
    pub fn most_wasteful_instruction(&self) -> Option<&InstructionBytes> {
        self.instructions
            .iter()
            .filter(|i| i.wasted_bytes > 0)
            .max_by_key(|i| i.wasted_bytes)
    }
}

/// One breakdown per variant, builder and host that has an analysed image, in `records` order.
pub fn image_breakdowns(
    records: &[BuildRecord],
    layers: &[LayerRecord],
    waste: &[WasteRecord],
) -> Vec<ImageBreakdown> {
    let mut layers_by_build: BTreeMap<(&str, &str, u32), Vec<&LayerRecord>> = BTreeMap::new();
    for layer in layers {
        layers_by_build
            .entry(layer.build_identity())
            .or_default()
            .push(layer);
    }
    let mut breakdowns: Vec<ImageBreakdown> = Vec::new();
    for record in records {
        let Some(own_layers) =
            layers_by_build.get(&(record.run_id.as_str(), record.host.as_str(), record.seq))
        else {
            continue;
        };
        let seen = breakdowns.iter().any(|b| {
            b.scenario == record.scenario
                && b.variant == record.variant
                && b.builder == record.builder
                && b.host == record.host
        });
        if seen {
            continue;
        }
        let mut own_layers = own_layers.clone();
        own_layers.sort_by_key(|l| l.layer);
        let base: Vec<&&LayerRecord> = own_layers
            .iter()
            .filter(|l| l.origin == LayerOrigin::Base)
            .collect();
        let instructions: Vec<InstructionBytes> = own_layers
            .iter()
            .filter(|l| l.origin == LayerOrigin::Instruction)
            .map(|l| InstructionBytes {
                layer: l.layer,
                created_by: l.created_by.clone(),
                bytes: l.bytes,
                compressed_bytes: l.compressed_bytes,
                wasted_bytes: l.wasted_bytes,
            })
            .collect();
        let mut files: Vec<&WasteRecord> = waste.iter().filter(|w| w.belongs_to(record)).collect();
        files.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.path.cmp(&b.path)));
        breakdowns.push(ImageBreakdown {
            scenario: record.scenario.clone(),
            variant: record.variant.clone(),
            builder: record.builder,
            host: record.host.clone(),
            build: BuildRef {
                run_id: record.run_id.clone(),
                seq: record.seq,
            },
            image_id: record.image_id.clone(),
            image_bytes: own_layers.iter().map(|l| l.bytes).sum(),
            compressed_bytes: own_layers.iter().map(|l| l.compressed_bytes).sum(),
            base_image: base
                .first()
                .map(|l| l.base_image.clone())
                .unwrap_or_default(),
            base_bytes: base.iter().map(|l| l.bytes).sum(),
            base_compressed_bytes: base.iter().map(|l| l.compressed_bytes).sum(),
            instructions,
            wasted_bytes: own_layers.iter().map(|l| l.wasted_bytes).sum(),
            largest_wasted_files: files
                .into_iter()
                .take(WASTED_FILES_NAMED)
                .map(|w| NamedWaste {
                    path: w.path.clone(),
                    bytes: w.bytes,
                    kind: w.kind,
                    created_by: w.created_by.clone(),
                    removed_by: w.removed_by.clone(),
                })
                .collect(),
        });
    }
    breakdowns
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::record::tests::sample_record;

    fn layer(build: &BuildRecord, layer: u32, origin: LayerOrigin, bytes: u64) -> LayerRecord {
        LayerRecord {
            scenario: build.scenario.clone(),
            variant: build.variant.clone(),
            host: build.host.clone(),
            image_id: build.image_id.clone(),
            layer,
            diff_id: format!("sha256:{layer}"),
            origin,
            base_image: if origin == LayerOrigin::Base {
                "debian:bookworm-slim".to_string()
            } else {
                String::new()
            },
            created_by: format!("RUN step {layer}"),
            bytes,
            compressed_bytes: bytes / 2,
            files: 1,
            wasted_bytes: if layer == 2 { bytes } else { 0 },
            run_id: build.run_id.clone(),
            seq: build.seq,
        }
    }

    #[test]
    fn bytes_are_summed_by_origin_and_each_variant_counts_once() {
        let first = sample_record();
        let later = BuildRecord {
            seq: first.seq + 1,
            ..first.clone()
        };
        let layers = [
            layer(&first, 3, LayerOrigin::Instruction, 10),
            layer(&first, 1, LayerOrigin::Base, 1000),
            layer(&first, 2, LayerOrigin::Instruction, 400),
            // A second analysis of the same variant is not a second breakdown.
            layer(&later, 1, LayerOrigin::Base, 7),
        ];
        let waste = [WasteRecord {
            scenario: first.scenario.clone(),
            variant: first.variant.clone(),
            host: first.host.clone(),
            image_id: first.image_id.clone(),
            path: "tmp/archive.tar".to_string(),
            bytes: 400,
            kind: WasteKind::Deleted,
            layer: 2,
            created_by: "RUN step 2".to_string(),
            removed_by_layer: 3,
            removed_by: "RUN step 3".to_string(),
            run_id: first.run_id.clone(),
            seq: first.seq,
        }];
        let breakdowns = image_breakdowns(&[first.clone(), later], &layers, &waste);
        assert_eq!(breakdowns.len(), 1);
        let image = &breakdowns[0];
        assert_eq!((image.image_bytes, image.compressed_bytes), (1410, 705));
        assert_eq!(
            (image.base_image.as_str(), image.base_bytes),
            ("debian:bookworm-slim", 1000)
        );
        let order: Vec<u32> = image.instructions.iter().map(|i| i.layer).collect();
        assert_eq!(order, [2, 3], "bottom first");
        assert_eq!(image.wasted_bytes, 400);
        assert_eq!(image.most_wasteful_instruction().map(|i| i.layer), Some(2));
        assert_eq!(image.largest_instruction().map(|i| i.layer), Some(2));
        assert_eq!(image.largest_wasted_files[0].path, "tmp/archive.tar");
    }
}
