//! The action's files agree with each other, and its script refuses bad input before building
//! anything: every input of action.yml reaches scripts/action and docs/action.md, and every
//! output is written by the script (or the upload step) and documented.

use std::path::Path;
use std::process::Command;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// The keys indented by two spaces between the top-level line `section:` and the next
/// top-level line.
fn keys_of(yaml: &str, section: &str) -> Vec<String> {
    yaml.lines()
        .skip_while(|line| *line != format!("{section}:"))
        .skip(1)
        .take_while(|line| line.is_empty() || line.starts_with(' ') || line.starts_with('#'))
        .filter_map(|line| line.strip_prefix("  "))
        .filter(|rest| !rest.starts_with(' ') && !rest.starts_with('#'))
        .filter_map(|rest| rest.strip_suffix(':'))
        .map(str::to_string)
        .collect()
}

/// The first column's names (`| `name` |`) of the table under `heading`, in order.
fn table_names(markdown: &str, heading: &str) -> Vec<String> {
    markdown
        .lines()
        .skip_while(|line| *line != heading)
        .skip(1)
        .take_while(|line| !line.starts_with("## "))
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once("` |").map(|(name, _)| name.to_string()))
        .collect()
}

#[test]
fn every_input_and_output_of_action_yml_is_passed_written_and_documented() {
    let action = read("action.yml");
    let script = read("scripts/action");
    let docs = read("docs/action.md");
    let inputs = keys_of(&action, "inputs");
    let outputs = keys_of(&action, "outputs");
    assert!(
        inputs.len() >= 20 && inputs.contains(&"base-url".to_string()),
        "{inputs:?}"
    );
    assert!(outputs.contains(&"exit-code".to_string()), "{outputs:?}");
    for input in &inputs {
        let variable = format!("INPUT_{}", input.to_uppercase().replace('-', "_"));
        assert!(
            action.contains(&format!("{variable}: ${{{{ inputs.{input} }}}}")),
            "action.yml passes {input} as {variable}"
        );
        assert!(
            script.contains(&variable),
            "scripts/action reads {variable}"
        );
        assert!(
            docs.contains(&format!("| `{input}` |")),
            "docs/action.md: {input}"
        );
    }
    for output in &outputs {
        assert!(
            docs.contains(&format!("| `{output}` |")),
            "docs/action.md: {output}"
        );
        let written = script.contains(&format!("echo \"{output}="))
            || action.contains(&format!("steps.upload.outputs.{output}"));
        assert!(written, "nothing writes the output {output}");
    }
    assert_eq!(
        table_names(&docs, "## Inputs"),
        inputs,
        "docs/action.md's inputs"
    );
    assert_eq!(
        table_names(&docs, "## Outputs"),
        outputs,
        "docs/action.md's outputs"
    );
}

#[test]
fn the_action_script_refuses_bad_input_in_one_sentence_with_verdict_error() {
    let dir = tempfile::tempdir().unwrap();
    let output_file = dir.path().join("github-output");
    for (inputs, says) in [
        (
            vec![("INPUT_SCENARIOS", "a"), ("INPUT_RESULTS", "b")],
            "scenarios and results are both given",
        ),
        (vec![], "neither scenarios (to run) nor results"),
        (
            vec![("INPUT_RESULTS", "b"), ("INPUT_BASE_URL", "results/x")],
            "base-url is `results/x`",
        ),
        (
            vec![("INPUT_RESULTS", "b"), ("INPUT_COMMENT", "yes")],
            "comment is `yes`; it takes true or false",
        ),
        (
            vec![("INPUT_RESULTS", "b"), ("INPUT_ROUNDS", "0")],
            "rounds is `0`",
        ),
    ] {
        std::fs::write(&output_file, "").unwrap();
        let mut command =
            Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/action"));
        command
            .current_dir(dir.path())
            .env("GITHUB_WORKSPACE", dir.path())
            .env("RUNNER_TEMP", dir.path())
            .env("GITHUB_OUTPUT", &output_file)
            .env("INPUT_STAGEBENCH", env!("CARGO_BIN_EXE_stagebench"));
        for (key, _) in std::env::vars() {
            if key.starts_with("INPUT_") && key != "INPUT_STAGEBENCH" {
                command.env_remove(key);
            }
        }
        let output = command.envs(inputs.iter().copied()).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{inputs:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one sentence: {stderr}");
        assert!(stderr.contains(says), "{inputs:?}: {stderr}");
        let outputs = std::fs::read_to_string(&output_file).unwrap();
        assert!(
            outputs.contains("exit-code=2\n") && outputs.contains("verdict=error\n"),
            "{outputs}"
        );
        assert!(
            !outputs.contains("artifact-dir="),
            "nothing to upload: {outputs}"
        );
        assert!(
            !dir.path().join("stagebench").exists(),
            "no artifact folder made"
        );
    }
}
