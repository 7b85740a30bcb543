//! The "why" of a section in plain sentences, each derived from numbers the report holds: what
//! an image is made of and how much of it a later layer throws away, how a variant's size
//! compares with the baseline's, where a cold build's time goes, whether an edit reached
//! the image at all, and why a build that expected cache ran steps (see [`super::misses`]).
//! A sentence is written only when its numbers exist.

use serde::Serialize;

use super::format;
use super::{ReportData, Section};
use crate::builder::Builder;
use crate::cache_mode::CacheMode;
use crate::results::{BuildStatus, OfBuild};
use crate::stats::{ImageBreakdown, StageBreakdown};

/// Waste below this share of an image is not worth a sentence...
const WASTE_SHARE_WORTH_SAYING: f64 = 0.01;
/// ...nor below this many bytes.
const WASTE_BYTES_WORTH_SAYING: u64 = 1_000_000;
/// A single step worth naming takes at least this share of a build.
const DOMINANT_STEP_SHARE: f64 = 0.3;
/// An export worth a sentence takes at least this share of some variant's cold build.
const EXPORT_SHARE_WORTH_SAYING: f64 = 0.05;
/// How far (as a share) the engine's own size of an image may differ from the bytes its layers'
/// files hold before the Why names both: Docker's sizes differ by a few kilobytes of directory
/// entries, Podman's by its tar streams' headers and padding.
const ENGINE_SIZE_DIFFERENCE_WORTH_SAYING: f64 = 0.005;
/// Instructions quoted in a sentence are cut to about this many characters.
const QUOTED_INSTRUCTION_CHARS: usize = 60;

/// The sentences of one section, as summary.json carries them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhySection {
    /// Scenario name.
    pub scenario: String,
    /// Docker host.
    pub host: String,
    /// Builder.
    pub builder: Builder,
    /// The sentences, in reading order.
    pub sentences: Vec<String>,
}

/// The sentences of every section.
pub fn why_sections(data: &ReportData) -> Vec<WhySection> {
    data.sections()
        .iter()
        .map(|section| WhySection {
            scenario: section.scenario.name.clone(),
            host: section.host.to_string(),
            builder: section.builder,
            sentences: why_sentences(data, section),
        })
        .collect()
}

/// The sentences of one section, in reading order: sizes, waste, time, edits, cache misses.
pub fn why_sentences(data: &ReportData, section: &Section<'_>) -> Vec<String> {
    let variants = data.variants(&section.scenario.name);
    let images = data.images_of(section);
    let image_of = |variant: &str| images.iter().find(|i| i.variant == variant);
    let baseline = section.scenario.baseline.as_deref();
    let mut sentences = Vec::new();
    for variant in &variants {
        let Some(image) = image_of(variant) else {
            continue;
        };
        let engine_bytes = data
            .records
            .iter()
            .find(|r| {
                r.run_id == image.build.run_id && r.host == image.host && r.seq == image.build.seq
            })
            .and_then(|r| r.image_bytes);
        if let Some(sentence) = composition(image, engine_bytes) {
            sentences.push(sentence);
        }
        if let Some(sentence) = waste(image) {
            sentences.push(sentence);
        }
    }
    if let Some(baseline_image) = baseline.and_then(image_of) {
        for variant in variants.iter().filter(|v| Some(v.as_str()) != baseline) {
            if let Some(image) = image_of(variant) {
                sentences.push(share_of_baseline(image, baseline_image));
            }
        }
    }
    for variant in &variants {
        if let Some(sentence) = where_time_goes(data, section, variant) {
            sentences.push(sentence);
        }
    }
    if let Some(sentence) = export_time(data, section, &variants) {
        sentences.push(sentence);
    }
    for variant in &variants {
        if let Some(sentence) = edit_reached_image(data, section, variant) {
            sentences.push(sentence);
        }
    }
    for variant in &variants {
        sentences.extend(super::misses::miss_sentences(data, section, variant));
    }
    sentences
}

/// "single's image is 912 MB: 14% is the base image debian:bookworm-slim and 68% comes from
/// `RUN apt-get install …`, its largest layer." The shares are of the bytes its layers' files
/// hold. When the engine's own size of the image (`engine_bytes`, the headline's) differs from
/// that by more than [`ENGINE_SIZE_DIFFERENCE_WORTH_SAYING`], both are named: Podman counts its
/// layers' tar streams (every file's header and padding included) and the image's
/// configuration, which for an image of many small files is a few percent more than the files
/// hold.
fn composition(image: &ImageBreakdown, engine_bytes: Option<u64>) -> Option<String> {
    if image.image_bytes == 0 {
        return None;
    }
    let share = |bytes: u64| percent_of(bytes, image.image_bytes);
    let mut parts = Vec::new();
    if image.base_bytes > 0 && !image.base_image.is_empty() {
        parts.push(format!(
            "{} is the base image {}",
            share(image.base_bytes),
            image.base_image
        ));
    }
    if let Some(largest) = image.largest_instruction().filter(|l| l.bytes > 0) {
        let which = if image.instructions.len() == 1 && image.base_bytes == 0 {
            "its only layer"
        } else {
            "its largest layer"
        };
        parts.push(format!(
            "{} comes from `{}`, {which}",
            share(largest.bytes),
            quoted(&largest.created_by)
        ));
    }
    if parts.is_empty() {
        return None;
    }
    let size = match engine_bytes.filter(|engine_bytes| {
        engine_bytes.abs_diff(image.image_bytes) as f64
            > ENGINE_SIZE_DIFFERENCE_WORTH_SAYING * image.image_bytes as f64
    }) {
        Some(engine_bytes) => format!(
            "{} as its engine reports it, {} in its layers' files",
            format::bytes(engine_bytes),
            format::bytes(image.image_bytes)
        ),
        None => format::bytes(image.image_bytes),
    };
    Some(format!(
        "{}'s image is {size} ({} to pull): {}.",
        image.variant,
        format::bytes(image.compressed_bytes),
        parts.join(" and ")
    ))
}

/// "single carries 212 MB (23% of its image) in files that a later layer deletes or
/// overwrites, most written by `RUN …` and removed by `RUN …`: every pull transfers them, no
/// container sees them."
fn waste(image: &ImageBreakdown) -> Option<String> {
    let worth_saying = image.wasted_bytes >= WASTE_BYTES_WORTH_SAYING
        && image.wasted_bytes as f64 >= WASTE_SHARE_WORTH_SAYING * image.image_bytes as f64;
    if !worth_saying {
        return None;
    }
    let writer = image.most_wasteful_instruction()?;
    let remover = image
        .largest_wasted_files
        .iter()
        .find(|f| f.created_by == writer.created_by && !f.removed_by.is_empty())
        .map(|f| format!(" and removed by `{}`", quoted(&f.removed_by)))
        .unwrap_or_default();
    let most = if writer.wasted_bytes == image.wasted_bytes {
        "all"
    } else {
        "most"
    };
    Some(format!(
        "{} carries {} ({} of its image) in files that a later layer deletes or overwrites, {most} written by `{}`{remover}: every pull transfers them and no container sees them.",
        image.variant,
        format::bytes(image.wasted_bytes),
        percent_of(image.wasted_bytes, image.image_bytes),
        quoted(&writer.created_by),
    ))
}

/// "multi ships 38% of single's bytes (41% of its pull size)."
fn share_of_baseline(image: &ImageBreakdown, baseline: &ImageBreakdown) -> String {
    let pull = if baseline.compressed_bytes > 0 {
        format!(
            " ({} of its pull size)",
            percent_of(image.compressed_bytes, baseline.compressed_bytes)
        )
    } else {
        String::new()
    };
    format!(
        "{} ships {} of {}'s bytes{pull}.",
        image.variant,
        percent_of(image.image_bytes, baseline.image_bytes),
        baseline.variant
    )
}

/// "91% of multi's cold time is stage python; its stages ran side by side, their spans adding
/// up to 140% of the build." or, for one stage, "78% of single's cold time is one step: `RUN …`."
fn where_time_goes(data: &ReportData, section: &Section<'_>, variant: &str) -> Option<String> {
    let record = median_record(data, section, variant, CacheMode::Cold)?;
    let steps: Vec<_> = data
        .steps
        .iter()
        .filter(|s| s.belongs_to(record) && s.is_dockerfile_step())
        .collect();
    // A stage's time here is the time its steps ran, not its span: a final stage's span also
    // covers the wait for the stages it copies from.
    let mut busy_seconds: Vec<(&str, f64)> = Vec::new();
    for step in &steps {
        match busy_seconds
            .iter_mut()
            .find(|(stage, _)| *stage == step.stage)
        {
            Some((_, seconds)) => *seconds += step.seconds,
            None => busy_seconds.push((step.stage.as_str(), step.seconds)),
        }
    }
    if busy_seconds.len() >= 2 && record.build_seconds > 0.0 {
        let (stage, seconds) = busy_seconds
            .iter()
            .copied()
            .max_by(|a, b| a.1.total_cmp(&b.1))?;
        let total: f64 = busy_seconds.iter().map(|(_, s)| s).sum();
        let side_by_side = if total > 1.02 * record.build_seconds {
            format!(
                "; its stages ran side by side, their steps adding up to {} of the build",
                percent(total / record.build_seconds)
            )
        } else {
            String::new()
        };
        return Some(format!(
            "{} of {variant}'s cold time is the steps of stage {stage} ({} of {}){side_by_side}.",
            percent(seconds / record.build_seconds),
            format::seconds(seconds),
            format::seconds(record.build_seconds)
        ));
    }
    // One stage: the step that dominates it, read from the median run.
    let step = steps
        .iter()
        .max_by(|a, b| a.seconds.total_cmp(&b.seconds))?;
    let share = step.seconds / record.build_seconds;
    (share.is_finite() && share >= DOMINANT_STEP_SHARE).then(|| {
        format!(
            "{} of {variant}'s cold time is one step: `{}`.",
            percent(share),
            quoted(&step.instruction)
        )
    })
}

/// "Exporting the image takes 1.96 s of single's cold build (13%) and 0.0185 s of multi's
/// (0.148%)." when, for some variant, the export is a noticeable share of the build: the cost of
/// a large image that a total build time hides.
fn export_time(data: &ReportData, section: &Section<'_>, variants: &[String]) -> Option<String> {
    let exports: Vec<(&str, f64, f64)> = variants
        .iter()
        .filter_map(|variant| {
            let record = median_record(data, section, variant, CacheMode::Cold)?;
            let seconds: f64 = data
                .steps
                .iter()
                .filter(|s| {
                    s.belongs_to(record)
                        && !s.is_dockerfile_step()
                        && s.builder
                            .capabilities()
                            .final_image_step
                            .is_some_and(|step| s.instruction.starts_with(step))
                })
                .map(|s| s.seconds)
                .sum();
            (seconds > 0.0 && record.build_seconds > 0.0)
                .then(|| (variant.as_str(), seconds, seconds / record.build_seconds))
        })
        .collect();
    if !exports
        .iter()
        .any(|(_, _, share)| *share >= EXPORT_SHARE_WORTH_SAYING)
    {
        return None;
    }
    let parts: Vec<String> = exports
        .iter()
        .enumerate()
        .map(|(index, (variant, seconds, share))| {
            if index == 0 {
                format!(
                    "{} of {variant}'s cold build ({})",
                    format::seconds(*seconds),
                    percent(*share)
                )
            } else {
                format!(
                    "{} of {variant}'s ({})",
                    format::seconds(*seconds),
                    percent(*share)
                )
            }
        })
        .collect();
    Some(format!(
        "Exporting the image takes {}.",
        format::join_and(&parts)
    ))
}

/// The median build of a variant's series in `cache`, as its stage breakdown chose it.
fn median_record<'a>(
    data: &'a ReportData,
    section: &Section<'_>,
    variant: &str,
    cache: CacheMode,
) -> Option<&'a crate::results::BuildRecord> {
    let breakdown = section_breakdown(data, section, variant, cache)?;
    data.records.iter().find(|r| {
        r.run_id == breakdown.median_run.run_id
            && r.host == breakdown.key.host
            && r.seq == breakdown.median_run.seq
    })
}

fn section_breakdown<'a>(
    data: &'a ReportData,
    section: &Section<'_>,
    variant: &str,
    cache: CacheMode,
) -> Option<&'a StageBreakdown> {
    data.stages.iter().find(|b| {
        b.key.scenario == section.scenario.name
            && b.key.host == section.host
            && b.key.builder == section.builder
            && b.key.variant == variant
            && b.key.cache == cache
    })
}

/// "The edit did not change the image: multi's incremental builds made its warm image, so its
/// incremental time does not measure an application change."
fn edit_reached_image(data: &ReportData, section: &Section<'_>, variant: &str) -> Option<String> {
    let ok_rows = |cache: CacheMode| {
        data.records.iter().filter(move |r| {
            r.scenario == section.scenario.name
                && r.host == section.host
                && r.builder == section.builder
                && r.variant == variant
                && r.cache == cache
                && r.status == BuildStatus::Ok
                && !r.warmup
                && !r.image_id.is_empty()
        })
    };
    let warm_images: Vec<&str> = ok_rows(CacheMode::Warm)
        .map(|r| r.image_id.as_str())
        .collect();
    if warm_images.is_empty() {
        return None;
    }
    let incremental: Vec<&str> = ok_rows(CacheMode::Incremental)
        .map(|r| r.image_id.as_str())
        .collect();
    let unchanged = incremental
        .iter()
        .filter(|id| warm_images.contains(id))
        .count();
    match unchanged {
        0 => None,
        n if n == incremental.len() => Some(format!(
            "The edit did not change the image: {variant}'s incremental builds made the same image as its warm builds, so its incremental time does not measure an application change."
        )),
        n => Some(format!(
            "The edit did not change the image in {n} of {variant}'s {} incremental builds: those made the same image as its warm builds.",
            incremental.len()
        )),
    }
}

/// "38%", "140%", and three significant digits below 10% so that a small share is not
/// rounded away ("0.591%").
pub(super) fn percent(share: f64) -> String {
    if share > 0.0 && share < 0.1 {
        format!("{}%", format::significant(share * 100.0))
    } else if share < 1.0 && (share * 100.0).round() >= 100.0 {
        // Not all of it: 99.94% is not "100%".
        format!("{:.1}%", (share * 1000.0).floor() / 10.0)
    } else {
        format!("{:.0}%", share * 100.0)
    }
}

fn percent_of(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "–".to_string();
    }
    percent(part as f64 / whole as f64)
}

/// An instruction on one line, cut at a word to about [`QUOTED_INSTRUCTION_CHARS`] with "…";
/// backticks are dropped so that the Markdown code span holds.
pub(super) fn quoted(instruction: &str) -> String {
    let words: Vec<String> = instruction
        .split_whitespace()
        .map(|w| w.replace('`', ""))
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = String::new();
    for word in &words {
        if !out.is_empty()
            && out.chars().count() + 1 + word.chars().count() > QUOTED_INSTRUCTION_CHARS
        {
            out.push('…');
            return out;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::ResultSet;

    /// The go-service fixture, with multi's incremental builds given its warm image when
    /// `edit_is_invisible`.
    fn fixture(edit_is_invisible: bool) -> ReportData {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/go-service");
        let set = ResultSet::load(&dir).unwrap();
        let mut records = set.records.clone();
        let warm_image = records
            .iter()
            .find(|r| r.variant == "multi" && r.cache == CacheMode::Warm)
            .map(|r| r.image_id.clone())
            .unwrap();
        for record in &mut records {
            if record.variant == "multi" && record.cache == CacheMode::Incremental {
                record.image_id = if edit_is_invisible {
                    warm_image.clone()
                } else {
                    format!("sha256:edited{}", record.run)
                };
            }
        }
        ReportData::new(ResultSet::with_identity(set.meta, records))
    }

    #[test]
    fn an_edit_that_leaves_the_image_unchanged_is_said_so() {
        let sentence = "The edit did not change the image: multi's incremental builds made the same image as its warm builds, so its incremental time does not measure an application change.";
        let said = |data: &ReportData| {
            why_sections(data)
                .iter()
                .any(|s| s.sentences.iter().any(|line| line == sentence))
        };
        assert!(said(&fixture(true)));
        assert!(!said(&fixture(false)));
    }

    #[test]
    fn an_engine_size_apart_from_the_layers_files_is_named_beside_them() {
        // The published go-service run on Docker and on Podman: Docker's own size differs from
        // the files by a few kilobytes, Podman's by its tar streams' headers.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("reports/go-service/20261206T084321Z");
        let data = ReportData::new(ResultSet::load(&dir).unwrap());
        let composition_on = |host: &str| {
            why_sections(&data)
                .into_iter()
                .filter(|s| s.host == host)
                .flat_map(|s| s.sentences)
                .find(|line| line.starts_with("single's image is"))
                .unwrap()
        };
        let docker = composition_on("docker");
        assert!(
            docker.starts_with("single's image is 756 MB (296 MB to pull): "),
            "{docker}"
        );
        let podman = composition_on("podman");
        assert!(
            podman.starts_with("single's image is 771 MB as its engine reports it, 756 MB in its layers' files (296 MB to pull): "),
            "{podman}"
        );
        // The shares stay the files'.
        assert_eq!(
            podman.split_once("): ").map(|(_, shares)| shares),
            docker.split_once("): ").map(|(_, shares)| shares)
        );
    }

    #[test]
    fn quoted_instructions_stay_on_one_short_line() {
        assert_eq!(
            quoted("RUN apt-get update  &&\tapt-get install -y `gcc`"),
            "RUN apt-get update && apt-get install -y gcc"
        );
        let long = quoted(&"RUN make ".repeat(20));
        assert!(long.ends_with('…') && long.chars().count() <= QUOTED_INSTRUCTION_CHARS + 1);
        assert_eq!(percent(0.00591), "0.591%");
        assert_eq!(percent(1.4), "140%");
        assert_eq!(percent(0.9994), "99.9%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent_of(38, 100), "38%");
    }
}
