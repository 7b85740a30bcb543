//! `stagebench history` on three constructed nights with a step change in the middle one.

use std::path::Path;

use crate::support::{stagebench, stderr};

/// A results folder of go-service's `multi` cold builds started at `started_at`.
fn night(root: &Path, name: &str, started_at: &str, seconds: &[f64]) {
    let dir = root.join("reports").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let meta = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/go-service/meta.json"),
    )
    .unwrap()
    .replace("2026-11-28T05:05:33.853519937Z", started_at);
    std::fs::write(dir.join("meta.json"), meta).unwrap();
    let mut csv = String::from(
        "scenario,variant,builder,cache,run,warmup,status,build_seconds,image_id,image_bytes,layers,cached_steps,total_steps,started_at,error\n",
    );
    for (run, s) in seconds.iter().enumerate() {
        csv.push_str(&format!(
            "go-service,multi,buildkit,cold,{},false,ok,{s},sha256:x,4472832,1,0,5,{started_at},\n",
            run + 1
        ));
    }
    std::fs::write(dir.join("results.csv"), csv).unwrap();
}

#[test]
fn history_marks_the_step_change_in_the_middle_night_and_draws_the_trend() {
    let root = tempfile::tempdir().unwrap();
    let steady = [15.0, 15.1, 14.9, 15.05, 14.95, 15.0];
    let slower: Vec<f64> = steady.iter().map(|s| s * 1.4).collect();
    night(root.path(), "a", "2026-11-27T02:00:00Z", &steady);
    night(root.path(), "b", "2026-11-28T02:00:00Z", &slower);
    night(root.path(), "c", "2026-11-29T02:00:00Z", &slower);
    let output = stagebench(root.path(), &["history", "reports", "--out", "trend"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(
        summary.starts_with("3 runs, 1 series, 1 step change"),
        "{summary}"
    );
    assert!(
        summary.contains("2026-11-28T02:00 go-service multi cold"),
        "{summary}"
    );

    let trend = root.path().join("trend");
    let csv = std::fs::read_to_string(trend.join("history.csv")).unwrap();
    let column = |name: &str| -> Vec<&str> {
        let index = csv
            .lines()
            .next()
            .unwrap()
            .split(',')
            .position(|c| c == name)
            .unwrap();
        csv.lines()
            .skip(1)
            .map(|line| line.split(',').nth(index).unwrap())
            .collect()
    };
    assert_eq!(column("change"), ["", "slower", "same"], "{csv}");
    // Two steps with an interval, one family: each at 1 - 0.05 / 2.
    assert_eq!(column("change_confidence"), ["", "0.975", "0.975"], "{csv}");
    let markdown = std::fs::read_to_string(trend.join("history.md")).unwrap();
    assert!(markdown.contains("1 step change"), "{markdown}");
    assert!(
        markdown.contains("**2026-11-28 02:00**: go-service multi cold"),
        "{markdown}"
    );
    assert!(markdown.contains("▲ 1.40× slower"), "{markdown}");
    assert_eq!(
        markdown.matches('▲').count(),
        2,
        "the step and the legend: {markdown}"
    );
    for extension in ["svg", "png"] {
        assert!(
            trend
                .join(format!("go-service-history.{extension}"))
                .is_file()
        );
    }
}
