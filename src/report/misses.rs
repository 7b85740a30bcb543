//! The "why" of a cache miss: for each stage of a build that expected cache and ran a step
//! anyway, the reason stagebench can know for its first miss, and the sentence that says it.
//!
//! Reasons are read from the results folder alone (steps.csv, results.csv and meta.json), in
//! this order of preference: the step copies files the incremental edit changed; the build did
//! not have the stage's cache ([`CacheMode::imports_cache_of`]); the step builds on a stage that
//! itself ran. A build argument that changed between the priming build and this one would come
//! second, but no results file records the priming build's arguments, so it is never claimed.
//! What each cache mode means is asked of `cache_mode`, never decided here.

use std::path::Path;

use super::format;
use super::{ReportData, Section};
use crate::cache_mode::{CacheMode, Preparation};
use crate::context::DockerIgnore;
use crate::keys::SeriesKey;
use crate::results::{BuildRecord, BuildStatus, OfBuild, StageMiss, first_misses};

/// Why a stage's first miss ran instead of coming from cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MissReason {
    /// A `COPY` or `ADD` whose sources hold these files, which the incremental edit changed.
    EditedSources(Vec<String>),
    /// The build did not have the stage's cache.
    CacheNotImported,
    /// The step copies from (or mounts) this stage, which itself ran steps in the build.
    ParentMissed(String),
    /// Nothing in the results folder says.
    Unknown,
}

impl MissReason {
    /// The reason as the end of a sentence about a build in `cache`.
    fn words(&self, cache: CacheMode) -> String {
        match self {
            MissReason::EditedSources(files) => {
                format!(
                    "it copies {}, which the edit changed",
                    format::join_and(files)
                )
            }
            MissReason::CacheNotImported => format!(
                "the build did not have that stage's cache ({})",
                cache.cache_it_starts_with()
            ),
            MissReason::ParentMissed(stage) => {
                format!("it builds on stage {stage}, which ran again too")
            }
            MissReason::Unknown => "the recorded steps do not say why".into(),
        }
    }
}

/// The reason for `miss`, the first miss of its stage, best first (see the module's
/// documentation). `edited_files` are the files the build's edit changed, relative to the
/// build context (none when its mode edits nothing); `stage_cache_imported` is
/// [`CacheMode::imports_cache_of`] for the stage; `build_misses` are every stage's first miss in
/// the same build.
pub fn miss_reason(
    miss: &StageMiss,
    edited_files: &[String],
    stage_cache_imported: Option<bool>,
    build_misses: &[StageMiss],
) -> MissReason {
    let step = CopySources::of(&miss.instruction);
    let edited: Vec<String> = match &step {
        Some(CopySources::Context(sources)) => edited_files
            .iter()
            .filter(|file| sources.iter().any(|source| source_holds(source, file)))
            .cloned()
            .collect(),
        Some(CopySources::Stages(_)) | None => Vec::new(),
    };
    if !edited.is_empty() {
        return MissReason::EditedSources(edited);
    }
    if stage_cache_imported == Some(false) {
        return MissReason::CacheNotImported;
    }
    if let Some(CopySources::Stages(stages)) = &step {
        let parent = stages.iter().find(|stage| {
            build_misses
                .iter()
                .any(|other| other.stage.eq_ignore_ascii_case(stage) && other.stage != miss.stage)
        });
        if let Some(parent) = parent {
            return MissReason::ParentMissed(parent.clone());
        }
    }
    MissReason::Unknown
}

/// Where a step's files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CopySources {
    /// A `COPY`/`ADD` from the build context: its source paths as written.
    Context(Vec<String>),
    /// A step that reads other stages (`COPY --from=`, `RUN --mount=...,from=`).
    Stages(Vec<String>),
}

impl CopySources {
    /// The sources of `instruction` as steps.csv records it (`COPY --chown=1 app/ /src/`,
    /// `COPY ["a b", "/x/"]`); `None` for a step that reads neither.
    fn of(instruction: &str) -> Option<CopySources> {
        let mut words = instruction.split_whitespace();
        let keyword = words.next()?.to_ascii_uppercase();
        let rest: Vec<&str> = words.collect();
        let flags: Vec<&str> = rest
            .iter()
            .copied()
            .take_while(|w| w.starts_with("--"))
            .collect();
        let stages: Vec<String> = flags
            .iter()
            .filter_map(|flag| {
                flag.strip_prefix("--from=")
                    .map(str::to_string)
                    .or_else(|| {
                        flag.strip_prefix("--mount=").and_then(|mount| {
                            mount
                                .split(',')
                                .find_map(|option| option.strip_prefix("from="))
                                .map(str::to_string)
                        })
                    })
            })
            .collect();
        match keyword.as_str() {
            "COPY" | "ADD" if stages.is_empty() => {
                let arguments = rest[flags.len()..].join(" ");
                // The JSON form holds paths with spaces; a heredoc (`<<EOF`) reads no files.
                let mut paths: Vec<String> = if arguments.starts_with('[') {
                    serde_json::from_str(&arguments).ok()?
                } else {
                    arguments.split_whitespace().map(str::to_string).collect()
                };
                paths.pop()?;
                paths.retain(|p| !p.starts_with("<<"));
                Some(CopySources::Context(paths))
            }
            "COPY" | "ADD" | "RUN" if !stages.is_empty() => Some(CopySources::Stages(stages)),
            _ => None,
        }
    }
}

/// Whether the `COPY` source `source` (a path, directory or glob, relative to the context)
/// takes `file` (relative to the context): the source itself, anything under it, or a match of
/// its pattern, with the `.dockerignore` matcher's semantics, which are Docker's for both.
fn source_holds(source: &str, file: &str) -> bool {
    let trimmed = source.trim_start_matches("./").trim_start_matches('/');
    let trimmed = trimmed.trim_end_matches('/');
    if trimmed.is_empty() || trimmed == "." {
        return true;
    }
    DockerIgnore::parse(trimmed, Path::new("COPY"))
        .is_ok_and(|pattern| pattern.is_excluded(file.trim_start_matches("./")))
}

/// "multi, incremental: stage builder rebuilt 3 of 6 steps from `COPY app/ /src/`: it copies
/// app/main.py, which the edit changed." for each variant and cache mode expecting cache whose
/// finished timed builds ran steps, one sentence per stage; "in 2 of 3 builds" when not every
/// build missed there.
pub fn miss_sentences(data: &ReportData, section: &Section<'_>, variant: &str) -> Vec<String> {
    let meta = section.scenario;
    let target = meta
        .variants
        .iter()
        .find(|v| v.name == variant)
        .and_then(|v| v.target.as_deref());
    let edited_in_context = meta
        .touched_in_context
        .as_ref()
        .unwrap_or(&meta.touched_files);
    let mut sentences = Vec::new();
    for cache in CacheMode::ALL
        .into_iter()
        .filter(|mode| mode.expects_cache())
    {
        let edited: &[String] = if Preparation::for_mode(cache, section.builder).edit_sources {
            edited_in_context
        } else {
            &[]
        };
        let builds: Vec<&BuildRecord> = data
            .records
            .iter()
            .filter(|r| {
                r.scenario == meta.name
                    && r.host == section.host
                    && r.builder == section.builder
                    && r.variant == variant
                    && r.cache == cache
                    && !r.warmup
                    && finished(r.status)
            })
            .collect();
        // Per stage, in order of first appearance: each build's (miss, reason), and whether the
        // stage is the final one.
        let mut stages: Vec<(String, Vec<StageSeen>, bool)> = Vec::new();
        let mut builds_with_steps = 0;
        for build in &builds {
            let steps: Vec<_> = data.steps.iter().filter(|s| s.belongs_to(build)).collect();
            if steps.is_empty() {
                continue;
            }
            builds_with_steps += 1;
            let final_stage = target.map(str::to_string).or_else(|| {
                steps
                    .iter()
                    .filter(|s| s.is_dockerfile_step())
                    .max_by(|a, b| {
                        (a.started_offset_s + a.seconds)
                            .total_cmp(&(b.started_offset_s + b.seconds))
                    })
                    .map(|s| s.stage.clone())
            });
            let misses = first_misses(steps.iter().copied(), &[]);
            for miss in &misses {
                let is_final = final_stage
                    .as_deref()
                    .is_some_and(|f| f.eq_ignore_ascii_case(&miss.stage));
                let reason = miss_reason(miss, edited, cache.imports_cache_of(is_final), &misses);
                match stages.iter_mut().find(|(stage, _, _)| *stage == miss.stage) {
                    Some((_, seen, _)) => seen.push((miss.clone(), reason)),
                    None => {
                        stages.push((miss.stage.clone(), vec![(miss.clone(), reason)], is_final))
                    }
                }
            }
        }
        for (stage, seen, is_final) in &stages {
            // The most frequent first miss speaks for the stage (the earliest on a tie).
            let Some((miss, reason)) = seen.iter().max_by_key(|(candidate, _)| {
                let same = seen
                    .iter()
                    .filter(|(m, _)| m.instruction == candidate.instruction)
                    .count();
                (same, std::cmp::Reverse(candidate.step))
            }) else {
                continue;
            };
            let same = seen
                .iter()
                .filter(|(m, _)| m.instruction == miss.instruction)
                .count();
            let how_often = if same < builds_with_steps {
                format!(" in {same} of {builds_with_steps} builds")
            } else {
                String::new()
            };
            let instruction = super::why::quoted(&miss.instruction);
            let rebuilt = if miss.total_steps == 1 {
                format!("rebuilt its one step, `{instruction}`")
            } else {
                format!(
                    "rebuilt {} of {} steps from `{instruction}`",
                    miss.ran_steps, miss.total_steps
                )
            };
            let elsewhere = match reason {
                MissReason::CacheNotImported => {
                    imported_elsewhere(data, section, variant, stage, *is_final)
                }
                MissReason::EditedSources(_)
                | MissReason::ParentMissed(_)
                | MissReason::Unknown => String::new(),
            };
            sentences.push(format!(
                "{variant}, {cache}: stage {stage} {rebuilt}{how_often}: {}{elsewhere}.",
                reason.words(cache)
            ));
        }
    }
    sentences
}

/// For a stage whose cache a build did not have: "; ci-stages took 67% of its steps from cache,
/// at 2.10 s of export and 183 MB in the registry" for each mode of the same variant whose
/// registry import holds the stage ([`crate::cache_mode::CacheImport::holds_stage`]) and whose
/// builds took steps of it from cache, so that the reader sees what exporting that cache costs; empty when
/// there is none.
fn imported_elsewhere(
    data: &ReportData,
    section: &Section<'_>,
    variant: &str,
    stage: &str,
    is_final_stage: bool,
) -> String {
    let mut clauses = String::new();
    for mode in CacheMode::ALL
        .into_iter()
        .filter(|mode| mode.imports().holds_stage(is_final_stage))
    {
        let key = SeriesKey {
            scenario: section.scenario.name.clone(),
            variant: variant.to_string(),
            builder: section.builder,
            cache: mode,
            host: section.host.to_string(),
        };
        let Some(summary) = data
            .stages
            .iter()
            .find(|b| b.key == key)
            .and_then(|b| {
                b.stages
                    .iter()
                    .find(|s| s.stage.eq_ignore_ascii_case(stage))
            })
            .filter(|s| s.cached_share > 0.0)
        else {
            continue;
        };
        // The share over every build of the series, FROM left out, as the miss counts steps.
        let took = if summary.cached_share >= 1.0 {
            "took all of its steps from cache".to_string()
        } else {
            format!(
                "took {} of its steps from cache",
                super::why::percent(summary.cached_share)
            )
        };
        let group = data.analysis.groups.iter().find(|g| g.key == key);
        let mut paid = Vec::new();
        if let Some(seconds) = group.and_then(|g| g.export_seconds) {
            paid.push(format!("{} of export", format::seconds(seconds)));
        }
        if let Some(bytes) = group.and_then(|g| g.cache_bytes) {
            paid.push(format!("{} in the registry", format::bytes(bytes)));
        }
        let at = if paid.is_empty() {
            String::new()
        } else {
            format!(", at {}", format::join_and(&paid))
        };
        clauses.push_str(&format!("; {mode} {took}{at}"));
    }
    clauses
}

/// One build's first miss in a stage, and its reason.
type StageSeen = (StageMiss, MissReason);

/// Whether a build ran to its end, so that its steps say what came from cache: a build whose
/// cache state did not hold is the one most worth explaining.
fn finished(status: BuildStatus) -> bool {
    match status {
        BuildStatus::Ok | BuildStatus::CacheMismatch => true,
        BuildStatus::Failed | BuildStatus::TimedOut | BuildStatus::Interrupted => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::misses::tests::step;

    fn miss(stage: &str, instruction: &str) -> StageMiss {
        StageMiss {
            stage: stage.into(),
            step: 3,
            instruction: instruction.into(),
            ran_steps: 2,
            total_steps: 4,
        }
    }

    fn edited(files: &[&str]) -> Vec<String> {
        files.iter().map(|f| f.to_string()).collect()
    }

    #[test]
    fn the_published_go_service_run_explains_each_stage_s_first_miss_and_warm_has_none() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("reports/go-service/20261129T200219Z");
        let data = ReportData::new(crate::results::ResultSet::load(&dir).unwrap());
        let sections = data.sections();
        let sentences: Vec<String> = ["single", "multi"]
            .iter()
            .flat_map(|variant| miss_sentences(&data, &sections[0], variant))
            .collect();
        assert_eq!(
            sentences,
            [
                "single, incremental: stage 0 rebuilt 2 of 4 steps from `COPY app/ .`: it copies app/main.go, which the edit changed.",
                "multi, incremental: stage build rebuilt 2 of 4 steps from `COPY app/ .`: it copies app/main.go, which the edit changed.",
                "multi, incremental: stage 1 rebuilt its one step, `COPY --from=build /out/hello-service /hello-service`: it builds on stage build, which ran again too.",
            ],
            "warm builds came wholly from cache, so no sentence names them"
        );
    }

    #[test]
    fn a_ci_stage_left_out_of_the_import_says_what_the_mode_imports_and_what_the_stage_import_cost()
    {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ci-modes");
        let data = ReportData::new(crate::results::ResultSet::load(&dir).unwrap());
        let sections = data.sections();
        let multi = miss_sentences(&data, &sections[0], "multi");
        let inline_builder = multi
            .iter()
            .find(|s| s.starts_with("multi, ci-inline: stage builder"))
            .unwrap();
        assert_eq!(
            inline_builder,
            "multi, ci-inline: stage builder rebuilt 3 of 3 steps from `RUN echo deps-sample > /deps && sleep 2`: the build did not have that stage's cache (the inline cache it imports holds only the final stage); ci-stages took 33% of its steps from cache, at 0.159 s of export and 1.07 MB in the registry."
        );
        // The final stage missed because its parent ran, which the import does not change.
        assert!(
            multi.contains(&"multi, ci-inline: stage 1 rebuilt its one step, `COPY --from=builder /built /built`: it builds on stage builder, which ran again too.".to_string()),
            "{multi:?}"
        );
        let single = miss_sentences(&data, &sections[0], "single");
        assert!(
            single[1].starts_with("single, ci-cold: stage 0 rebuilt 3 of 3 steps")
                && single[1].ends_with("(a ci-cold build imports no cache); ci-inline took 33% of its steps from cache, at 0.0500 s of export and 1.07 MB in the registry; ci-stages took 33% of its steps from cache, at 0.0417 s of export and 1.07 MB in the registry."),
            "the final stage is in both CI imports: {single:?}"
        );
    }

    #[test]
    fn builds_that_differ_are_counted_and_a_warm_miss_without_a_known_reason_says_so() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("reports/go-service/20261129T200219Z");
        let mut set = crate::results::ResultSet::load(&dir).unwrap();
        // The edited files are matched as the build context names them, not the scenario.
        let scenario = &mut set.meta.scenarios[0];
        scenario.touched_in_context = Some(vec!["app/main.go".to_string()]);
        scenario.touched_files = vec!["../elsewhere/main.go".to_string()];
        let seq_of = |variant: &str, cache: CacheMode, run: u32| {
            set.records
                .iter()
                .find(|r| r.variant == variant && r.cache == cache && r.run == run)
                .unwrap()
                .seq
        };
        let (single_incremental, multi_warm) = (
            seq_of("single", CacheMode::Incremental, 1),
            seq_of("multi", CacheMode::Warm, 2),
        );
        for step in &mut set.steps {
            if step.seq == single_incremental {
                step.cached = true;
            }
            if step.seq == multi_warm && step.instruction.starts_with("RUN CGO_ENABLED") {
                step.cached = false;
            }
        }
        let data = ReportData::new(set);
        let sections = data.sections();
        let single = miss_sentences(&data, &sections[0], "single");
        assert_eq!(
            single,
            [
                "single, incremental: stage 0 rebuilt 2 of 4 steps from `COPY app/ .` in 5 of 6 builds: it copies app/main.go, which the edit changed."
            ]
        );
        let multi = miss_sentences(&data, &sections[0], "multi");
        assert!(
            multi[0].starts_with(
                "multi, warm: stage build rebuilt 1 of 4 steps from `RUN CGO_ENABLED=0"
            ) && multi[0].ends_with("` in 1 of 6 builds: the recorded steps do not say why."),
            "{multi:?}"
        );
        assert_eq!(multi.len(), 3, "then incremental's two stages: {multi:?}");
    }

    #[test]
    fn a_copy_of_an_edited_file_is_explained_by_the_edit_for_paths_directories_and_globs() {
        let files = edited(&["app/main.py", "README.md"]);
        for instruction in [
            "COPY app/ /src/",
            "COPY app /src/",
            "COPY ./app/main.py /src/main.py",
            "COPY --chown=1:1 app/*.py /src/",
            "ADD [\"app\", \"/src/\"]",
            "COPY . /src",
        ] {
            let expected = if instruction.ends_with(". /src") {
                edited(&["app/main.py", "README.md"])
            } else {
                edited(&["app/main.py"])
            };
            assert_eq!(
                miss_reason(&miss("builder", instruction), &files, Some(true), &[]),
                MissReason::EditedSources(expected),
                "{instruction}"
            );
        }
        for instruction in ["COPY app/*.go /src/", "COPY application/ /src/", "RUN make"] {
            assert_eq!(
                miss_reason(&miss("builder", instruction), &files, Some(true), &[]),
                MissReason::Unknown,
                "{instruction}"
            );
        }
    }

    #[test]
    fn a_stage_whose_cache_was_not_there_comes_before_a_parent_that_missed() {
        let builder = miss("builder", "RUN make");
        let last = miss("final", "COPY --from=builder /out /app");
        let misses = [builder.clone(), last.clone()];
        assert_eq!(
            miss_reason(&last, &[], Some(false), &misses),
            MissReason::CacheNotImported
        );
        assert_eq!(
            miss_reason(&last, &[], Some(true), &misses),
            MissReason::ParentMissed("builder".into())
        );
    }

    #[test]
    fn a_mount_from_a_stage_that_ran_is_a_parent_miss_and_from_one_that_did_not_is_unknown() {
        let last = miss(
            "final",
            "RUN --mount=type=bind,from=deps,target=/d cp /d/x /x",
        );
        let misses = [miss("Deps", "RUN make"), last.clone()];
        assert_eq!(
            miss_reason(&last, &[], Some(true), &misses),
            MissReason::ParentMissed("deps".into()),
            "stage names compare without regard to case"
        );
        assert_eq!(
            miss_reason(&last, &[], Some(true), std::slice::from_ref(&last)),
            MissReason::Unknown
        );
    }

    #[test]
    fn one_stage_missing_and_another_not_gives_one_reason_and_later_steps_follow_their_parent() {
        // deps came wholly from cache; builder missed at the edited COPY and ran the two steps
        // after it because their parent did; final copies the rebuilt output.
        let steps = [
            step("deps", 2, "RUN apt-get install -y gcc", true),
            step("builder", 2, "WORKDIR /src", true),
            step("builder", 3, "COPY app/ /src/", false),
            step("builder", 4, "RUN make", false),
            step("builder", 5, "RUN make test", false),
            step("final", 2, "COPY --from=builder /out /app", false),
        ];
        let misses = first_misses(&steps, &[]);
        let reasons: Vec<(&str, u32, u32, MissReason)> = misses
            .iter()
            .map(|m| {
                let reason = miss_reason(m, &edited(&["app/main.py"]), Some(true), &misses);
                (m.stage.as_str(), m.ran_steps, m.total_steps, reason)
            })
            .collect();
        assert_eq!(
            reasons,
            [
                (
                    "builder",
                    3,
                    4,
                    MissReason::EditedSources(edited(&["app/main.py"]))
                ),
                ("final", 1, 1, MissReason::ParentMissed("builder".into())),
            ]
        );
        assert_eq!(
            reasons[0].3.words(CacheMode::Incremental),
            "it copies app/main.py, which the edit changed"
        );
    }
}
