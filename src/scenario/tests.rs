use super::*;

fn scenario_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    dir
}

#[test]
fn two_dockerfiles_make_a_zero_config_scenario() {
    let dir = scenario_dir(&[
        ("single.Dockerfile", "FROM busybox\n"),
        ("multi.Dockerfile", "FROM busybox\n"),
        ("sub/nested.Dockerfile", "FROM busybox\n"),
        ("Dockerfile", "FROM busybox\n"),
    ]);
    let scenario = Scenario::load(dir.path()).unwrap();
    let names: Vec<_> = scenario.variants.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["single", "multi"], "the baseline comes first");
    assert_eq!(scenario.baseline.as_deref(), Some("single"));
    assert!(scenario.touch.is_empty());
}

#[test]
fn unknown_key_names_the_key_and_line() {
    let dir = scenario_dir(&[
        ("single.Dockerfile", "FROM busybox\n"),
        ("scenario.toml", "name = \"x\"\n\nbuid_args = {}\n"),
    ]);
    let message = Scenario::load(dir.path()).unwrap_err().to_string();
    assert!(message.contains("scenario.toml:3"), "{message}");
    assert!(message.contains("buid_args"), "{message}");
    assert_eq!(message.lines().count(), 1, "{message}");
}

#[test]
fn manifest_variants_prebuilds_and_precedence() {
    let dir = scenario_dir(&[
        ("single.Dockerfile", "FROM busybox\n"),
        ("alt/other.df", "FROM busybox\n"),
        ("pre/p.Dockerfile", "FROM busybox\n"),
        ("app/main.py", "print(1)\n"),
        (
            "scenario.toml",
            r#"
baseline = "single"
build_args = { A = "scenario", B = "scenario", C = "scenario", D = "scenario" }
[[variant]]
name = "other"
dockerfile = "alt/other.df"
target = "final"
build_args = { B = "variant", C = "variant", D = "variant" }
[[prebuild]]
tag = "local/pre:1"
dockerfile = "pre/p.Dockerfile"
context = "pre"
target = "runtime"
[incremental]
touch = ["app/main.py"]
[profile.quick]
build_args = { C = "profile", D = "profile" }
"#,
        ),
    ]);
    let scenario = Scenario::load(dir.path()).unwrap();
    let other = scenario
        .variants
        .iter()
        .find(|v| v.name == "other")
        .unwrap();
    assert_eq!(other.target.as_deref(), Some("final"));
    assert_eq!(scenario.prebuilds[0].tag, "local/pre:1");
    assert_eq!(scenario.prebuilds[0].target.as_deref(), Some("runtime"));
    assert!(scenario.prebuilds[0].context_dir.ends_with("pre"));
    let cli = BuildArgs::from([("D".to_string(), "cli".to_string())]);
    let merged = scenario.merged_build_args(
        &other.build_args,
        Some(scenario.profile("quick").unwrap()),
        &cli,
    );
    let values: Vec<_> = merged.values().map(String::as_str).collect();
    assert_eq!(values, ["scenario", "variant", "profile", "cli"]);
    let missing = scenario.profile("slow").unwrap_err().to_string();
    assert!(
        missing.contains("[profile.slow]") && missing.contains("quick"),
        "{missing}"
    );
}

#[test]
fn bad_references_are_refused_with_the_file_named() {
    for (toml_text, expected) in [
        ("baseline = \"nope\"\n", "baseline `nope`"),
        ("[incremental]\ntouch = [\"missing.py\"]\n", "missing.py"),
        ("[incremental]\ntouch = [\"../outside\"]\n", "../outside"),
        ("context = \"/etc\"\n", "context `/etc`"),
        (
            "[[prebuild]]\ntag = \"t\"\ndockerfile = \"none\"\n",
            "prebuild `t`",
        ),
    ] {
        let dir = scenario_dir(&[
            ("single.Dockerfile", "FROM busybox\n"),
            ("scenario.toml", toml_text),
        ]);
        let message = Scenario::load(dir.path()).unwrap_err().to_string();
        assert!(message.contains("scenario.toml"), "{message}");
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn paths_reach_up_to_the_repository_root_and_no_further() {
    let repo = tempfile::tempdir().unwrap();
    let top = fs::canonicalize(repo.path()).unwrap();
    fs::create_dir(top.join(".git")).unwrap();
    fs::create_dir_all(top.join("bench")).unwrap();
    fs::write(top.join("Dockerfile"), "FROM busybox\n").unwrap();
    fs::write(top.join("main.c"), "int main;\n").unwrap();
    fs::write(top.join("bench/x.Dockerfile"), "FROM busybox\n").unwrap();
    let bench = top.join("bench");
    let load = |toml_text: &str| {
        fs::write(bench.join("scenario.toml"), toml_text).unwrap();
        Scenario::load(&bench)
    };
    let scenario = load(
        "context = \"..\"\n[[variant]]\nname = \"root\"\ndockerfile = \"../Dockerfile\"\n[incremental]\ntouch = [\"../main.c\"]\n",
    )
    .unwrap();
    assert_eq!(scenario.context_dir, top);
    let root_variant = scenario.variants.iter().find(|v| v.name == "root").unwrap();
    assert_eq!(root_variant.dockerfile, top.join("Dockerfile"));
    assert_eq!(scenario.touch, [PathBuf::from("../main.c")]);

    std::os::unix::fs::symlink("/etc", bench.join("etc-link")).unwrap();
    for (toml_text, expected) in [
        (
            "name = \"x\"\ncontext = \"../..\"\n",
            format!(
                "scenario.toml:2: context `../..` resolves to {}, outside the enclosing git repository {}",
                top.parent().unwrap().display(),
                top.display()
            ),
        ),
        (
            "context = \"/etc\"\n",
            "scenario.toml:1: context `/etc` is an absolute path".to_string(),
        ),
        (
            "context = \"etc-link\"\n",
            "scenario.toml:1: context `etc-link` resolves through a symbolic link to /etc, outside the enclosing git repository".to_string(),
        ),
        (
            "\n[incremental]\ntouch = [\"../../x\"]\n",
            "scenario.toml:3: [incremental] touch `../../x` resolves to".to_string(),
        ),
        (
            "[[prebuild]]\ntag = \"t\"\ndockerfile = \"etc-link/hostname\"\n",
            "scenario.toml:3: `dockerfile` of prebuild `t` `etc-link/hostname` resolves through a symbolic link to /etc/hostname".to_string(),
        ),
        (
            "[[variant]]\nname = \"v\"\ndockerfile = \"../nope\"\n",
            format!(
                "scenario.toml:3: `dockerfile` of variant `v` `../nope` names {}, which does not exist",
                top.join("nope").display()
            ),
        ),
    ] {
        let message = load(toml_text).unwrap_err().to_string();
        assert!(message.contains(&expected), "{message}\nwanted: {expected}");
        assert_eq!(message.lines().count(), 1, "{message}");
    }
    fs::remove_file(bench.join("scenario.toml")).unwrap();
    fs::remove_file(bench.join("etc-link")).unwrap();

    std::os::unix::fs::symlink("/etc/hostname", bench.join("evil.Dockerfile")).unwrap();
    let message = Scenario::load(&bench).unwrap_err().to_string();
    assert!(
        message.contains("evil.Dockerfile: is a symbolic link to /etc/hostname, outside"),
        "{message}"
    );
    fs::remove_file(bench.join("evil.Dockerfile")).unwrap();

    // Without a repository the scenario directory is the limit.
    fs::remove_dir(top.join(".git")).unwrap();
    let message = load("context = \"..\"\n").unwrap_err().to_string();
    assert!(
        message.contains("outside the scenario directory")
            && message.contains("in no git repository"),
        "{message}"
    );
}

#[test]
fn names_from_directories_and_repositories_are_made_valid() {
    assert_eq!(name_from_dir(Path::new("/tmp/.tmpAB12")), "tmpAB12");
    assert_eq!(name_from_dir(Path::new("/x/my app")), "my-app");
    assert_eq!(image_repository_for("tmpab12"), "stagebench/tmpab12");
    assert_eq!(image_repository_for("go-service"), "stagebench/go-service");
    // A name that had to change gets a hash of itself: no two names share a repository.
    let changed = [
        "tmpAB12",
        "Go_Service",
        "go_service",
        "Go__Service..",
        "go.service",
    ];
    let mut repositories: Vec<String> = changed.iter().map(|n| image_repository_for(n)).collect();
    assert!(repositories[1].starts_with("stagebench/go-service_"));
    assert_eq!(repositories[1].len(), "stagebench/go-service_".len() + 8);
    repositories.push(image_repository_for("go-service"));
    let distinct: std::collections::BTreeSet<&String> = repositories.iter().collect();
    assert_eq!(distinct.len(), repositories.len(), "{repositories:?}");
}

#[test]
fn tags_fit_docker_s_limit_and_stay_distinct() {
    let short = "single-20261204T164552Z-c82bd2";
    assert_eq!(image_tag_for(short), short);
    let long_a = format!(
        "{}-20261204T164552Z-c82bd2-incremental-run10",
        "v".repeat(100)
    );
    let long_b = format!(
        "{}-20261204T164552Z-c82bd2-incremental-run11",
        "v".repeat(100)
    );
    let (a, b) = (image_tag_for(&long_a), image_tag_for(&long_b));
    assert_eq!(a.len(), 128);
    assert_ne!(a, b);
}

#[test]
fn empty_directory_is_not_a_scenario_and_discovery_finds_children() {
    let root = tempfile::tempdir().unwrap();
    fs::create_dir_all(root.path().join("b")).unwrap();
    fs::write(root.path().join("b/x.Dockerfile"), "FROM busybox\n").unwrap();
    fs::create_dir_all(root.path().join("a")).unwrap();
    fs::write(root.path().join("a/scenario.toml"), "").unwrap();
    fs::create_dir_all(root.path().join("c")).unwrap();
    let found = discover(root.path()).unwrap();
    assert_eq!(found, [root.path().join("a"), root.path().join("b")]);
    let message = Scenario::load(&root.path().join("a"))
        .unwrap_err()
        .to_string();
    assert!(message.contains("no <variant>.Dockerfile"), "{message}");
}
#[test]
fn a_token_edit_needs_the_marker_in_each_file() {
    let toml_text = "[incremental]\ntouch = [\"app.js\"]\nedit = \"token\"\n";
    let without = scenario_dir(&[
        ("single.Dockerfile", "FROM busybox\n"),
        ("app.js", "console.log(1)\n"),
        ("scenario.toml", toml_text),
    ]);
    let message = Scenario::load(without.path()).unwrap_err().to_string();
    assert!(
        message.contains("scenario.toml")
            && message.contains("edit = \"token\"")
            && message.contains("app.js")
            && message.contains(crate::touch::TOKEN_MARKER),
        "{message}"
    );
    let with = scenario_dir(&[
        ("single.Dockerfile", "FROM busybox\n"),
        ("app.js", "console.log(\"stagebench-token\")\n"),
        ("scenario.toml", toml_text),
    ]);
    let scenario = Scenario::load(with.path()).unwrap();
    assert_eq!(scenario.edit, crate::touch::EditStyle::Token);
    let unknown = scenario_dir(&[
        ("single.Dockerfile", "FROM busybox\n"),
        ("app.js", "x\n"),
        (
            "scenario.toml",
            "[incremental]\ntouch = [\"app.js\"]\nedit = \"rename\"\n",
        ),
    ]);
    let message = Scenario::load(unknown.path()).unwrap_err().to_string();
    assert!(
        message.contains("scenario.toml:3") && message.contains("`comment` or `token`"),
        "{message}"
    );
}

#[test]
fn linked_scenario_toml_and_dockerignore_are_refused_without_reading_the_target() {
    let outside = tempfile::tempdir().unwrap();
    // Lines a parser would quote, were the target read.
    let private = outside.path().join("config");
    fs::write(
        &private,
        "Host secret-box\n  IdentityFile ~/.ssh/id_secret\n",
    )
    .unwrap();
    let dir = scenario_dir(&[("single.Dockerfile", "FROM busybox\n")]);
    std::os::unix::fs::symlink(&private, dir.path().join("scenario.toml")).unwrap();
    let message = Scenario::load(dir.path()).unwrap_err().to_string();
    assert!(
        message.contains("scenario.toml: is a symbolic link, which stagebench does not follow"),
        "{message}"
    );
    assert!(!message.contains("secret"), "{message}");
    assert_eq!(message.lines().count(), 1, "{message}");

    // The same for a link inside the scenario: links are refused, wherever they lead.
    fs::remove_file(dir.path().join("scenario.toml")).unwrap();
    fs::write(dir.path().join("real.toml"), "name = \"x\"\n").unwrap();
    std::os::unix::fs::symlink("real.toml", dir.path().join("scenario.toml")).unwrap();
    let message = Scenario::load(dir.path()).unwrap_err().to_string();
    assert!(message.contains("symbolic link"), "{message}");
    fs::remove_file(dir.path().join("scenario.toml")).unwrap();

    std::os::unix::fs::symlink(&private, dir.path().join(".dockerignore")).unwrap();
    let scenario = Scenario::load(dir.path()).unwrap();
    let message = ScenarioInputs::of(&scenario).unwrap_err().to_string();
    assert!(
        message.contains(".dockerignore: is a symbolic link, which stagebench does not follow"),
        "{message}"
    );
    assert!(!message.contains("secret"), "{message}");
    assert_eq!(message.lines().count(), 1, "{message}");
    let message =
        crate::context::BuildContext::new(&scenario.context_dir, &scenario.variants[0].dockerfile)
            .err()
            .unwrap()
            .to_string();
    assert!(
        message.contains("symbolic link") && !message.contains("secret"),
        "{message}"
    );
}

#[test]
fn a_dockerfile_linked_inside_the_scenario_is_read_through_its_target() {
    let dir = scenario_dir(&[("shared/app.Dockerfile", "FROM busybox\n")]);
    std::os::unix::fs::symlink(
        "shared/app.Dockerfile",
        dir.path().join("single.Dockerfile"),
    )
    .unwrap();
    let scenario = Scenario::load(dir.path()).unwrap();
    let root = fs::canonicalize(dir.path()).unwrap();
    assert_eq!(scenario.variants[0].name, "single");
    assert_eq!(
        scenario.variants[0].dockerfile,
        root.join("shared/app.Dockerfile"),
        "the checked target, which is opened without following links"
    );
    ScenarioInputs::of(&scenario).unwrap();
}

#[test]
fn a_context_above_the_scenario_is_accepted_only_from_inside_its_repository() {
    let repo = tempfile::tempdir().unwrap();
    let top = fs::canonicalize(repo.path()).unwrap();
    fs::create_dir(top.join(".git")).unwrap();
    fs::create_dir_all(top.join("bench/app")).unwrap();
    fs::write(top.join("bench/x.Dockerfile"), "FROM busybox\n").unwrap();
    fs::write(top.join("bench/p.Dockerfile"), "FROM busybox\n").unwrap();
    let bench = top.join("bench");
    fs::write(
        bench.join("scenario.toml"),
        "context = \"app\"\n[[prebuild]]\ntag = \"t\"\ndockerfile = \"p.Dockerfile\"\ncontext = \"..\"\n",
    )
    .unwrap();
    let scenario = Scenario::load(&bench).unwrap();
    assert_eq!(scenario.contexts_above.len(), 1, "only the prebuild's");
    let outside = tempfile::tempdir().unwrap();
    let outside = fs::canonicalize(outside.path()).unwrap();
    let message = scenario
        .check_context_reach(&outside, false)
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        format!(
            "{}:5: `context` of prebuild `t` `..` reaches above the scenario directory to {}, and everything under it is sent to the daemon; stagebench accepts that only when run from inside the repository {}, or with --allow-context-above",
            bench.join("scenario.toml").display(),
            top.display(),
            top.display()
        )
    );
    scenario.check_context_reach(&outside, true).unwrap();
    scenario.check_context_reach(&top, false).unwrap();
    scenario
        .check_context_reach(&bench.join("app"), false)
        .unwrap();

    fs::write(bench.join("scenario.toml"), "context = \"..\"\n").unwrap();
    let scenario = Scenario::load(&bench).unwrap();
    let message = scenario
        .check_context_reach(&outside, false)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("scenario.toml:1: context `..` reaches above"),
        "{message}"
    );
    fs::write(bench.join("scenario.toml"), "context = \"app\"\n").unwrap();
    let inside = Scenario::load(&bench).unwrap();
    assert!(inside.contexts_above.is_empty());
    inside.check_context_reach(&outside, false).unwrap();
}

#[test]
fn a_profile_s_runs_is_checked_with_its_line() {
    let load = |profile: &str| {
        let dir = scenario_dir(&[
            ("single.Dockerfile", "FROM busybox\n"),
            (
                "scenario.toml",
                &format!("name = \"x\"\n[profile.quick]\n{profile}"),
            ),
        ]);
        Scenario::load(dir.path()).map_err(|e| e.to_string())
    };
    let scenario = load("runs = 2\n").unwrap();
    assert_eq!(scenario.profile_runs.get("quick"), Some(&2));
    assert!(load("build_args = {}\n").unwrap().profile_runs.is_empty());
    for (value, says) in [
        ("0", "[profile.quick] runs = 0 is outside 1 to 1000"),
        ("-2", "[profile.quick] runs = -2 is outside 1 to 1000"),
        ("1001", "[profile.quick] runs = 1001 is outside 1 to 1000"),
        ("\"two\"", "invalid type"),
    ] {
        let message = load(&format!("runs = {value}\n")).unwrap_err();
        assert!(message.contains("scenario.toml:3: "), "{message}");
        assert!(message.contains(says), "{message}");
        assert_eq!(message.lines().count(), 1, "{message}");
    }
}
