//! The GitHub Action's script (scripts/action, which action.yml runs) run for real: a tiny
//! busybox scenario of two trees built interleaved on the Docker daemon, then gated on
//! baselines that pass, regress and are missing. The job summary and the outputs go to files,
//! as `GITHUB_STEP_SUMMARY` and `GITHUB_OUTPUT` point them on a runner.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use stagebench::results::ResultSet;
use stagebench::scenario::image_repository_for;

use crate::support::{RemoveOnDrop, docker_daemon, write_tree};

/// What one run of the script left.
struct ActionRun {
    status: i32,
    stderr: String,
    /// The job summary file as the runner would show it.
    summary: String,
    outputs: BTreeMap<String, String>,
    out: PathBuf,
}

/// Runs scripts/action in `workspace` with `inputs` (environment variables: INPUT_X as
/// action.yml passes them), the artifact folder `workspace/<name>`, and the summary and output
/// files beside it.
fn run_action(workspace: &Path, name: &str, inputs: &[(&str, &str)]) -> ActionRun {
    let out = workspace.join(name);
    let summary_file = workspace.join(format!("{name}.step-summary.md"));
    let output_file = workspace.join(format!("{name}.github-output"));
    let runner_temp = workspace.join("runner-temp");
    std::fs::create_dir_all(&runner_temp).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/action");
    let mut command = Command::new(script);
    command
        .current_dir(workspace)
        .env("GITHUB_WORKSPACE", workspace)
        .env("RUNNER_TEMP", &runner_temp)
        .env("GITHUB_STEP_SUMMARY", &summary_file)
        .env("GITHUB_OUTPUT", &output_file)
        .env("INPUT_STAGEBENCH", env!("CARGO_BIN_EXE_stagebench"))
        .env("INPUT_OUT", &out)
        .env_remove("STAGEBENCH_REGISTRY")
        .env_remove("STAGEBENCH_SUMMARY_LIMIT_BYTES")
        .env_remove("COLUMNS");
    for (key, _) in std::env::vars() {
        if key.starts_with("INPUT_") && key != "INPUT_STAGEBENCH" && key != "INPUT_OUT" {
            command.env_remove(key);
        }
    }
    for (key, value) in inputs {
        command.env(key, value);
    }
    let output = command.output().expect("run scripts/action");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    eprintln!("scripts/action {name} {inputs:?}\n--- stderr\n{stderr}");
    let outputs = std::fs::read_to_string(&output_file)
        .unwrap_or_else(|e| panic!("{name}: no GITHUB_OUTPUT file ({e}): {stderr}"))
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ActionRun {
        status: output.status.code().expect("exit status"),
        summary: std::fs::read_to_string(&summary_file).unwrap_or_default(),
        stderr,
        outputs,
        out,
    }
}

/// Every link and image target of a Markdown text (`[..](target)`, `![..](target)`) and of any
/// HTML in it (`src="…"`, `href="…"`).
fn targets(markdown: &str) -> Vec<String> {
    let mut found: Vec<String> = markdown
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split_once(')').map(|(t, _)| t.to_string()))
        .collect();
    for attribute in ["src=\"", "href=\""] {
        found.extend(
            markdown
                .split(attribute)
                .skip(1)
                .filter_map(|rest| rest.split_once('"').map(|(t, _)| t.to_string())),
        );
    }
    found
}

/// The summary's links and images all reach files of the artifact folder: under `base_url`
/// when one was given (and then there are charts), else there are none at all and the files
/// it names as text (`results/report.md`) are there.
fn assert_summary_reaches_the_artifact(run: &ActionRun, base_url: Option<&str>) {
    let summary = &run.summary;
    assert!(
        summary.starts_with("## stagebench: ") && summary.len() > 1000,
        "a job summary of substance: {summary}"
    );
    assert!(
        summary.contains("| variant |"),
        "the headline table: {summary}"
    );
    assert_eq!(
        std::fs::read_to_string(run.out.join("summary.md")).unwrap(),
        *summary,
        "the artifact keeps what the job summary shows"
    );
    let found = targets(summary);
    match base_url {
        Some(base) => {
            assert!(
                summary.matches("![").count() >= 3,
                "the charts are shown: {summary}"
            );
            for target in &found {
                let inside = target
                    .strip_prefix(&format!("{base}/"))
                    .unwrap_or_else(|| panic!("{target} is not under {base}/"));
                assert!(
                    !inside.contains("..") && run.out.join(inside).is_file(),
                    "{target}: {inside} is not a file of the artifact {}",
                    run.out.display()
                );
            }
            assert!(
                found.iter().any(|t| t.ends_with("/site/index.html")),
                "{found:?}"
            );
            assert!(found.iter().any(|t| t.ends_with(".png")), "{found:?}");
        }
        None => {
            assert!(found.is_empty(), "no link without a base URL: {found:?}");
            assert!(!summary.contains("!["), "no image without a base URL");
            for named in [
                "results/report.md",
                "results/results.csv",
                "site/index.html",
            ] {
                assert!(summary.contains(&format!("`{named}`")), "{named} named");
                assert!(run.out.join(named).is_file(), "{named} in the artifact");
            }
        }
    }
}

fn assert_outputs(run: &ActionRun, verdict: &str) {
    assert_eq!(run.outputs["exit-code"], run.status.to_string());
    assert_eq!(run.outputs["verdict"], verdict, "{}", run.stderr);
    assert_eq!(Path::new(&run.outputs["artifact-dir"]), run.out);
    assert_eq!(
        Path::new(&run.outputs["results-dir"]),
        run.out.join("results")
    );
    assert!(run.out.join("results/results.csv").is_file());
    assert!(Path::new(&run.outputs["summary-file"]).is_file());
    assert!(
        Path::new(&run.outputs["site-dir"])
            .join("index.html")
            .is_file()
    );
    for export in ["benchmark-action.json", "bmf.json"] {
        assert!(run.out.join(export).is_file(), "{export}");
    }
}

#[test]
fn docker_action_script_runs_two_trees_interleaved_and_its_gate_fails_closed() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let single = "FROM busybox:latest\nRUN echo one > /one\n";
    let multi = "FROM busybox:latest AS build\nRUN echo one > /one\n\
                 FROM busybox:latest\nCOPY --from=build /one /one\n";
    let dir = write_tree(&[
        ("main/actionbench/single.Dockerfile", single),
        ("main/actionbench/multi.Dockerfile", multi),
        ("pr/actionbench/single.Dockerfile", single),
        ("pr/actionbench/multi.Dockerfile", multi),
    ]);
    let workspace = dir.path();
    let _cleanup = RemoveOnDrop(vec![image_repository_for("actionbench")]);

    // This tree against main's, two rounds of two warm runs each, published at a base URL.
    let base = "https://example.org/bench/pr-7";
    let interleaved = run_action(
        workspace,
        "interleaved",
        &[
            ("INPUT_SCENARIOS", "pr/actionbench\n"),
            ("INPUT_BASELINE_SCENARIOS", "main/actionbench"),
            ("INPUT_ROUNDS", "2"),
            ("INPUT_RUNS", "2"),
            ("INPUT_CACHE", "warm"),
            ("INPUT_RUN_ARGS", "--quiet"),
            ("INPUT_BASE_URL", &format!("{base}/")),
            ("INPUT_COMMENT", "true"),
        ],
    );
    // The same Dockerfiles on both sides: whether noise made one series look slower is not
    // this test's business, but the verdict and the exit status must agree.
    let verdict = interleaved.outputs["verdict"].clone();
    match interleaved.status {
        0 => assert_eq!(verdict, "pass"),
        1 => assert_eq!(verdict, "regression"),
        other => panic!("exit {other}, verdict {verdict}: {}", interleaved.stderr),
    }
    assert_outputs(&interleaved, &verdict);
    assert_summary_reaches_the_artifact(&interleaved, Some(base));
    assert!(interleaved.summary.contains("## stagebench compare"));
    let comment = std::fs::read_to_string(&interleaved.outputs["comment-file"]).unwrap();
    assert!(comment.starts_with("<!-- stagebench -->\n"), "{comment}");
    assert!(comment.len() <= 65_536);

    // Interleaved: main round 1, this tree round 1, main round 2, this tree round 2.
    let current = ResultSet::load(&interleaved.out.join("results")).unwrap();
    let baseline = ResultSet::load(&interleaved.out.join("baseline")).unwrap();
    let mut invocations: Vec<(String, &str)> = Vec::new();
    for (set, side) in [(&baseline, "main"), (&current, "pr")] {
        assert_eq!(set.meta.invocations.len(), 2, "{side}: one per round");
        let timed = set.records.iter().filter(|r| !r.warmup).count();
        // 2 variants x 2 rounds x 2 runs of the one cache mode.
        assert_eq!(timed, 8, "{side}");
        for invocation in &set.meta.invocations {
            assert!(
                invocation
                    .command_line
                    .iter()
                    .any(|w| w.ends_with(&format!("{side}/actionbench"))),
                "{side}: {:?}",
                invocation.command_line
            );
            invocations.push((invocation.started_at.clone(), side));
        }
    }
    invocations.sort();
    let order: Vec<&str> = invocations.iter().map(|(_, side)| *side).collect();
    assert_eq!(order, ["main", "pr", "main", "pr"]);

    // From here on the script merges those results instead of building.
    let results = interleaved.out.join("results");
    let results = results.to_str().unwrap();

    // No baseline: the gate cannot judge, so it fails (2), and the summary says why.
    let missing = run_action(workspace, "missing", &[("INPUT_RESULTS", results)]);
    assert_eq!(missing.status, 2, "{}", missing.stderr);
    assert_outputs(&missing, "no-baseline");
    assert!(missing.summary.contains("No baseline was given"));
    assert_summary_reaches_the_artifact(&missing, None);
    assert!(!missing.out.join("comment.md").exists());

    // A baseline named but absent fails the same way, naming where it looked.
    let absent = run_action(
        workspace,
        "absent",
        &[("INPUT_RESULTS", results), ("INPUT_BASELINE", "nightly")],
    );
    assert_eq!(absent.status, 2);
    assert_outputs(&absent, "no-baseline");
    assert!(
        absent.summary.contains("`reports/baselines/nightly`"),
        "{}",
        absent.summary
    );

    // Unless a new history starts on purpose.
    let new_history = run_action(
        workspace,
        "new-history",
        &[("INPUT_RESULTS", results), ("INPUT_NEW_HISTORY", "true")],
    );
    assert_eq!(new_history.status, 0, "{}", new_history.stderr);
    assert_outputs(&new_history, "new-history");

    // The same results as their own baseline: nothing changed, so the gate passes.
    let same = run_action(
        workspace,
        "same",
        &[("INPUT_RESULTS", results), ("INPUT_BASELINE", results)],
    );
    assert_eq!(same.status, 0, "{}", same.stderr);
    assert_outputs(&same, "pass");
    assert_summary_reaches_the_artifact(&same, None);
    assert!(same.summary.contains("No regression"), "{}", same.summary);

    // More runs required than either side has: a series the gate cannot judge fails (2).
    let too_few = run_action(
        workspace,
        "too-few",
        &[
            ("INPUT_RESULTS", results),
            ("INPUT_BASELINE", results),
            ("INPUT_REQUIRE_RUNS", "5"),
        ],
    );
    assert_eq!(too_few.status, 2, "{}", too_few.stderr);
    assert_outputs(&too_few, "not-gated");
    assert!(
        too_few.summary.contains("**Not gated**"),
        "{}",
        too_few.summary
    );

    // A baseline whose images were a quarter the size: every image grew, a regression.
    let mut smaller = ResultSet::load(Path::new(results)).unwrap();
    for record in &mut smaller.records {
        record.image_bytes = record.image_bytes.map(|bytes| bytes / 4);
    }
    smaller.write(&workspace.join("smaller")).unwrap();
    let regression = run_action(
        workspace,
        "regression",
        &[
            ("INPUT_RESULTS", results),
            ("INPUT_BASELINE", "smaller/"),
            ("INPUT_BASE_URL", base),
        ],
    );
    assert_eq!(regression.status, 1, "{}", regression.stderr);
    assert_outputs(&regression, "regression");
    assert_summary_reaches_the_artifact(&regression, Some(base));
    assert!(regression.summary.contains("**Regression**"));

    // A summary over the limit GitHub shows becomes one line naming the artifact's copy.
    let long = run_action(
        workspace,
        "long",
        &[
            ("INPUT_RESULTS", results),
            ("STAGEBENCH_SUMMARY_LIMIT_BYTES", "500"),
        ],
    );
    assert_eq!(long.status, 2);
    assert_eq!(long.summary.lines().filter(|l| !l.is_empty()).count(), 2);
    assert!(
        long.summary
            .contains("`summary.md` in the artifact `stagebench`"),
        "{}",
        long.summary
    );
    assert!(
        std::fs::metadata(long.out.join("summary.md"))
            .unwrap()
            .len()
            > 500
    );
}
