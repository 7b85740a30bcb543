//! The image of each variant's first successful measured build, analysed once per host: its
//! layers, where they come from, their size after push compression, and the bytes it wastes.
//!
//! The analysis runs between builds, never during one, and its time is counted apart in the
//! run's cost. Its failure costs no measurement: the build is recorded without it, and a note
//! says why.

use std::io::{self, Read};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::scenario::{ScenarioRun, Stop};
use super::{Activity, RunEvent, RunNote};
use crate::dockerfile;
use crate::engine::ImageFacts;
use crate::error::EngineError;
use crate::image_analysis::{AnalysisError, ImageAnalysis, analyze_export_cached};

/// How an export went, and the analysis of what it streamed.
type Exported = (
    Result<(), EngineError>,
    Result<Result<ImageAnalysis, AnalysisError>, tokio::task::JoinError>,
);

/// Chunks of the export in flight between the daemon and the analysing thread: enough to keep
/// both busy, few enough that the export is never held in memory.
const CHUNKS_IN_FLIGHT: usize = 16;

/// An analysed image, and the image its lowest layers come from.
pub(super) struct AnalysedImage {
    pub(super) analysis: ImageAnalysis,
    /// How many of its layers, from the bottom, are the base image's.
    pub(super) base_layers: usize,
    /// The base image's name; empty when no layer comes from one (`FROM scratch`).
    pub(super) base_image: String,
}

impl ScenarioRun<'_> {
    /// Analyses `image`, the image of the variant at `index`; `Ok(None)` when the analysis
    /// failed (a note says why), `Err` only when the run was cancelled meanwhile.
    pub(super) async fn analyse_image(
        &mut self,
        index: usize,
        image: &ImageFacts,
    ) -> Result<Option<AnalysedImage>, Stop> {
        let host = self.host().to_string();
        let variant = self.variants[index].variant.name.clone();
        self.emit(RunEvent::Step {
            host: host.clone(),
            activity: Activity::AnalysingImage {
                variant: variant.clone(),
            },
        });
        let started = Instant::now();
        let mut expected = image.layer_ids.clone();
        let mut attempt = self.export_and_analyse(image, expected.clone()).await;
        // A layer had the size of a known one without being it, so it was not compressed; the
        // next reading no longer expects the known layers of that size, and compresses it. Each
        // reading expects fewer layers (none when no fewer could be told), so this ends.
        while let Ok((Ok(()), Ok(Err(AnalysisError::UnforeseenLayer { tar_bytes, .. })))) = &attempt
            && !expected.is_empty()
        {
            let fewer = self
                .shared()
                .layers
                .expected_without_size(&expected, *tar_bytes);
            expected = if fewer.len() < expected.len() {
                fewer
            } else {
                Vec::new()
            };
            attempt = self.export_and_analyse(image, expected.clone()).await;
        }
        self.cost.analysis_seconds += started.elapsed().as_secs_f64();
        for warning in self.shared().layers.take_warnings() {
            self.worker
                .emit_note(RunNote::LayerCacheIgnored { reason: warning });
        }
        let (exported, analysed) = attempt?;
        let analysis = match (exported, analysed) {
            (Ok(()), Ok(Ok(analysis))) => analysis,
            (Err(error), _) => {
                self.note_failed_analysis(&variant, &error.to_string());
                return Ok(None);
            }
            (Ok(()), Ok(Err(error))) => {
                self.note_failed_analysis(&variant, &error.to_string());
                return Ok(None);
            }
            (Ok(()), Err(error)) => {
                self.note_failed_analysis(&variant, &error.to_string());
                return Ok(None);
            }
        };
        let (base_layers, base_image) = self.base_of(index, image).await;
        Ok(Some(AnalysedImage {
            analysis,
            base_layers,
            base_image,
        }))
    }

    /// Streams the export of `image` into an analysis on a blocking thread that expects the
    /// layers `diff_ids`; `Err` only when the run was cancelled meanwhile.
    async fn export_and_analyse(
        &self,
        image: &ImageFacts,
        diff_ids: Vec<String>,
    ) -> Result<Exported, Stop> {
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let (sender, receiver) = mpsc::channel::<Bytes>(CHUNKS_IN_FLIGHT);
        let layers = Arc::clone(&self.shared().layers);
        let reader = tokio::task::spawn_blocking(move || {
            analyze_export_cached(ChannelReader::new(receiver), threads, &layers, &diff_ids)
        });
        let cancel = self.shared().cancel.clone();
        let exported = tokio::select! {
            exported = self.worker.engine.export_image(&image.id, sender) => exported,
            () = cancel.cancelled() => return Err(Stop::Cancelled),
        };
        Ok((exported, reader.await))
    }

    fn note_failed_analysis(&self, variant: &str, reason: &str) {
        self.worker.emit_note(RunNote::AnalysisFailed {
            scenario: self.scenario().name.clone(),
            variant: variant.to_string(),
            reason: reason.to_string(),
        });
    }

    /// Of the images the variant's Dockerfile names, the one whose layers `image` starts with
    /// (the most of them when several do): how many layers it gives, and its name.
    async fn base_of(&self, index: usize, image: &ImageFacts) -> (usize, String) {
        let variant = &self.variants[index];
        let Ok(text) = crate::text_file::read_string_no_follow(&variant.variant.dockerfile) else {
            return (0, String::new());
        };
        let mut best = (0, String::new());
        for named in dockerfile::read_facts(&text, &variant.variant.build_args).images {
            let Ok(Some(base)) = self.worker.engine.image(&named.name).await else {
                continue;
            };
            let shared = base
                .layer_ids
                .iter()
                .zip(&image.layer_ids)
                .take_while(|(a, b)| a == b)
                .count();
            if shared == base.layer_ids.len() && shared > best.0 {
                best = (shared, named.name);
            }
        }
        best
    }
}

/// Reads the chunks an async task sends, on a blocking thread.
struct ChannelReader {
    receiver: mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl ChannelReader {
    fn new(receiver: mpsc::Receiver<Bytes>) -> ChannelReader {
        ChannelReader {
            receiver,
            current: Bytes::new(),
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.receiver.blocking_recv() {
                Some(chunk) => self.current = chunk,
                // The sender is gone: the export ended (or was abandoned, which the archive's
                // own structure then reports as a truncated export).
                None => return Ok(0),
            }
        }
        let n = buffer.len().min(self.current.len());
        buffer[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
