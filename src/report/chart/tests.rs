use super::*;
use crate::keys::SeriesKey;
use crate::stats::{Interval, SampleSummary, StageBreakdown};

/// A group as the analysis would make it from `samples_seconds` (empty: every run failed).
fn group(
    variant: &str,
    cache: CacheMode,
    samples_seconds: &[f64],
    image_bytes: Option<u64>,
) -> GroupSummary {
    let build_seconds = (!samples_seconds.is_empty()).then(|| {
        let mut sorted = samples_seconds.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        let mean = sorted.iter().sum::<f64>() / n as f64;
        SampleSummary {
            n,
            mean,
            median,
            stddev: 0.0,
            min: sorted[0],
            max: sorted[n - 1],
            cv: 0.0,
            median_interval: (n >= 6).then(|| Interval {
                low: sorted[0],
                high: sorted[n - 1],
            }),
            median_interval_coverage: (n >= 6).then_some(0.96875),
            outliers: Vec::new(),
        }
    });
    GroupSummary {
        key: SeriesKey {
            scenario: "go-service".to_string(),
            variant: variant.to_string(),
            builder: Builder::BuildKit,
            cache,
            host: "local".to_string(),
        },
        runs_ok: samples_seconds.len(),
        runs_failed: if samples_seconds.is_empty() { 3 } else { 0 },
        runs_timed_out: 0,
        runs_interrupted: 0,
        runs_cache_mismatch: 0,
        build_seconds,
        image_bytes,
        compressed_bytes: None,
        export_seconds: None,
        cache_bytes: None,
        samples_seconds: samples_seconds.to_vec(),
    }
}

/// Three variants, every mode, three runs each: a typical single/multi-stage comparison.
fn realistic_groups() -> Vec<GroupSummary> {
    use CacheMode::{Cold, Incremental, Warm};
    let sizes = [
        ("single", 1_000_000_000),
        ("multi", 610_000_000),
        ("prebuilt", 600_000_000),
    ];
    let times: [(&str, CacheMode, [f64; 3]); 9] = [
        ("single", Cold, [781.2, 764.9, 796.0]),
        ("multi", Cold, [320.4, 311.8, 333.1]),
        ("prebuilt", Cold, [85.3, 84.1, 88.9]),
        ("single", Warm, [0.31, 0.28, 0.29]),
        ("multi", Warm, [0.052, 0.048, 0.061]),
        ("prebuilt", Warm, [0.11, 0.12, 0.10]),
        ("single", Incremental, [40.2, 41.7, 39.5]),
        ("multi", Incremental, [12.1, 12.6, 11.8]),
        ("prebuilt", Incremental, [9.2, 8.8, 9.6]),
    ];
    times
        .iter()
        .map(|(variant, mode, samples)| {
            let bytes = sizes
                .iter()
                .find(|(name, _)| name == variant)
                .map(|(_, b)| *b);
            group(variant, *mode, samples, bytes)
        })
        .collect()
}

/// Two variants, one of whose warm builds all failed, and a tiny static image.
fn with_failure_groups() -> Vec<GroupSummary> {
    use CacheMode::{Cold, Incremental, Warm};
    vec![
        group(
            "single",
            Cold,
            &[212.0, 205.5, 220.3, 208.1, 211.7],
            Some(742_600_000),
        ),
        group(
            "single",
            Warm,
            &[0.43, 0.41, 0.45, 0.40, 0.44],
            Some(742_600_000),
        ),
        group(
            "single",
            Incremental,
            &[31.0, 29.4, 30.2, 33.9, 30.5],
            Some(742_600_000),
        ),
        group("multi", Cold, &[96.3, 99.0], Some(4_400_000)),
        group("multi", Warm, &[], None),
        group(
            "multi",
            Incremental,
            &[4.1, 3.9, 4.4, 4.0, 4.2],
            Some(4_400_000),
        ),
    ]
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn input<'a>(variants: &'a [String], groups: &'a [GroupSummary]) -> ChartInput<'a> {
    ChartInput {
        scenario: "go-service",
        file_stem: "go-service",
        host: "local",
        show_host: false,
        builder: Builder::BuildKit,
        daemon: "Docker 20.10.24",
        variants,
        baseline: variants.first().map(String::as_str),
        groups,
        comparisons: &[],
    }
}

fn render_ok(input: &ChartInput<'_>) -> Vec<ChartFile> {
    match render_charts(input) {
        Ok(files) => files,
        Err(error) => panic!("rendering failed: {error}"),
    }
}

/// A chart rendered as `<name>.svg` then `<name>.png`, the PNG as wide as every chart; returns
/// the files and the PNG's height.
fn svg_and_png(rendered: Result<Vec<ChartFile>, ChartError>, name: &str) -> (Vec<ChartFile>, u32) {
    let files = match rendered {
        Ok(files) => files,
        Err(error) => panic!("rendering failed: {error}"),
    };
    let file_names: Vec<&str> = files.iter().map(|f| f.file_name.as_str()).collect();
    assert_eq!(file_names, [format!("{name}.svg"), format!("{name}.png")]);
    let (width, height) = png_dimensions(&files[1].bytes);
    assert_eq!(width, CHART_WIDTH_PX);
    (files, height)
}

fn png_dimensions(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(bytes[..8], [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]);
    assert_eq!(&bytes[12..16], b"IHDR");
    let width = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    let height = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
    (width, height)
}

#[test]
fn six_files_with_the_documented_names() {
    let variants = names(&["single", "multi", "prebuilt"]);
    let groups = realistic_groups();
    let files = render_ok(&input(&variants, &groups));
    let file_names: Vec<&str> = files.iter().map(|f| f.file_name.as_str()).collect();
    assert_eq!(
        file_names,
        [
            "go-service-build-time.svg",
            "go-service-build-time.png",
            "go-service-image-size.svg",
            "go-service-image-size.png",
            "go-service-time-vs-size.svg",
            "go-service-time-vs-size.png",
        ]
    );
}

#[test]
fn site_svgs_keep_their_text_as_text_at_the_widths_the_font_measured() {
    let variants = names(&["single", "multi", "prebuilt"]);
    let groups = realistic_groups();
    let input = input(&variants, &groups);
    let files = match render_charts_as(&input, ChartOutput::SiteSvg) {
        Ok(files) => files,
        Err(error) => panic!("rendering failed: {error}"),
    };
    let outlined = render_ok(&input);
    assert_eq!(files.len(), 3, "one SVG per chart, no PNG");
    for file in files {
        assert!(file.file_name.ends_with(".svg"), "{}", file.file_name);
        let svg = String::from_utf8(file.bytes).unwrap_or_default();
        assert!(svg.contains("<text "), "{}", file.file_name);
        assert!(
            svg.contains("lengthAdjust=\"spacingAndGlyphs\""),
            "{}",
            file.file_name
        );
        assert!(
            svg.contains(&format!(">{}</text>", file.title)),
            "{}",
            file.file_name
        );
        assert!(!file.title.is_empty(), "{}", file.file_name);
        assert!(
            !svg.contains("<path fill=\"#"),
            "{} has glyph outlines",
            file.file_name
        );
        // Same layout as the report's chart, with a tenth or so of its bytes.
        let report_svg = outlined
            .iter()
            .find(|f| f.file_name == file.file_name)
            .map_or(0, |f| f.bytes.len());
        assert!(
            svg.len() * 3 < report_svg,
            "{}: {} bytes",
            file.file_name,
            svg.len()
        );
    }
}

#[test]
fn pngs_are_full_size_and_svgs_have_outlined_text_only() {
    let variants = names(&["single", "multi", "prebuilt"]);
    let groups = realistic_groups();
    for file in render_ok(&input(&variants, &groups)) {
        if file.file_name.ends_with(".png") {
            assert_eq!(
                png_dimensions(&file.bytes),
                (CHART_WIDTH_PX, CHART_HEIGHT_PX),
                "{}",
                file.file_name
            );
            // Compressed, not stored: a chart is mostly flat colour.
            assert!(
                file.bytes.len() < 400_000,
                "{} is {} bytes",
                file.file_name,
                file.bytes.len()
            );
        } else {
            let svg = match String::from_utf8(file.bytes) {
                Ok(svg) => svg,
                Err(error) => panic!("{} is not UTF-8: {error}", file.file_name),
            };
            assert!(svg.starts_with("<svg"), "{}", file.file_name);
            assert!(svg.trim_end().ends_with("</svg>"), "{}", file.file_name);
            assert!(!svg.contains("<text"), "{} has <text>", file.file_name);
            assert!(!svg.contains("font-family"), "{}", file.file_name);
            // Title, subtitle, axis titles, ticks and labels: many glyph paths with curves.
            let glyph_paths = svg.matches("<path fill=\"#").filter(|_| true).count();
            assert!(
                glyph_paths > 10,
                "{} has {glyph_paths} glyph paths",
                file.file_name
            );
            assert!(svg.contains('Q'), "{} has no curves", file.file_name);
            assert!(
                svg.len() < 400_000,
                "{} is {} bytes",
                file.file_name,
                svg.len()
            );
        }
    }
}

#[test]
fn failed_and_missing_groups_still_render() {
    let variants = names(&["single", "multi"]);
    let groups = with_failure_groups();
    assert_eq!(render_ok(&input(&variants, &groups)).len(), 6);

    // Nothing succeeded at all, and a variant with no groups whatsoever.
    let all_failed = vec![
        group("single", CacheMode::Cold, &[], None),
        group("multi", CacheMode::Warm, &[], None),
    ];
    let three = names(&["single", "multi", "ghost"]);
    assert_eq!(render_ok(&input(&three, &all_failed)).len(), 6);

    // No groups and no variants.
    assert_eq!(render_ok(&input(&[], &[])).len(), 6);
}

#[test]
fn rendering_is_deterministic() {
    let variants = names(&["single", "multi", "prebuilt"]);
    let groups = realistic_groups();
    assert_eq!(
        render_ok(&input(&variants, &groups)),
        render_ok(&input(&variants, &groups))
    );
}

#[test]
fn many_long_variant_names_fit() {
    let variants: Vec<String> = (0..9)
        .map(|i| format!("variant-with-a-long-name-{i}"))
        .collect();
    let groups: Vec<GroupSummary> = variants
        .iter()
        .enumerate()
        .flat_map(|(i, v)| {
            let seconds = 10.0 + i as f64;
            CacheMode::ALL.map(|mode| {
                group(
                    v,
                    mode,
                    &[seconds, seconds * 1.1, seconds * 0.9],
                    Some(100_000_000),
                )
            })
        })
        .collect();
    assert_eq!(render_ok(&input(&variants, &groups)).len(), 6);
}

#[test]
fn titles_name_scenario_builder_and_daemon() {
    let variants = names(&["single"]);
    let groups = realistic_groups();
    let chart_input = input(&variants, &groups);
    let data = ChartData::new(&chart_input);
    assert_eq!(
        data.title("build time"),
        "go-service: build time (buildkit, Docker 20.10.24)"
    );
    let no_version = ChartInput {
        daemon: "",
        ..chart_input
    };
    assert_eq!(
        ChartData::new(&no_version).title("image size"),
        "go-service: image size (buildkit)"
    );
    assert_eq!(data.variants[0].legend_name(), "single (baseline)");
}

#[test]
fn image_size_comes_from_the_cold_build_first() {
    let variants = names(&["single"]);
    let groups = vec![
        group("single", CacheMode::Warm, &[1.0], Some(2)),
        group("single", CacheMode::Cold, &[1.0], Some(1)),
    ];
    let chart_input = input(&variants, &groups);
    assert_eq!(
        ChartData::new(&chart_input).variants[0].image_bytes(),
        Some(1)
    );
    let warm_only = vec![group("single", CacheMode::Warm, &[1.0], Some(2))];
    let chart_input = input(&variants, &warm_only);
    assert_eq!(
        ChartData::new(&chart_input).variants[0].image_bytes(),
        Some(2)
    );
}

/// Writes the example charts for a visual check:
/// `STAGEBENCH_CHART_DIR=/tmp/charts cargo test example_charts -- --ignored`.
#[test]
#[ignore = "writes example charts to STAGEBENCH_CHART_DIR for a human to look at"]
fn example_charts() {
    let dir = std::env::var_os("STAGEBENCH_CHART_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("stagebench-charts"));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let three = names(&["single", "multi", "prebuilt"]);
    let realistic = realistic_groups();
    let two = names(&["single", "multi"]);
    let failing: Vec<GroupSummary> = with_failure_groups()
        .into_iter()
        .map(|g| GroupSummary {
            key: SeriesKey {
                scenario: "rust-cli".to_string(),
                ..g.key
            },
            ..g
        })
        .collect();
    let failing_input = ChartInput {
        scenario: "rust-cli",
        file_stem: "rust-cli",
        builder: Builder::BuildKit,
        ..input(&two, &failing)
    };
    // Crowded: six long names, a variant never built warm, one whose builds all failed.
    let crowded_names: Vec<String> = [
        "debian-single-stage",
        "debian-multi-stage",
        "alpine-multi-stage",
        "distroless",
        "scratch-static",
        "never-built",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut crowded: Vec<GroupSummary> = Vec::new();
    for (i, name) in crowded_names.iter().enumerate().take(5) {
        let factor = 1.0 + i as f64;
        let bytes = Some(900_000_000 / (1 + 3 * i as u64));
        crowded.push(group(
            name,
            CacheMode::Cold,
            &[400.0 / factor, 410.0 / factor, 395.0 / factor],
            bytes,
        ));
        if i != 3 {
            crowded.push(group(
                name,
                CacheMode::Warm,
                &[0.2 * factor, 0.25 * factor, 0.22 * factor],
                bytes,
            ));
        }
        crowded.push(group(
            name,
            CacheMode::Incremental,
            &[30.0 / factor, 33.0 / factor, 29.0 / factor],
            bytes,
        ));
    }
    crowded.push(group("never-built", CacheMode::Cold, &[], None));
    let crowded: Vec<GroupSummary> = crowded
        .into_iter()
        .map(|g| GroupSummary {
            key: SeriesKey {
                scenario: "a-scenario-with-a-rather-long-name-for-a-title".to_string(),
                ..g.key
            },
            ..g
        })
        .collect();
    let crowded_input = ChartInput {
        scenario: "a-scenario-with-a-rather-long-name-for-a-title",
        file_stem: "a-scenario-with-a-rather-long-name-for-a-title",
        ..input(&crowded_names, &crowded)
    };
    let timelines: Vec<Timeline> = [CacheMode::Cold, CacheMode::Warm]
        .into_iter()
        .flat_map(|cache| {
            [
                timeline("single", cache, false),
                timeline("multi", cache, true),
            ]
        })
        .collect();
    let timeline_files = render_timeline(&timeline_input(&two, &timelines))
        .unwrap_or_else(|e| panic!("rendering failed: {e}"));
    for chart_input in [input(&three, &realistic), failing_input, crowded_input] {
        for file in render_ok(&chart_input)
            .into_iter()
            .chain(timeline_files.clone())
        {
            let path = dir.join(&file.file_name);
            std::fs::write(&path, &file.bytes)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
}

fn timeline(variant: &str, cache: CacheMode, parallel: bool) -> Timeline {
    let step = |stage: &str, instruction: &str, start: f64, seconds: f64| TimelineStep {
        stage: stage.to_string(),
        instruction: instruction.to_string(),
        started_offset_s: start,
        seconds,
        cached: cache == CacheMode::Warm,
    };
    let mut steps = vec![step("", "[internal] load build context", 0.0, 0.4)];
    let stages: Vec<String> = if parallel {
        steps.push(step(
            "python",
            "RUN ./configure && make -j2 && make install",
            0.5,
            90.0,
        ));
        steps.push(step("node", "RUN apt-get install -y nodejs", 0.5, 8.0));
        steps.push(step(
            "3",
            "COPY --from=python /usr/local /usr/local",
            90.6,
            2.0,
        ));
        vec!["python".into(), "node".into(), "3".into()]
    } else {
        steps.push(step(
            "0",
            "RUN ./configure && make -j2 && make install",
            0.5,
            95.0,
        ));
        steps.push(step("0", "RUN rm -rf /usr/src/python", 95.6, 1.0));
        vec!["0".into()]
    };
    steps.push(step("", "exporting to image", 96.7, 4.0));
    Timeline {
        variant: variant.to_string(),
        cache,
        build_seconds: 101.0,
        steps,
        stages,
    }
}

fn timeline_input<'a>(variants: &'a [String], timelines: &'a [Timeline]) -> TimelineInput<'a> {
    TimelineInput {
        title: "python-node",
        file_stem: "python-node",
        builder: Builder::BuildKit,
        daemon: "Docker 20.10.24",
        variants,
        timelines,
    }
}

#[test]
fn the_timeline_grows_with_its_rows_and_renders_the_same_bytes_twice() {
    let variants = names(&["single", "multi"]);
    let timelines: Vec<Timeline> = [CacheMode::Cold, CacheMode::Warm]
        .into_iter()
        .flat_map(|cache| {
            [
                timeline("single", cache, false),
                timeline("multi", cache, true),
            ]
        })
        .collect();
    let input = timeline_input(&variants, &timelines);
    let (files, height) = svg_and_png(render_timeline(&input), "python-node-timeline");
    assert!(
        (CHART_HEIGHT_PX / 2..CHART_HEIGHT_PX).contains(&height),
        "two variants with 2 and 4 rows: {height}"
    );
    let many: Vec<Timeline> = (0..8)
        .map(|i| timeline(&format!("variant-{i}"), CacheMode::Cold, true))
        .collect();
    let many_names: Vec<String> = many.iter().map(|t| t.variant.clone()).collect();
    let tall = match render_timeline(&timeline_input(&many_names, &many)) {
        Ok(files) => files,
        Err(error) => panic!("rendering failed: {error}"),
    };
    assert!(
        png_dimensions(&tall[1].bytes).1 > CHART_HEIGHT_PX,
        "eight variants of four rows need more than 900 px"
    );
    let again = match render_timeline(&input) {
        Ok(files) => files,
        Err(error) => panic!("rendering failed: {error}"),
    };
    assert_eq!(files, again);
}

fn image(variant: &str, instructions: &[(&str, u64, u64)]) -> crate::stats::ImageBreakdown {
    crate::stats::ImageBreakdown {
        scenario: "python-node".to_string(),
        variant: variant.to_string(),
        builder: Builder::BuildKit,
        host: "local".to_string(),
        build: crate::stats::BuildRef {
            run_id: "r".to_string(),
            seq: 1,
        },
        image_id: format!("sha256:{variant}"),
        image_bytes: 80_000_000 + instructions.iter().map(|i| i.1).sum::<u64>(),
        compressed_bytes: 30_000_000,
        base_image: "debian:bookworm-slim".to_string(),
        base_bytes: 80_000_000,
        base_compressed_bytes: 28_000_000,
        instructions: instructions
            .iter()
            .enumerate()
            .map(
                |(i, (created_by, bytes, wasted))| crate::stats::InstructionBytes {
                    layer: i as u32 + 2,
                    created_by: created_by.to_string(),
                    bytes: *bytes,
                    compressed_bytes: bytes / 3,
                    wasted_bytes: *wasted,
                },
            )
            .collect(),
        wasted_bytes: instructions.iter().map(|i| i.2).sum(),
        largest_wasted_files: Vec::new(),
    }
}

#[test]
fn the_layer_chart_has_a_row_per_analysed_variant_and_renders_the_same_bytes_twice() {
    let variants = names(&["single", "single-tidy", "multi"]);
    let images = [
        image(
            "single",
            &[
                ("RUN apt-get install -y build-essential", 400_000_000, 0),
                ("RUN make && make install", 300_000_000, 0),
                ("RUN apt-get purge -y build-essential", 2_000_000, 0),
            ],
        ),
        image("multi", &[("COPY --from=build /opt /opt", 90_000_000, 0)]),
    ];
    let input = LayersInput {
        title: "python-node",
        file_stem: "python-node",
        builder: Builder::BuildKit,
        variants: &variants,
        images: &images,
    };
    let (files, two_rows) = svg_and_png(render_layers(&input), "python-node-layers");
    let more: Vec<_> = (0..6)
        .map(|i| image(&format!("variant-{i}"), &[("RUN true", 1_000_000, 500_000)]))
        .collect();
    let many: Vec<String> = (0..6).map(|i| format!("variant-{i}")).collect();
    let taller = render_layers(&LayersInput {
        variants: &many,
        images: &more,
        ..input.clone()
    })
    .unwrap();
    assert!(
        png_dimensions(&taller[1].bytes).1 > two_rows,
        "six rows need more height than two"
    );
    assert_eq!(render_layers(&input).unwrap(), files, "deterministic");
}

/// A CI series of `variant` whose stages took these shares of their steps from cache.
fn ci_breakdown(variant: &str, cache: CacheMode, stages: &[(&str, f64)]) -> StageBreakdown {
    StageBreakdown {
        key: SeriesKey {
            scenario: "go-service".to_string(),
            variant: variant.to_string(),
            builder: Builder::BuildKit,
            cache,
            host: "local".to_string(),
        },
        median_run: crate::stats::BuildRef {
            run_id: "r".to_string(),
            seq: 1,
        },
        stages: stages
            .iter()
            .map(|(stage, cached_share)| crate::stats::StageSummary {
                stage: stage.to_string(),
                steps: 3,
                cached_steps: (cached_share * 3.0).round() as usize,
                cached_share: *cached_share,
                median_seconds: 1.0,
                share_of_build: 0.5,
                on_critical_path: true,
            })
            .collect(),
    }
}

#[test]
fn the_ci_chart_stacks_the_export_in_a_lighter_shade_grows_with_stages_and_is_left_out_without_ci_rows()
 {
    use CacheMode::{CiCold, CiInline, CiStages};
    let variants = names(&["single", "multi"]);
    let mut groups = realistic_groups();
    for (variant, mode, samples, export) in [
        ("single", CiCold, [61.0, 60.2, 62.3], None),
        ("single", CiInline, [8.1, 8.4, 7.9], Some((0.9, 12_300_000))),
        ("single", CiStages, [8.0, 8.2, 8.3], Some((1.1, 12_400_000))),
        ("multi", CiCold, [40.0, 41.5, 39.8], None),
        (
            "multi",
            CiInline,
            [39.1, 40.2, 38.7],
            Some((0.8, 4_100_000)),
        ),
        ("multi", CiStages, [4.1, 4.3, 3.9], Some((2.1, 183_000_000))),
    ] {
        let mut ci = group(variant, mode, &samples, Some(600_000_000));
        ci.export_seconds = export.map(|e| e.0);
        ci.cache_bytes = export.map(|e| e.1);
        groups.push(ci);
    }
    let stages = vec![
        ci_breakdown("single", CiInline, &[("0", 0.33)]),
        ci_breakdown(
            "multi",
            CiInline,
            &[("deps", 0.0), ("build", 0.0), ("1", 0.0)],
        ),
        ci_breakdown(
            "multi",
            CiStages,
            &[("deps", 1.0), ("build", 0.67), ("1", 0.0)],
        ),
    ];
    let input = CiInput {
        title: "go-service",
        file_stem: "go-service",
        builder: Builder::BuildKit,
        daemon: "Docker 20.10.24",
        variants: &variants,
        baseline: Some("single"),
        groups: &groups,
        stages: &stages,
    };
    let (files, three_stage_rows) = svg_and_png(render_ci(&input), "go-service-ci");
    let svg = String::from_utf8(files[0].bytes.clone()).unwrap();
    let hex = |c: RGBColor| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
    for index in 0..2 {
        let colour = style::variant_colour(index);
        assert!(
            svg.contains(&hex(style::tint(colour, 0.45)))
                && svg.contains(&hex(style::tint(colour, 0.12))),
            "variant {index}: a build part and a lighter export part"
        );
    }
    assert_eq!(render_ci(&input).unwrap(), files, "deterministic");

    let one_stage_row = vec![ci_breakdown("multi", CiStages, &[("1", 1.0)])];
    let shorter = render_ci(&CiInput {
        stages: &one_stage_row,
        ..input.clone()
    })
    .unwrap();
    assert!(png_dimensions(&shorter[1].bytes).1 < three_stage_rows);

    // Without exports nothing is drawn in the export's shade.
    let no_export: Vec<GroupSummary> = groups
        .iter()
        .map(|g| GroupSummary {
            export_seconds: None,
            ..g.clone()
        })
        .collect();
    let plain = render_ci(&CiInput {
        groups: &no_export,
        ..input.clone()
    })
    .unwrap();
    let plain_svg = String::from_utf8(plain[0].bytes.clone()).unwrap();
    assert!(!plain_svg.contains(&hex(style::tint(style::variant_colour(1), 0.12))));

    let local_only = realistic_groups();
    let none = render_ci(&CiInput {
        groups: &local_only,
        ..input
    })
    .unwrap();
    assert!(none.is_empty(), "no CI rows, no CI chart");
}
