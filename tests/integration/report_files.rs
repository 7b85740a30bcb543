//! Reports from fixed results folders: snapshots pin every text format, and `stagebench report`
//! remakes the same files from results.csv and meta.json alone.

use std::path::{Path, PathBuf};

use stagebench::export_targets::MarkdownLinks;
use stagebench::report::{
    self, BencherMetricFormat, BenchmarkAction, Exporter, Markdown, MarkdownExport, ReportData,
    SummaryCsv, SummaryJson,
};

use crate::support::stagebench;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn render(exporter: &dyn Exporter, name: &str) -> String {
    let data = ReportData::load(&fixture(name)).expect("fixture loads");
    String::from_utf8(exporter.render(&data).expect("renders")).expect("utf-8")
}

#[test]
fn snapshot_summary_csv() {
    insta::assert_snapshot!("go_service_summary_csv", render(&SummaryCsv, "go-service"));
    insta::assert_snapshot!("mixed_summary_csv", render(&SummaryCsv, "mixed"));
    insta::assert_snapshot!("ci_modes_summary_csv", render(&SummaryCsv, "ci-modes"));
}

#[test]
fn snapshot_summary_json() {
    insta::assert_snapshot!(
        "go_service_summary_json",
        render(&SummaryJson, "go-service")
    );
    insta::assert_snapshot!("mixed_summary_json", render(&SummaryJson, "mixed"));
}

#[test]
fn snapshot_report_md() {
    insta::assert_snapshot!("go_service_report_md", render(&Markdown, "go-service"));
    insta::assert_snapshot!("mixed_report_md", render(&Markdown, "mixed"));
    insta::assert_snapshot!("ci_modes_report_md", render(&Markdown, "ci-modes"));
}

#[test]
fn an_auto_run_s_report_gives_its_run_range_and_a_command_that_calls_stagebench() {
    // Recorded by a renamed copy of the binary (`stagebench-0.1.0`) with `--runs auto`.
    let report = render(&Markdown, "auto-run");
    assert!(
        report.contains(" · 3 to 10 runs per mode · "),
        "the header gives the run range, not the cap: {report}"
    );
    assert!(
        report.contains(
            "Reproduce with `stagebench run scenarios/node-frontend --runs auto --seed 16104359440615643419`"
        ),
        "the command calls stagebench, whatever the copy that ran was named: {report}"
    );
    assert!(!report.contains("stagebench-0.1.0"), "{report}");
}

#[test]
fn a_gated_auto_run_s_report_says_its_series_also_ran_for_the_gate() {
    let mut set = stagebench::results::ResultSet::load(&fixture("auto-run")).unwrap();
    let alone = String::from_utf8(Markdown.render(&ReportData::new(set.clone())).unwrap()).unwrap();
    assert!(!alone.contains("under the gate"), "{alone}");
    set.meta.settings.options.gated_looks = Some(stagebench::run_options::GatedLooks {
        baseline: "nightly".to_string(),
        baseline_run_id: "r1".to_string(),
        time_threshold: 0.10,
        required_runs: 3,
        allow_different_hosts: false,
    });
    let gated = String::from_utf8(Markdown.render(&ReportData::new(set)).unwrap()).unwrap();
    assert!(
        gated.contains(
            "The looks were also taken under the gate against baseline `nightly`: a series ran on while its comparison with the baseline's series needed it"
        ),
        "{gated}"
    );
}

/// Every `](target)` of a Markdown text: link and image targets alike.
fn link_targets(markdown: &str) -> Vec<String> {
    markdown
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split_once(')').map(|(target, _)| target.to_string()))
        .collect()
}

#[test]
fn the_markdown_export_links_the_folder_s_files_under_a_base_url_or_names_them_as_text() {
    for name in ["go-service", "mixed", "ci-modes"] {
        let relative = render(&Markdown, name);
        assert_eq!(
            render(
                &MarkdownExport {
                    links: &MarkdownLinks::Relative
                },
                name
            ),
            relative,
            "{name}: `relative` is report.md itself"
        );
        let folder_files: Vec<String> = link_targets(&relative)
            .into_iter()
            .filter(|target| !target.contains('/'))
            .collect();
        assert!(
            folder_files.iter().any(|t| t.ends_with("-build-time.png"))
                && folder_files.contains(&"results.csv".to_string()),
            "{name}: {folder_files:?}"
        );

        let base = "https://example.org/bench/night";
        let published = render(
            &MarkdownExport {
                links: &MarkdownLinks::Base(base.to_string()),
            },
            name,
        );
        let expected: Vec<String> = folder_files.iter().map(|f| format!("{base}/{f}")).collect();
        assert_eq!(link_targets(&published), expected, "{name}: {published}");
        assert_eq!(
            published.matches("![").count(),
            relative.matches("![").count(),
            "{name}: every chart is still shown"
        );

        let text = render(
            &MarkdownExport {
                links: &MarkdownLinks::Text,
            },
            name,
        );
        assert!(link_targets(&text).is_empty(), "{name}: {text}");
        assert!(!text.contains("!["), "{name}: {text}");
        for file in &folder_files {
            assert!(
                text.contains(&format!("`{file}`")),
                "{name}: {file} not named"
            );
        }
    }
}

#[test]
fn markdown_links_reaches_the_export_and_needs_it() {
    let dir = tempfile::tempdir().unwrap();
    for file in report::INPUT_FILES {
        std::fs::copy(fixture("go-service").join(file), dir.path().join(file)).unwrap();
    }
    let output = stagebench(
        dir.path(),
        &[
            "report",
            ".",
            "--export-markdown",
            "summary.md",
            "--markdown-links",
            "https://example.org/n/",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let written = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    let targets = link_targets(&written);
    assert!(!targets.is_empty());
    assert!(
        targets
            .iter()
            .all(|t| t.starts_with("https://example.org/n/")
                && !t.starts_with("https://example.org/n//")),
        "{targets:?}"
    );
    let report_md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(
        link_targets(&report_md).contains(&"results.csv".to_string()),
        "report.md in the folder keeps its relative links"
    );

    for (args, says) in [
        (vec!["--markdown-links", "none"], "--export-markdown"),
        (
            vec!["--export-markdown", "x.md", "--markdown-links", "results/x"],
            "not `relative`, `none` or an absolute http(s) URL",
        ),
    ] {
        let output = stagebench(dir.path(), &[&["report", "."][..], &args].concat());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(stderr.contains("--markdown-links"), "{args:?}: {stderr}");
    }
}

#[test]
fn snapshot_ci_exports() {
    insta::assert_snapshot!(
        "go_service_benchmark_action",
        render(&BenchmarkAction, "go-service")
    );
    insta::assert_snapshot!("mixed_bmf", render(&BencherMetricFormat, "mixed"));
}

#[test]
fn snapshot_terminal_table() {
    for name in ["go-service", "mixed", "ci-modes"] {
        let data = ReportData::load(&fixture(name)).expect("fixture loads");
        insta::assert_snapshot!(
            format!("{}_terminal", name.replace('-', "_")),
            report::terminal_table(&data)
        );
    }
}

#[test]
fn report_command_remakes_identical_files_from_results_and_meta() {
    let dir = tempfile::tempdir().unwrap();
    for file in report::INPUT_FILES {
        std::fs::copy(fixture("mixed").join(file), dir.path().join(file)).unwrap();
    }
    let output = stagebench(dir.path(), &["report", "."]);
    assert!(output.status.success());
    let mut first: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    first.sort();
    let names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "results.csv",
        "meta.json",
        "summary.csv",
        "summary.json",
        "report.md",
        "python-node-build-time.svg",
        "python-node-build-time.png",
        "python-node-image-size.svg",
        "python-node-image-size.png",
        "python-node-time-vs-size.svg",
        "python-node-time-vs-size.png",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    assert_eq!(names.len(), 11, "{names:?}");

    for (name, _) in &first {
        if !report::INPUT_FILES.contains(&name.as_str()) {
            std::fs::remove_file(dir.path().join(name)).unwrap();
        }
    }
    let output = stagebench(dir.path(), &["report", "."]);
    assert!(output.status.success());
    for (name, bytes) in &first {
        assert_eq!(
            &std::fs::read(dir.path().join(name)).unwrap(),
            bytes,
            "{name} differs when remade"
        );
    }
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("prebuilt") && table.contains("faster than single"),
        "{table}"
    );
}

#[test]
fn a_run_with_ci_modes_gets_its_ci_table_section_and_chart_and_one_without_gets_none() {
    let dir = tempfile::tempdir().unwrap();
    for file in [
        "results.csv",
        "meta.json",
        "steps.csv",
        "layers.csv",
        "waste.csv",
    ] {
        std::fs::copy(fixture("ci-modes").join(file), dir.path().join(file)).unwrap();
    }
    let output = stagebench(dir.path(), &["report", "."]);
    assert!(output.status.success());
    for chart in ["ci-modes-ci.svg", "ci-modes-ci.png"] {
        assert!(dir.path().join(chart).is_file(), "{chart} missing");
    }
    let report = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(report.contains("| variant | ci-cold build | ci-inline build | ci-stages build |"));
    assert!(report.contains("**0.385 s** (+0.159 s export, 1.07 MB cache)"));
    assert!(report.contains("base images kept as a runner image would have them"));
    assert!(report.contains("![ci-modes: CI build time"));
    assert!(
        report.contains("1.23 s of CI previous jobs' builds, 0.322 s of registry pushes and pulls")
    );

    let local = tempfile::tempdir().unwrap();
    for file in report::INPUT_FILES {
        std::fs::copy(fixture("mixed").join(file), local.path().join(file)).unwrap();
    }
    assert!(stagebench(local.path(), &["report", "."]).status.success());
    let names: Vec<String> = std::fs::read_dir(local.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains("-ci.")), "{names:?}");
    let report = std::fs::read_to_string(local.path().join("report.md")).unwrap();
    assert!(!report.contains("CI modes"));
}

#[test]
fn exports_go_to_files_and_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    for file in report::INPUT_FILES {
        std::fs::copy(fixture("go-service").join(file), dir.path().join(file)).unwrap();
    }
    let output = stagebench(
        dir.path(),
        &[
            "report",
            ".",
            "--export-csv",
            "copy.csv",
            "--export-json",
            "-",
            "--export-markdown",
            "copy.md",
        ],
    );
    assert!(output.status.success());
    assert_eq!(
        std::fs::read(dir.path().join("copy.csv")).unwrap(),
        std::fs::read(dir.path().join("summary.csv")).unwrap()
    );
    assert_eq!(
        std::fs::read(dir.path().join("copy.md")).unwrap(),
        std::fs::read(dir.path().join("report.md")).unwrap()
    );
    let json: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout holds only the JSON export");
    assert_eq!(json["schema"], "stagebench-summary");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("faster than single"),
        "the table moves to stderr"
    );
}

#[test]
fn report_on_a_folder_without_results_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = stagebench(dir.path(), &["report", "."]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("has no results.csv"));
}
