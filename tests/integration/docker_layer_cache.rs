//! Layer analyses kept by digest give exactly the analysis of the image read afresh: on real
//! images that share a base layer, analysed with no cache, with a cache filled as it goes, and
//! with the cache a later run finds in the folder.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::Digest;

use stagebench::image_analysis::{
    ImageAnalysis, LayerCache, analyze_export, analyze_export_cached,
};

use crate::support::{RemoveOnDrop, docker_build_in, docker_cli, docker_daemon, write_tree};

const REPOSITORY: &str = "stagebench-test/layer-cache";

/// Three images on busybox: one writing 4 MiB and deleting them later (waste), one writing
/// random bytes, one small. All share busybox's layer; the first two share nothing else.
const DOCKERFILES: [(&str, &str); 3] = [
    (
        "waste",
        "FROM busybox:latest\nRUN head -c 4194304 /dev/urandom > /blob && echo w > /w\n\
         RUN rm /blob\nRUN mkdir -p /d && echo x > /d/x\n",
    ),
    (
        "random",
        "FROM busybox:latest\nRUN head -c 4194304 /dev/urandom > /noise\n",
    ),
    ("small", "FROM busybox:latest\nRUN echo small > /small\n"),
];

/// `docker save` of `tag` into `dir`, and the image's diff IDs as the daemon lists them.
fn save(dir: &Path, tag: &str) -> (std::path::PathBuf, Vec<String>) {
    let file = dir.join(format!("{}.tar", tag.replace(['/', ':'], "-")));
    let output = docker_cli(
        &["save", "-o", file.to_str().unwrap(), tag],
        &BTreeMap::new(),
    );
    assert!(output.status.success(), "docker save {tag}: {output:?}");
    let output = docker_cli(
        &[
            "image",
            "inspect",
            "--format",
            "{{json .RootFS.Layers}}",
            tag,
        ],
        &BTreeMap::new(),
    );
    assert!(output.status.success(), "docker image inspect {tag}");
    let diff_ids: Vec<String> = serde_json::from_slice(&output.stdout).unwrap();
    (file, diff_ids)
}

fn analyse(file: &Path, cache: Option<(&LayerCache, &[String])>) -> ImageAnalysis {
    let export = std::fs::File::open(file).unwrap();
    match cache {
        None => analyze_export(export, 2).unwrap(),
        Some((cache, diff_ids)) => analyze_export_cached(export, 2, cache, diff_ids).unwrap(),
    }
}

#[test]
fn docker_layer_cache_gives_the_same_layers_waste_and_pull_size() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let _cleanup = RemoveOnDrop(vec![REPOSITORY.to_string()]);
    let names: Vec<String> = DOCKERFILES
        .iter()
        .map(|(name, _)| format!("{name}.Dockerfile"))
        .collect();
    let files: Vec<(&str, &str)> = names
        .iter()
        .zip(DOCKERFILES)
        .map(|(name, (_, text))| (name.as_str(), text))
        .collect();
    let dir = write_tree(&files);
    let mut images = Vec::new();
    for (name, _) in DOCKERFILES {
        let tag = format!("{REPOSITORY}:{name}");
        docker_build_in(dir.path(), &format!("{name}.Dockerfile"), &tag);
        let (file, diff_ids) = save(dir.path(), &tag);
        let fresh = analyse(&file, None);
        images.push((name, file, diff_ids, fresh));
    }
    // The images are what the test needs: a shared base, and waste in one of them.
    let base = &images[0].2[0];
    assert!(images.iter().all(|(_, _, ids, _)| &ids[0] == base));
    assert!(images[0].3.wasted_bytes() >= 4 << 20, "{:#?}", images[0].3);
    assert!(!images[0].3.top_wasted.is_empty());

    let folder = tempfile::tempdir().unwrap();
    let layers_dir = folder.path().join("layers");
    // A run: the cache fills as it goes, and later images find the base layer in it.
    let run = LayerCache::in_dir(&layers_dir);
    for (name, file, diff_ids, fresh) in &images {
        let cached = analyse(file, Some((&run, diff_ids)));
        assert_eq!(&cached, fresh, "{name}, cache filled in the run");
        assert_eq!(
            cached.compressed_bytes(),
            fresh.compressed_bytes(),
            "{name}"
        );
    }
    assert!(run.take_warnings().is_empty());
    let mut unique: Vec<&String> = images.iter().flat_map(|(_, _, ids, _)| ids).collect();
    unique.sort();
    unique.dedup();
    let entries = std::fs::read_dir(&layers_dir).unwrap().count();
    assert_eq!(entries, unique.len(), "one entry per distinct layer");

    // A later run: everything comes from the folder.
    let later = LayerCache::in_dir(&layers_dir);
    for (name, file, diff_ids, fresh) in &images {
        assert_eq!(
            &analyse(file, Some((&later, diff_ids))),
            fresh,
            "{name}, cache from an earlier run"
        );
    }
    assert!(later.take_warnings().is_empty());

    // The entries are what those figures came from: a changed pull size in the shared base's
    // entry shows up in every image, so no layer was compressed again.
    // The entry's checksum is made again, as stagebench makes it (the sha256 of the entry as
    // written with its check empty), or the doctored entry would be refused as damaged.
    let base_entry = layers_dir.join(format!("{}.json", base.trim_start_matches("sha256:")));
    let text = std::fs::read_to_string(&base_entry).unwrap();
    let entry: serde_json::Value = serde_json::from_str(&text).unwrap();
    let base_compressed = entry["compressed_bytes"].as_u64().unwrap();
    assert_eq!(base_compressed, images[0].3.layers[0].compressed_bytes);
    let check = entry["check"].as_str().unwrap();
    let unchecked = text
        .replace(&format!("\"check\":\"{check}\""), "\"check\":\"\"")
        .replace(
            &format!("\"compressed_bytes\":{base_compressed},"),
            &format!("\"compressed_bytes\":{},", base_compressed + 1),
        );
    let hex: String = sha2::Sha256::digest(unchecked.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let doctored_text = unchecked.replace("\"check\":\"\"", &format!("\"check\":\"{hex}\""));
    assert_ne!(doctored_text, text);
    std::fs::write(&base_entry, doctored_text).unwrap();
    let doctored = LayerCache::in_dir(&layers_dir);
    for (name, file, diff_ids, fresh) in &images {
        let analysis = analyse(file, Some((&doctored, diff_ids)));
        assert_eq!(
            analysis.compressed_bytes(),
            fresh.compressed_bytes() + 1,
            "{name}"
        );
    }

    // A damaged entry is not trusted: the layer is analysed again, with a warning, and the
    // entry repaired.
    std::fs::write(&base_entry, b"{\"format\":1,").unwrap();
    let damaged = LayerCache::in_dir(&layers_dir);
    for (name, file, diff_ids, fresh) in &images {
        assert_eq!(
            &analyse(file, Some((&damaged, diff_ids))),
            fresh,
            "{name}, damaged entry"
        );
    }
    let warnings = damaged.take_warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains(&base_entry.display().to_string()));
    let repaired: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&base_entry).unwrap()).unwrap();
    assert_eq!(repaired["compressed_bytes"].as_u64(), Some(base_compressed));
}
