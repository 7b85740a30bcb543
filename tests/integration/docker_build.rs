//! Building for real: sizes, cache modes, both builders, BuildKit parallelism, prebuilds,
//! incremental edits and cleanup, all against the Docker daemon.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use stagebench::results::BuildStatus;
use stagebench::results::RunMeta;
use stagebench::scenario::image_repository_for;

use crate::support::{
    RemoveOnDrop, cli_image_bytes, dangling_images, docker_cli, docker_daemon, final_image_tag,
    median_seconds, results, stagebench, stderr, write_tree,
};

/// A zero-config pair whose context has things `.dockerignore` must keep out (a 3 MB blob, a log)
/// and things it must keep in (an exception, a symlink, an executable).
fn ignore_heavy_pair() -> tempfile::TempDir {
    let dir = write_tree(&[
        (
            ".dockerignore",
            "# build outputs\nbig/\n*.log\n!keep.log\n/out\n",
        ),
        ("keep.log", "kept\n"),
        ("drop.log", "dropped\n"),
        ("app/run.sh", "#!/bin/sh\necho hello\n"),
        (
            "single.Dockerfile",
            "FROM busybox:latest\nCOPY . /app\nRUN sleep 2 && sh /app/app/run.sh > /greeting\n",
        ),
        (
            "multi.Dockerfile",
            "FROM busybox:latest AS build\nCOPY . /src\nRUN sleep 2 && sh /src/app/run.sh > /greeting\n\
             FROM busybox:latest\nCOPY --from=build /greeting /greeting\n",
        ),
    ]);
    std::fs::create_dir_all(dir.path().join("big")).unwrap();
    std::fs::write(dir.path().join("big/blob.bin"), vec![7u8; 3_000_000]).unwrap();
    std::fs::set_permissions(
        dir.path().join("app/run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::os::unix::fs::symlink("app/run.sh", dir.path().join("run-link")).unwrap();
    dir
}

fn zero_config_pair_measures_cold_and_warm(builder: &str) {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let dir = ignore_heavy_pair();
    let output = stagebench(
        dir.path(),
        &[
            "run",
            ".",
            "--runs",
            "2",
            "--cache",
            "cold,warm",
            "--builder",
            builder,
            "--out",
            "out",
        ],
    );
    assert!(output.status.success());
    let rows = results(&dir.path().join("out"));
    assert_eq!(rows.len(), 8);
    assert_run_reports_and_report_remakes_them(&output, &dir.path().join("out"), &rows[0].scenario);
    assert!(
        rows.iter()
            .all(|r| r.status == BuildStatus::Ok && r.builder.as_str() == builder)
    );
    let repository = image_repository_for(&rows[0].scenario);
    let _cleanup = RemoveOnDrop(vec![
        repository.clone(),
        "stagebench-test-cli/pair".to_string(),
    ]);
    for variant in ["single", "multi"] {
        let cold = median_seconds(&rows, variant, "cold");
        let warm = median_seconds(&rows, variant, "warm");
        assert!(
            cold > 2.0,
            "{variant}: a cold build runs `sleep 2`, got {cold} s"
        );
        assert!(
            warm * 4.0 < cold,
            "{variant}: warm {warm} s is not far below cold {cold} s"
        );
        for row in rows.iter().filter(|r| r.variant == variant) {
            match row.cache.as_str() {
                "cold" => assert_eq!(row.cached_steps, 0, "{row:?}"),
                _ => assert_eq!(row.cached_steps, row.total_steps, "{row:?}"),
            }
            assert!(row.total_steps >= 2, "{row:?}");
        }
    }

    // The same directory built by the docker CLI gives images of the same size, so the context
    // stagebench sends is the one `docker build` sends (.dockerignore included).
    let dangling_before_cli = dangling_images();
    for variant in ["single", "multi"] {
        let tag = format!("stagebench-test-cli/pair:{variant}");
        let mut env = BTreeMap::new();
        env.insert(
            "DOCKER_BUILDKIT",
            if builder == "buildkit" { "1" } else { "0" },
        );
        let dockerfile = format!("{variant}.Dockerfile");
        let build = docker_cli_build(&dir, &dockerfile, &tag, &env);
        assert!(
            build,
            "the docker CLI could not build {variant} with {builder}"
        );
        let ours = rows
            .iter()
            .find(|r| r.variant == variant)
            .and_then(|r| r.image_bytes)
            .unwrap();
        assert_eq!(
            ours,
            cli_image_bytes(&tag),
            "{variant} ({builder}) differs from docker build"
        );
    }
    // The CLI's classic multi-stage build leaves its build stage dangling; that is its mess, not ours.
    for id in dangling_images()
        .iter()
        .filter(|id| !dangling_before_cli.contains(id))
    {
        let _ = docker_cli(&["rmi", id], &BTreeMap::new());
    }
    let single = rows.iter().find(|r| r.variant == "single").unwrap();
    assert!(
        single.image_bytes.unwrap() < cli_image_bytes("busybox:latest") + 1_000_000,
        "the 3 MB ignored blob must not be in the image"
    );
}

/// `docker build` through the CLI; BuildKit needs a CLI with it built in (Debian's 20.10 has).
/// The run ended with the headline table and wrote every report file; removing all but what
/// the run measured (results.csv, its detail tables and meta.json) and running `stagebench
/// report` brings back the same bytes.
fn assert_run_reports_and_report_remakes_them(
    output: &std::process::Output,
    out: &Path,
    scenario: &str,
) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    for expected in [
        scenario,
        "cold build",
        "warm build",
        "image size",
        "single (baseline)",
        "than single",
        "multi vs single, cold: ",
        "multi vs single, warm: ",
    ] {
        assert!(
            stdout.contains(expected),
            "terminal table lacks {expected:?}:\n{stdout}"
        );
    }

    let measured = [
        "results.csv",
        "steps.csv",
        "layers.csv",
        "waste.csv",
        "meta.json",
    ];
    let mut expected_files: Vec<String> = measured
        .iter()
        .chain(&["summary.csv", "summary.json", "report.md"])
        .map(|f| f.to_string())
        .collect();
    for chart in [
        "build-time",
        "image-size",
        "time-vs-size",
        "timeline",
        "layers",
    ] {
        for extension in ["svg", "png"] {
            expected_files.push(format!("{scenario}-{chart}.{extension}"));
        }
    }
    expected_files.sort();
    let written = read_folder(out);
    let names: Vec<&String> = written.keys().collect();
    assert_eq!(names, expected_files.iter().collect::<Vec<_>>());

    // The comparison states the ratio of geometric means and the size ratio, with the contrast's
    // interval and verdict.
    let summary: serde_json::Value = serde_json::from_slice(&written["summary.json"]).unwrap();
    let comparisons = summary["comparisons"].as_array().unwrap();
    assert_eq!(comparisons.len(), 2, "{comparisons:?}");
    for comparison in comparisons {
        assert_eq!(comparison["variant"], "multi");
        assert_eq!(comparison["baseline"], "single");
        assert!(comparison["time_ratio"].as_f64().unwrap() > 0.0);
        assert!(comparison["size_ratio"].as_f64().unwrap() > 0.0);
        let contrast = &comparison["contrast"];
        assert!(contrast["outcome"].is_string(), "{contrast}");
        assert_eq!(contrast["family_size"], 2);
        let (low, high) = (
            contrast["interval"]["low"].as_f64().unwrap(),
            contrast["interval"]["high"].as_f64().unwrap(),
        );
        let ratio = contrast["time_ratio"].as_f64().unwrap();
        assert!(low <= ratio && ratio <= high, "{contrast}");
    }
    let markdown = String::from_utf8_lossy(&written["report.md"]).into_owned();
    // Two runs make no 95% interval of a median: the report shows the range and says so.
    assert!(markdown.contains("range of 2 runs"), "{markdown}");
    let cells: Vec<&str> = markdown
        .lines()
        .filter(|line| line.starts_with("| single") || line.starts_with("| multi"))
        .collect();
    assert_eq!(cells.len(), 2, "{markdown}");
    assert!(cells.iter().all(|row| !row.contains("CI")), "{markdown}");
    assert!(markdown.contains("than single"), "{markdown}");

    for name in written.keys() {
        if !measured.contains(&name.as_str()) {
            std::fs::remove_file(out.join(name)).unwrap();
        }
    }
    let report = stagebench(out, &["report", "."]);
    assert!(report.status.success(), "{}", stderr(&report));
    let remade = read_folder(out);
    assert_eq!(
        remade.keys().collect::<Vec<_>>(),
        written.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &written {
        assert!(
            remade[name] == *bytes,
            "{name} differs after `stagebench report`"
        );
    }
}

fn read_folder(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect()
}

fn docker_cli_build(
    dir: &tempfile::TempDir,
    dockerfile: &str,
    tag: &str,
    env: &BTreeMap<&str, &str>,
) -> bool {
    let path = dir.path().display().to_string();
    for cli in ["docker", "/usr/bin/docker"] {
        let output = std::process::Command::new(cli)
            .args([
                "build",
                "-q",
                "-f",
                &format!("{path}/{dockerfile}"),
                "-t",
                tag,
                &path,
            ])
            .envs(env)
            .output();
        if let Ok(output) = output {
            if output.status.success() {
                return true;
            }
            eprintln!("{cli} build: {}", String::from_utf8_lossy(&output.stderr));
        }
    }
    false
}

#[test]
fn docker_zero_config_pair_buildkit_cold_warm_sizes_match_docker_build() {
    zero_config_pair_measures_cold_and_warm("buildkit");
}

#[test]
fn docker_zero_config_pair_classic_cold_warm_sizes_match_docker_build() {
    zero_config_pair_measures_cold_and_warm("classic");
}

// The stages differ (`echo a`, `echo b`): identical ones would be one BuildKit vertex, run once.
const PARALLEL_STAGES: &str = "FROM busybox:latest AS a\n\
RUN echo a && date +%s > /start && sleep 3 && date +%s > /end\n\
FROM busybox:latest AS b\n\
RUN echo b && date +%s > /start && sleep 3 && date +%s > /end\n\
FROM busybox:latest AS unused\n\
RUN echo this stage must not run && false\n\
FROM busybox:latest\n\
COPY --from=a /start /a_start\nCOPY --from=a /end /a_end\n\
COPY --from=b /start /b_start\nCOPY --from=b /end /b_end\n";

fn read_seconds(image: &str, file: &str) -> u64 {
    let output = docker_cli(&["run", "--rm", image, "cat", file], &BTreeMap::new());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn docker_buildkit_builds_independent_stages_in_parallel_and_skips_unused_ones() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let dir = write_tree(&[("parallel.Dockerfile", PARALLEL_STAGES)]);
    let output = stagebench(
        dir.path(),
        &["run", ".", "--runs", "1", "--cache", "cold", "--out", "out"],
    );
    assert!(
        output.status.success(),
        "the unused stage's `false` must not run under BuildKit"
    );
    let rows = results(&dir.path().join("out"));
    assert_eq!(rows[0].status, BuildStatus::Ok);
    let repository = image_repository_for(&rows[0].scenario);
    let _cleanup = RemoveOnDrop(vec![repository.clone()]);
    // Two RUNs and four COPYs; the unused stage's RUN is not among the steps.
    assert_eq!(rows[0].total_steps, 6, "{:?}", rows[0]);

    let image = final_image_tag(&dir.path().join("out"), "parallel");
    let (a_start, a_end) = (
        read_seconds(&image, "/a_start"),
        read_seconds(&image, "/a_end"),
    );
    let (b_start, b_end) = (
        read_seconds(&image, "/b_start"),
        read_seconds(&image, "/b_end"),
    );
    assert!(
        a_start < b_end && b_start < a_end,
        "stages a ({a_start}..{a_end}) and b ({b_start}..{b_end}) did not overlap"
    );

    // The classic builder runs every stage, so the same Dockerfile fails there.
    let output = stagebench(
        dir.path(),
        &[
            "run",
            ".",
            "--runs",
            "1",
            "--cache",
            "cold",
            "--builder",
            "classic",
            "--out",
            "classic",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let rows = results(&dir.path().join("classic"));
    assert_eq!(rows[0].status, BuildStatus::Failed);
    assert!(rows[0].error.contains("false"), "{:?}", rows[0]);
}

#[test]
fn docker_prebuild_incremental_restore_meta_and_cleanup() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let dir = write_tree(&[
        (
            "scenario.toml",
            "name = \"sbtest-prebuild\"\nbaseline = \"single\"\n\
             [[prebuild]]\ntag = \"stagebench-test/prebase:1\"\ndockerfile = \"prebuild/base.Dockerfile\"\ncontext = \"prebuild\"\n\
             [incremental]\ntouch = [\"app/main.py\"]\n",
        ),
        (
            "prebuild/base.Dockerfile",
            "FROM busybox:latest\nRUN echo prepared > /prepared\n",
        ),
        ("app/main.py", "print('hello')\n"),
        (
            "single.Dockerfile",
            "FROM busybox:latest\nRUN echo tools > /tools\nCOPY app /app\nRUN cat /app/main.py > /copy\n",
        ),
        (
            "multi.Dockerfile",
            "FROM busybox:latest AS build\nCOPY app /app\nRUN cat /app/main.py > /copy\n\
             FROM stagebench-test/prebase:1\nCOPY --from=build /copy /copy\n",
        ),
    ]);
    let _cleanup = RemoveOnDrop(vec![
        "stagebench/sbtest-prebuild".to_string(),
        "stagebench-test/prebase".to_string(),
    ]);
    let main_py = dir.path().join("app/main.py");
    let modified_before = std::fs::metadata(&main_py).unwrap().modified().unwrap();
    let dangling_before = dangling_images();

    let output = stagebench(
        dir.path(),
        &[
            "run",
            ".",
            "--runs",
            "2",
            "--cache",
            "warm,incremental",
            "--builder",
            "classic",
            "--out",
            "out",
        ],
    );
    assert!(output.status.success());
    let rows = results(&dir.path().join("out"));
    assert_eq!(rows.len(), 8);
    for row in &rows {
        assert_eq!(row.status, BuildStatus::Ok, "{row:?}");
        match row.cache.as_str() {
            "warm" => assert_eq!(row.cached_steps, row.total_steps, "{row:?}"),
            _ => assert!(
                row.cached_steps < row.total_steps,
                "an edit must rebuild: {row:?}"
            ),
        }
    }
    let incremental_ids: Vec<&str> = rows
        .iter()
        .filter(|r| r.variant == "single" && r.cache.as_str() == "incremental")
        .map(|r| r.image_id.as_str())
        .collect();
    assert_ne!(
        incremental_ids[0], incremental_ids[1],
        "each incremental run edits afresh"
    );

    assert_eq!(
        std::fs::read_to_string(&main_py).unwrap(),
        "print('hello')\n"
    );
    assert_eq!(
        std::fs::metadata(&main_py).unwrap().modified().unwrap(),
        modified_before
    );

    let meta = RunMeta::read(&dir.path().join("out")).unwrap();
    assert!(meta.completed());
    let daemon = &meta.hosts[0].daemon;
    assert!(!daemon.version.is_empty() && !daemon.api_version.is_empty());
    assert!(!daemon.storage_driver.is_empty() && daemon.cpus > 0 && daemon.memory_bytes > 0);
    assert!(!daemon.daemon_id.is_empty() && !daemon.kernel_version.is_empty());
    assert_eq!(meta.hosts[0].name, rows[0].host);
    let scenario = &meta.scenarios[0];
    assert_eq!(scenario.prebuilds[0].tag, "stagebench-test/prebase:1");
    assert!(scenario.prebuilds[0].build_seconds > 0.0 && scenario.prebuilds[0].error.is_empty());
    let base: Vec<&str> = scenario
        .base_images
        .iter()
        .map(|b| b.name.as_str())
        .collect();
    assert_eq!(
        base,
        ["busybox:latest"],
        "the prebuild tag is not a base image to pull"
    );
    assert!(scenario.base_images[0].id.starts_with("sha256:"));

    // Only the final image of each variant stays; no dangling images are left behind.
    assert_eq!(dangling_images(), dangling_before);
    for variant in ["single", "multi"] {
        let output = docker_cli(
            &[
                "image",
                "inspect",
                &final_image_tag(&dir.path().join("out"), variant),
            ],
            &BTreeMap::new(),
        );
        assert!(output.status.success(), "the final {variant} image is kept");
    }
}

#[test]
fn docker_keep_images_tags_every_run_and_default_keeps_only_the_final_image() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let _cleanup = RemoveOnDrop(vec!["stagebench/sbtest-keep".to_string()]);
    let dir = write_tree(&[
        ("scenario.toml", "name = \"sbtest-keep\"\n"),
        (
            "one.Dockerfile",
            "FROM busybox:latest\nRUN date +%s%N > /stamp\n",
        ),
    ]);
    let args = [
        "run",
        ".",
        "--runs",
        "2",
        "--cache",
        "cold",
        "--builder",
        "classic",
    ];
    let output = stagebench(
        dir.path(),
        &[&args[..], &["--keep-images", "--out", "kept"]].concat(),
    );
    assert!(output.status.success());
    let kept = dir.path().join("kept");
    let rows = results(&kept);
    let run_id = &rows[0].run_id;
    for (row, tag) in rows.iter().zip(["cold-run1", "cold-run2"]) {
        let tag = format!("stagebench/sbtest-keep:one-{run_id}-{tag}");
        let output = docker_cli(
            &["image", "inspect", "--format", "{{.Id}}", &tag],
            &BTreeMap::new(),
        );
        assert!(output.status.success(), "{tag} is kept");
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), row.image_id);
    }
    assert_ne!(rows[0].image_id, rows[1].image_id, "cold runs build afresh");
    assert_eq!(
        final_image_tag(&kept, "one"),
        format!("stagebench/sbtest-keep:one-{run_id}")
    );

    let output = stagebench(dir.path(), &[&args[..], &["--out", "default"]].concat());
    assert!(output.status.success());
    let default_run = &results(&dir.path().join("default"))[0].run_id;
    let listing = docker_cli(
        &["images", "--format", "{{.Tag}}", "stagebench/sbtest-keep"],
        &BTreeMap::new(),
    );
    let mut tags: Vec<String> = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .map(String::from)
        .collect();
    tags.sort();
    let mut expected = vec![
        format!("one-{run_id}"),
        format!("one-{run_id}-cold-run1"),
        format!("one-{run_id}-cold-run2"),
        format!("one-{default_run}"),
    ];
    expected.sort();
    assert_eq!(
        tags, expected,
        "a default run adds only its final tag, and leaves the other run's"
    );
}

#[test]
fn docker_a_new_run_leaves_an_earlier_run_s_final_image_and_removes_only_its_own() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let _cleanup = RemoveOnDrop(vec!["stagebench/sbtest-replace".to_string()]);
    let dir = write_tree(&[
        ("scenario.toml", "name = \"sbtest-replace\"\n"),
        (
            "one.Dockerfile",
            "FROM busybox:latest\nRUN date +%s%N > /stamp\nRUN echo two > /two\n",
        ),
    ]);
    let image_id = |tag: &str| {
        let output = docker_cli(
            &["image", "inspect", "--format", "{{.Id}}", tag],
            &BTreeMap::new(),
        );
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
    };
    let args = ["run", ".", "--runs", "2", "--cache", "cold", "--quiet"];
    for builder in ["buildkit", "classic"] {
        let dangling_before = dangling_images();
        let first = stagebench(
            dir.path(),
            &[&args[..], &["--builder", builder, "--out", "first"]].concat(),
        );
        assert!(first.status.success(), "{}", stderr(&first));
        let first_tag = final_image_tag(&dir.path().join("first"), "one");
        let earlier = image_id(&first_tag).expect("first run's image");

        let second = stagebench(
            dir.path(),
            &[&args[..], &["--builder", builder, "--out", "second"]].concat(),
        );
        assert!(second.status.success(), "{}", stderr(&second));
        let second_tag = final_image_tag(&dir.path().join("second"), "one");
        assert_ne!(first_tag, second_tag, "each run tags its own image");
        let kept = image_id(&second_tag).expect("second run's image");
        assert_ne!(kept, earlier, "a cold build stamps a new image");
        assert_eq!(
            image_id(&first_tag).as_deref(),
            Some(earlier.as_str()),
            "{builder}: the earlier run's final image keeps its tag"
        );
        let new_dangling: Vec<String> = dangling_images()
            .into_iter()
            .filter(|id| !dangling_before.contains(id))
            .collect();
        assert!(new_dangling.is_empty(), "{builder}: left {new_dangling:?}");
        for out in ["first", "second"] {
            std::fs::remove_dir_all(dir.path().join(out)).unwrap();
        }
    }
}
