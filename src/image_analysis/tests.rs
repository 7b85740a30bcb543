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
    let first = tar_of(&[
        ("data/big.bin", Ok(big)),
        ("etc/motd", Ok(b"hello\n".to_vec())),
    ]);
    let second = tar_of(&[("data/.wh.big.bin", Ok(Vec::new()))]);
    let empty = tar_of(&[]);
    let config = serde_json::json!({
        "rootfs": {"type": "layers", "diff_ids": ["sha256:a", "sha256:b", "sha256:c", "sha256:d"]},
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
    assert_eq!(analysis.layers[3].diff_id, "sha256:d");
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
