//! layers.csv, waste.csv and compressed_bytes from real images: bytes a later RUN deletes are
//! wasted and attributed to the RUN that wrote them, and the pull size of random bytes is close
//! to their size while that of zeros is far below.

use stagebench::image_analysis::WasteKind;
use stagebench::results::{BuildRecord, LayerOrigin, LayerRecord, OfBuild, ResultSet};
use stagebench::scenario::image_repository_for;

use crate::support::{
    RemoveOnDrop, cli_image_bytes, docker_daemon, stagebench, stderr, write_tree,
};

const EIGHT_MIB: u64 = 8 * 1024 * 1024;

/// Writes 8 MiB in one RUN and deletes them in the next, as "clean up later" Dockerfiles do.
const WRITE_THEN_DELETE: &str = "FROM busybox:latest\n\
    RUN head -c 8388608 /dev/urandom > /blob\n\
    RUN rm /blob\n";
/// 8 MiB that gzip cannot shrink.
const RANDOM: &str = "FROM busybox:latest\nRUN head -c 8388608 /dev/urandom > /noise\n";
/// 8 MiB that gzip shrinks to almost nothing.
const ZEROS: &str = "FROM busybox:latest\nRUN head -c 8388608 /dev/zero > /zeros\n";

fn layers_of<'a>(set: &'a ResultSet, build: &BuildRecord) -> Vec<&'a LayerRecord> {
    set.layers.iter().filter(|l| l.belongs_to(build)).collect()
}

#[test]
fn docker_layers_attribute_waste_and_pull_size_to_instructions() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let dir = write_tree(&[
        ("waste.Dockerfile", WRITE_THEN_DELETE),
        ("random.Dockerfile", RANDOM),
        ("zeros.Dockerfile", ZEROS),
    ]);
    let output = stagebench(
        dir.path(),
        &["run", ".", "--runs", "1", "--cache", "warm", "--out", "out"],
    );
    let set = ResultSet::load(&dir.path().join("out")).unwrap();
    let _cleanup = RemoveOnDrop(
        set.records
            .first()
            .map(|r| vec![image_repository_for(&r.scenario)])
            .unwrap_or_default(),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let build = |variant: &str| {
        set.records
            .iter()
            .find(|r| r.variant == variant && !r.warmup)
            .unwrap_or_else(|| panic!("no {variant} row in {:#?}", set.records))
    };

    for variant in ["waste", "random", "zeros"] {
        let build = build(variant);
        let layers = layers_of(&set, build);
        // busybox is one layer; each RUN adds one.
        let base: Vec<_> = layers
            .iter()
            .filter(|l| l.origin == LayerOrigin::Base)
            .collect();
        assert_eq!(base.len(), 1, "{variant}: {layers:#?}");
        assert_eq!(base[0].base_image, "busybox:latest");
        let raw: u64 = layers.iter().map(|l| l.bytes).sum();
        let compressed: u64 = layers.iter().map(|l| l.compressed_bytes).sum();
        assert_eq!(build.compressed_bytes, Some(compressed), "{variant}");
        // Layer tars hold file contents plus headers; the daemon's size is the same contents.
        let image_bytes = cli_image_bytes(&build.image_id);
        assert!(
            raw.abs_diff(image_bytes) < image_bytes / 20,
            "{variant}: layers hold {raw} bytes, the daemon says {image_bytes}"
        );
    }

    let waste = build("waste");
    let layers = layers_of(&set, waste);
    assert_eq!(layers.len(), 3, "{layers:#?}");
    let writer = layers[1];
    assert!(writer.created_by.contains("head -c 8388608"), "{writer:#?}");
    assert!(writer.wasted_bytes >= EIGHT_MIB, "{writer:#?}");
    let wasted: u64 = layers.iter().map(|l| l.wasted_bytes).sum();
    assert_eq!(
        wasted, writer.wasted_bytes,
        "only the writing RUN wasted bytes"
    );
    let files: Vec<_> = set.waste.iter().filter(|w| w.belongs_to(waste)).collect();
    let top = files.first().expect("the deleted blob is listed");
    assert_eq!(
        (
            top.path.as_str(),
            top.bytes,
            top.kind,
            top.layer,
            top.removed_by_layer
        ),
        ("blob", EIGHT_MIB, WasteKind::Deleted, 2, 3),
        "{files:#?}"
    );
    assert!(top.removed_by.contains("rm /blob"), "{top:#?}");
    assert_eq!(top.created_by, writer.created_by);

    // The report says it in words, and draws it.
    let report = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(
        report.contains(
            "waste carries 8.39 MB (" 
        ) && report.contains(
            "in files that a later layer deletes or overwrites, all written by `RUN head -c 8388608 /dev/urandom > /blob` and removed by `RUN rm /blob`"
        ),
        "{report}"
    );
    assert!(
        dir.path()
            .join(format!("out/{}-layers.png", waste.scenario))
            .is_file()
    );

    let own_layer = |variant: &str| {
        let layers = layers_of(&set, build(variant));
        (*layers.last().unwrap()).clone()
    };
    let random = own_layer("random");
    assert!(random.bytes >= EIGHT_MIB, "{random:#?}");
    assert!(
        random.compressed_bytes as f64 >= 0.99 * EIGHT_MIB as f64,
        "random bytes do not compress: {random:#?}"
    );
    let zeros = own_layer("zeros");
    assert!(zeros.bytes >= EIGHT_MIB, "{zeros:#?}");
    assert!(
        zeros.compressed_bytes < EIGHT_MIB / 100,
        "zeros compress to almost nothing: {zeros:#?}"
    );
}

/// A build stage that "compiles" by dropping comment lines, as compilers and bundlers do, and a
/// final stage that ships only the result.
const STRIPS_COMMENTS: &str = "FROM busybox:latest AS build\n\
    COPY app.sh /src/app.sh\n\
    RUN grep -v '^#' /src/app.sh > /app.sh\n\
    FROM busybox:latest\n\
    COPY --from=build /app.sh /app.sh\n";

#[test]
fn docker_a_comment_edit_can_miss_the_image_and_a_token_edit_reaches_it() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let mut cleanup = RemoveOnDrop(Vec::new());
    for (edit, reaches_image) in [("comment", false), ("token", true)] {
        let dir = write_tree(&[
            ("multi.Dockerfile", STRIPS_COMMENTS),
            ("app.sh", "echo \"build stagebench-token\"\n"),
            (
                "scenario.toml",
                &format!("[incremental]\ntouch = [\"app.sh\"]\nedit = \"{edit}\"\n"),
            ),
        ]);
        let output = stagebench(
            dir.path(),
            &[
                "run",
                ".",
                "--runs",
                "2",
                "--cache",
                "warm,incremental",
                "--out",
                "out",
            ],
        );
        let set = ResultSet::load(&dir.path().join("out")).unwrap();
        if let Some(record) = set.records.first() {
            cleanup.0.push(image_repository_for(&record.scenario));
        }
        assert!(output.status.success(), "{edit}: {}", stderr(&output));
        let images = |cache: &str| -> Vec<&str> {
            set.records
                .iter()
                .filter(|r| r.cache.as_str() == cache && !r.warmup)
                .map(|r| r.image_id.as_str())
                .collect()
        };
        let (warm, incremental) = (images("warm"), images("incremental"));
        assert_eq!((warm.len(), incremental.len()), (2, 2), "{edit}");
        let unchanged = incremental.iter().filter(|id| warm.contains(id)).count();
        let report = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
        let said = report.contains("The edit did not change the image: multi's incremental builds made the same image as its warm builds");
        if reaches_image {
            assert_eq!(unchanged, 0, "token edits change what ships");
            assert!(!said, "{report}");
            assert!(report.contains("rewritten with a fresh token"), "{report}");
        } else {
            assert_eq!(unchanged, 2, "the stripped comment never reaches the image");
            assert!(said, "{report}");
        }
        assert_eq!(
            std::fs::read_to_string(dir.path().join("app.sh")).unwrap(),
            "echo \"build stagebench-token\"\n",
            "{edit}: the file on disk is never edited"
        );
    }
}
