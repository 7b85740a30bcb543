use super::*;

/// A tar of `entries`: (path, bytes), or (path, link target) when the second is `Err`.
fn tar_of(entries: &[(&str, Result<Vec<u8>, &str>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, content) in entries {
        let mut header = tar::Header::new_ustar();
        match content {
            Ok(bytes) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(bytes.len() as u64);
                header.set_mode(0o644);
                header.set_cksum();
                builder
                    .append_data(&mut header, path, bytes.as_slice())
                    .unwrap();
            }
            Err(target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                builder.append_link(&mut header, path, target).unwrap();
            }
        }
    }
    builder.into_inner().unwrap()
}

/// Bytes that do not compress (a simple xorshift generator: reproducible, no crate needed).
fn noise(len: usize, mut state: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

const EIGHT_MB: usize = 8 * 1024 * 1024;

/// A saved image as Docker 20.10 writes it: three layers, the second deleting the 8 MB file the
/// first wrote, the third identical to an empty layer and stored as a link to it.
fn saved_image(big: Vec<u8>) -> Vec<u8> {
    let layers = saved_layers(big);
    let diff_ids: Vec<String> = layers.iter().map(|l| diff_id_of(l)).collect();
    let [first, second, empty, _] = <[Vec<u8>; 4]>::try_from(layers).unwrap();
    let config = serde_json::json!({
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [
            {"created_by": "/bin/sh -c #(nop)  CMD [\"sh\"]", "empty_layer": true},
            {"created_by": "RUN /bin/sh -c head -c 8388608 /dev/urandom > /data/big.bin # buildkit"},
            {"created_by": "RUN /bin/sh -c rm /data/big.bin # buildkit"},
            {"created_by": "WORKDIR /app", "empty_layer": false},
            {"created_by": "/bin/sh -c #(nop) WORKDIR /srv"},
        ]
    });
    let manifest = serde_json::json!([{
        "Config": "cfg.json",
        "RepoTags": ["x:y"],
        "Layers": ["l1/layer.tar", "l2/layer.tar", "l3/layer.tar", "l4/layer.tar"]
    }]);
    tar_of(&[
        (
            "l0/layer.tar",
            Ok(tar_of(&[("bin/sh", Ok(b"#!".to_vec()))])),
        ),
        ("l1/layer.tar", Ok(first)),
        ("l2/layer.tar", Ok(second)),
        ("l3/layer.tar", Ok(empty)),
        ("l4/layer.tar", Err("../l3/layer.tar")),
        ("cfg.json", Ok(config.to_string().into_bytes())),
        ("manifest.json", Ok(manifest.to_string().into_bytes())),
    ])
}

#[test]
fn a_deleted_file_is_wasted_and_attributed_to_the_layer_that_wrote_it() {
    let analysis = analyze_export(saved_image(noise(EIGHT_MB, 7)).as_slice(), 2).unwrap();
    let created_by: Vec<&str> = analysis
        .layers
        .iter()
        .map(|l| l.created_by.as_str())
        .collect();
    assert_eq!(
        created_by,
        [
            "RUN head -c 8388608 /dev/urandom > /data/big.bin",
            "RUN rm /data/big.bin",
            "WORKDIR /app",
            "WORKDIR /srv",
        ],
        "l0 is not in the manifest, and empty layers take no history entry"
    );
    assert_eq!(analysis.layers[0].bytes, EIGHT_MB as u64 + 6);
    assert_eq!(analysis.layers[0].files, 2);
    assert_eq!(analysis.layers[0].wasted_bytes, EIGHT_MB as u64);
    assert_eq!(analysis.wasted_bytes(), EIGHT_MB as u64);
    assert_eq!(
        analysis.top_wasted,
        [WastedFile {
            path: "data/big.bin".to_string(),
            bytes: EIGHT_MB as u64,
            layer: 0,
            removed_by: 1,
            kind: WasteKind::Deleted,
        }]
    );
    assert_eq!(analysis.layers[3].diff_id, diff_id_of(&tar_of(&[])));
    assert_eq!(
        analysis.layers[3].compressed_bytes, analysis.layers[2].compressed_bytes,
        "a linked layer is the layer it links to"
    );
}

#[test]
fn noise_barely_compresses_and_zeros_nearly_vanish() {
    let random = analyze_export(saved_image(noise(EIGHT_MB, 11)).as_slice(), 2).unwrap();
    let zeros = analyze_export(saved_image(vec![0; EIGHT_MB]).as_slice(), 2).unwrap();
    let (random_bytes, zero_bytes) = (
        random.layers[0].compressed_bytes,
        zeros.layers[0].compressed_bytes,
    );
    assert!(
        random_bytes as f64 > 0.99 * EIGHT_MB as f64 && random_bytes < EIGHT_MB as u64 + 65_536,
        "{random_bytes}"
    );
    assert!(zero_bytes < EIGHT_MB as u64 / 100, "{zero_bytes}");
    // One thread or two: the same stream, compressed the same way.
    let single = analyze_export(saved_image(noise(EIGHT_MB, 11)).as_slice(), 1).unwrap();
    assert_eq!(single.compressed_bytes(), random.compressed_bytes());
}

#[test]
fn an_overwritten_file_and_an_opaque_directory_waste_what_they_hide() {
    let layers = [
        vec![
            waste::LayerFile {
                path: "opt/a".into(),
                bytes: 100,
                change: waste::Change::Write,
            },
            waste::LayerFile {
                path: "opt/sub/b".into(),
                bytes: 50,
                change: waste::Change::Write,
            },
            waste::LayerFile {
                path: "etc/c".into(),
                bytes: 7,
                change: waste::Change::Write,
            },
        ],
        vec![waste::LayerFile {
            path: "etc/c".into(),
            bytes: 9,
            change: waste::Change::Write,
        }],
        vec![waste::LayerFile {
            path: "opt".into(),
            bytes: 0,
            change: waste::Change::Opaque,
        }],
    ];
    let (per_layer, top) = waste::wasted(layers.iter().map(Vec::as_slice), 2);
    assert_eq!(per_layer, [157, 0, 0]);
    let described: Vec<(&str, u64, WasteKind)> = top
        .iter()
        .map(|f| (f.path.as_str(), f.bytes, f.kind))
        .collect();
    assert_eq!(
        described,
        [
            ("opt/a", 100, WasteKind::Deleted),
            ("opt/sub/b", 50, WasteKind::Deleted)
        ]
    );
}

#[test]
fn instructions_read_as_written() {
    assert_eq!(
        clean_instruction("|2 A=1 B=2 /bin/sh -c make -j2"),
        "RUN make -j2"
    );
    assert_eq!(
        clean_instruction("COPY /out /out # buildkit"),
        "COPY /out /out"
    );
    assert_eq!(
        clean_instruction("/bin/sh -c apt-get update"),
        "RUN apt-get update"
    );
}

#[test]
fn an_export_without_a_manifest_is_refused_by_name() {
    let export = tar_of(&[("l1/layer.tar", Ok(tar_of(&[])))]);
    let error = analyze_export(export.as_slice(), 1).unwrap_err();
    assert!(error.to_string().contains("manifest.json"), "{error}");
}

/// The sha256 diff ID of `bytes`.
fn diff_id_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The layer tars of [`saved_image`], bottom first, as the manifest lists them.
fn saved_layers(big: Vec<u8>) -> Vec<Vec<u8>> {
    let first = tar_of(&[
        ("data/big.bin", Ok(big)),
        ("etc/motd", Ok(b"hello\n".to_vec())),
    ]);
    let second = tar_of(&[("data/.wh.big.bin", Ok(Vec::new()))]);
    vec![first, second, tar_of(&[]), tar_of(&[])]
}

#[test]
fn a_layer_known_by_its_digest_is_taken_from_the_cache_unchanged() {
    let export = saved_image(noise(EIGHT_MB, 3));
    let fresh = analyze_export(export.as_slice(), 2).unwrap();
    let diff_ids: Vec<String> = saved_layers(noise(EIGHT_MB, 3))
        .iter()
        .map(|l| diff_id_of(l))
        .collect();
    let cache = LayerCache::in_memory();
    // Nothing known: every layer compressed as it streams, and kept.
    let first = analyze_export_cached(export.as_slice(), 2, &cache, &diff_ids).unwrap();
    assert_eq!(first, fresh);
    let big = cache.get(&diff_ids[0]).unwrap();
    assert_eq!(big.compressed_bytes, fresh.layers[0].compressed_bytes);
    assert_eq!(
        big.tar_bytes,
        saved_layers(noise(EIGHT_MB, 3))[0].len() as u64
    );
    // Everything known: the same analysis, and its pull size is the cache's (a doctored entry
    // shows it was not compressed again).
    assert_eq!(
        analyze_export_cached(export.as_slice(), 2, &cache, &diff_ids).unwrap(),
        fresh
    );
    cache.put(
        &diff_ids[0],
        cache::KnownLayer {
            compressed_bytes: big.compressed_bytes + 1,
            ..(*big).clone()
        },
    );
    let doctored = analyze_export_cached(export.as_slice(), 2, &cache, &diff_ids).unwrap();
    assert_eq!(doctored.compressed_bytes(), fresh.compressed_bytes() + 1);
    // A layer of a known layer's size but other bytes is not mistaken for it: the analysis
    // says so, and reading again without expected layers compresses it.
    let other = saved_image(noise(EIGHT_MB, 4));
    let error = analyze_export_cached(other.as_slice(), 2, &cache, &diff_ids).unwrap_err();
    assert!(
        matches!(&error, AnalysisError::UnforeseenLayer { diff_id, .. } if !diff_ids.contains(diff_id)),
        "{error}"
    );
    assert_eq!(
        analyze_export_cached(other.as_slice(), 2, &cache, &[]).unwrap(),
        analyze_export(other.as_slice(), 2).unwrap()
    );
    assert!(cache.take_warnings().is_empty());
}

#[test]
fn the_oci_layout_names_its_layers_and_is_read_the_same_with_a_cache() {
    let layers = saved_layers(noise(EIGHT_MB, 5));
    let diff_ids: Vec<String> = layers.iter().map(|l| diff_id_of(l)).collect();
    let blob = |diff_id: &str| format!("blobs/sha256/{}", &diff_id[7..]);
    let config = serde_json::json!({
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [
            {"created_by": "RUN /bin/sh -c write # buildkit"},
            {"created_by": "RUN /bin/sh -c rm # buildkit"},
            {"created_by": "WORKDIR /app"},
            {"created_by": "WORKDIR /srv"},
        ]
    })
    .to_string()
    .into_bytes();
    let config_blob = blob(&diff_id_of(&config));
    let manifest = serde_json::json!([{
        "Config": config_blob,
        "Layers": diff_ids.iter().map(|d| blob(d)).collect::<Vec<_>>(),
    }])
    .to_string()
    .into_bytes();
    // The two empty layers are one blob.
    let mut entries: Vec<(String, Result<Vec<u8>, &str>)> = layers[..3]
        .iter()
        .zip(&diff_ids)
        .map(|(layer, diff_id)| (blob(diff_id), Ok(layer.clone())))
        .collect();
    entries.push((config_blob, Ok(config)));
    entries.push(("manifest.json".to_string(), Ok(manifest)));
    let entries: Vec<(&str, Result<Vec<u8>, &str>)> = entries
        .iter()
        .map(|(path, content)| (path.as_str(), content.clone()))
        .collect();
    let export = tar_of(&entries);

    let fresh = analyze_export(export.as_slice(), 2).unwrap();
    assert_eq!(fresh.layers.len(), 4);
    assert_eq!(fresh.wasted_bytes(), EIGHT_MB as u64);
    let cache = LayerCache::in_memory();
    for pass in ["filling", "filled"] {
        assert_eq!(
            analyze_export_cached(export.as_slice(), 2, &cache, &diff_ids).unwrap(),
            fresh,
            "{pass}"
        );
    }
    // Named blobs are taken from the cache without being read: a doctored entry shows it.
    let big = cache.get(&diff_ids[0]).unwrap();
    cache.put(
        &diff_ids[0],
        cache::KnownLayer {
            compressed_bytes: big.compressed_bytes + 1,
            ..(*big).clone()
        },
    );
    let doctored = analyze_export_cached(export.as_slice(), 2, &cache, &[]).unwrap();
    assert_eq!(doctored.compressed_bytes(), fresh.compressed_bytes() + 1);
    // A blob whose bytes are not those its name gives (other bytes of the same size) is
    // refused, not given the named layer's figures.
    let impostor = saved_layers(noise(EIGHT_MB, 6)).swap_remove(0);
    assert_eq!(impostor.len(), layers[0].len());
    let forged: Vec<(&str, Result<Vec<u8>, &str>)> = entries
        .iter()
        .map(|(path, content)| {
            if *path == blob(&diff_ids[0]) {
                (*path, Ok(impostor.clone()))
            } else {
                (*path, content.clone())
            }
        })
        .collect();
    let error =
        analyze_export_cached(tar_of(&forged).as_slice(), 2, &cache, &diff_ids).unwrap_err();
    assert!(
        error.to_string().contains("holds bytes whose digest is"),
        "{error}"
    );
}

#[test]
fn an_export_whose_layers_are_not_the_config_s_is_refused_and_a_short_history_names_nothing() {
    let export = saved_image(noise(1024, 1));
    let config_of = |export: &[u8]| -> serde_json::Value {
        let mut archive = tar::Archive::new(export);
        let mut entry = archive
            .entries()
            .unwrap()
            .map(Result::unwrap)
            .find(|e| e.path().unwrap().to_string_lossy() == "cfg.json")
            .unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    // The same export with another config.
    let with_config = |config: serde_json::Value| -> Vec<u8> {
        let mut archive = tar::Archive::new(export.as_slice());
        let mut entries: Vec<(String, Result<Vec<u8>, String>)> = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().to_string_lossy().to_string();
            if entry.header().entry_type().is_symlink() {
                let target = entry.link_name().unwrap().unwrap();
                entries.push((path, Err(target.to_string_lossy().to_string())));
                continue;
            }
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
            if path == "cfg.json" {
                bytes = config.to_string().into_bytes();
            }
            entries.push((path, Ok(bytes)));
        }
        let entries: Vec<(&str, Result<Vec<u8>, &str>)> = entries
            .iter()
            .map(|(p, c)| {
                (
                    p.as_str(),
                    match c {
                        Ok(bytes) => Ok(bytes.clone()),
                        Err(target) => Err(target.as_str()),
                    },
                )
            })
            .collect();
        tar_of(&entries)
    };
    let mut wrong_layer = config_of(&export);
    wrong_layer["rootfs"]["diff_ids"][1] = serde_json::json!(diff_id_of(b"other"));
    let error = analyze_export(with_config(wrong_layer).as_slice(), 2).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("the layer l2/layer.tar hashes to"),
        "{error}"
    );
    let mut one_short = config_of(&export);
    one_short["rootfs"]["diff_ids"]
        .as_array_mut()
        .unwrap()
        .pop();
    assert!(analyze_export(with_config(one_short).as_slice(), 2).is_err());
    // A history that makes three layers for four: no layer is named, none shifted.
    let mut short_history = config_of(&export);
    short_history["history"].as_array_mut().unwrap().remove(1);
    let analysis = analyze_export(with_config(short_history).as_slice(), 2).unwrap();
    assert!(analysis.layers.iter().all(|l| l.created_by.is_empty()));
}
