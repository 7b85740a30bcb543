//! The registry client against real `docker-registry` processes on 127.0.0.1 (no Docker
//! daemon): the check's sentences, manifest sizes, tags, catalog and deletes, and credentials
//! read from a docker config as the docker CLI keeps them.

use std::path::Path;

use stagebench::registry::{
    Deleted, Registry, RegistryAccess, RegistryClient, RegistryCredentials, RegistryError,
};

use crate::support::{stagebench_with_env, stderr, write_tree};
use crate::support_registry::{RegistrySetup, TestRegistry, free_port, start_registry};

const USER: &str = "ci-user";
const PASSWORD: &str = "correct-horse-battery-staple";
const WRONG_PASSWORD: &str = "wrong-horse-battery-staple";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

/// A docker config folder whose config.json is `json`.
fn docker_config(json: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), json).unwrap();
    dir
}

/// A docker config with `auths.<server>.auth` = base64(user:password).
fn auths_config(server: &str, user: &str, password: &str) -> tempfile::TempDir {
    let auth = crate::support_registry::basic(user, password);
    let auth = auth.trim_start_matches("Basic ");
    docker_config(&format!(
        r#"{{"auths":{{"{server}":{{"auth":"{auth}"}}}}}}"#
    ))
}

fn client(value: &str, config_dir: &Path) -> RegistryClient {
    RegistryAccess::resolve_in(Registry::parse(value).unwrap(), config_dir)
        .unwrap()
        .client()
        .unwrap()
}

fn plain() -> Option<TestRegistry> {
    start_registry(&RegistrySetup::default())
}

fn with_user() -> Option<TestRegistry> {
    start_registry(&RegistrySetup {
        user: Some((USER, PASSWORD)),
        ..RegistrySetup::default()
    })
}

#[test]
fn registry_check_ok_on_a_plain_registry() {
    let Some(registry) = plain() else { return };
    let config = tempfile::tempdir().unwrap();
    runtime()
        .block_on(client(&registry.address, config.path()).check())
        .unwrap();
}

#[test]
fn registry_check_without_credentials_says_the_config_has_none() {
    let Some(registry) = with_user() else { return };
    let config = tempfile::tempdir().unwrap();
    let error = runtime()
        .block_on(client(&registry.address, config.path()).check())
        .unwrap_err();
    assert!(matches!(error, RegistryError::NeedsCredentials { .. }));
    assert_eq!(
        error.to_string(),
        format!(
            "registry {} needs credentials and the docker config ({}) has none for it",
            registry.address,
            config.path().join("config.json").display()
        )
    );
}

#[test]
fn registry_check_with_wrong_credentials_says_refused_and_never_shows_the_password() {
    let Some(registry) = with_user() else { return };
    let config = auths_config(&registry.address, USER, WRONG_PASSWORD);
    let error = runtime()
        .block_on(client(&registry.address, config.path()).check())
        .unwrap_err();
    let text = format!("{error} {error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "registry {} refused the credentials for it in {}",
            registry.address,
            config.path().join("config.json").display()
        )
    );
    assert!(!text.contains(WRONG_PASSWORD), "{text}");
    assert!(!text.contains(PASSWORD), "{text}");
}

#[test]
fn registry_check_with_auths_credentials_passes() {
    let Some(registry) = with_user() else { return };
    let config = auths_config(&registry.address, USER, PASSWORD);
    let access =
        RegistryAccess::resolve_in(Registry::parse(&registry.address).unwrap(), config.path())
            .unwrap();
    assert_eq!(
        access.credentials,
        Some(RegistryCredentials::Password {
            username: USER.to_string(),
            password: PASSWORD.to_string(),
        })
    );
    assert!(!format!("{access:?}").contains(PASSWORD));
    runtime()
        .block_on(access.client().unwrap().check())
        .unwrap();

    // The other form docker configs hold: username and password fields.
    let config = docker_config(&format!(
        r#"{{"auths":{{"{}":{{"username":"{USER}","password":"{PASSWORD}"}}}}}}"#,
        registry.address
    ));
    runtime()
        .block_on(client(&registry.address, config.path()).check())
        .unwrap();
}

#[test]
fn registry_check_of_a_closed_port_says_connection_refused() {
    let address = format!("127.0.0.1:{}", free_port());
    let config = tempfile::tempdir().unwrap();
    let error = runtime()
        .block_on(client(&address, config.path()).check())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "cannot reach registry {address}: connection refused (nothing listens at {address})"
        )
    );
}

#[test]
fn registry_manifest_bytes_is_the_sum_of_the_uploaded_blobs() {
    let Some(registry) = with_user() else { return };
    let config = auths_config(&registry.address, USER, PASSWORD);
    let repository = "stagebench/app/multi";
    let image_config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let layer_a = vec![1u8; 3000];
    let layer_b = vec![2u8; 12345];
    registry.push_image(repository, "cache", image_config, &[&layer_a, &layer_b]);
    let client = client(&registry.address, config.path());
    let rt = runtime();
    let expected = (image_config.len() + layer_a.len() + layer_b.len()) as u64;
    assert_eq!(
        rt.block_on(client.manifest_bytes(repository, "cache"))
            .unwrap(),
        expected
    );
    let sizes = rt.block_on(client.blob_sizes(repository, "cache")).unwrap();
    assert_eq!(sizes.len(), 3);
    assert_eq!(sizes.values().sum::<u64>(), expected);

    // An OCI index of that image and a second one sharing layer_a: each image is counted
    // whole, and blob_sizes counts the shared layer once.
    let other_config = br#"{"architecture":"arm64","os":"linux"}"#;
    let layer_c = vec![3u8; 777];
    let (first, first_json) =
        registry.push_image(repository, "first", image_config, &[&layer_a, &layer_b]);
    let (second, second_json) =
        registry.push_image(repository, "second", other_config, &[&layer_a, &layer_c]);
    let second_expected = (other_config.len() + layer_a.len() + layer_c.len()) as u64;
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"{first}","size":{}}},{{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"{second}","size":{}}}]}}"#,
        first_json.len(),
        second_json.len()
    );
    registry.put_manifest(
        repository,
        "multi-arch",
        "application/vnd.oci.image.index.v1+json",
        &index,
    );
    assert_eq!(
        rt.block_on(client.manifest_bytes(repository, "multi-arch"))
            .unwrap(),
        expected + second_expected
    );
    let sizes = rt
        .block_on(client.blob_sizes(repository, "multi-arch"))
        .unwrap();
    assert_eq!(sizes.len(), 5, "{sizes:?}");
    assert_eq!(
        sizes.values().sum::<u64>(),
        expected + second_expected - layer_a.len() as u64
    );
}

#[test]
fn registry_delete_tag_removes_our_tag_and_refuses_other_repositories() {
    let Some(registry) = plain() else { return };
    let config = tempfile::tempdir().unwrap();
    let ours = "ci/stagebench/app/deps";
    let theirs = "ci/library/app";
    registry.push_image(ours, "run1", b"{\"os\":\"linux\"}", &[b"layer one"]);
    registry.push_image(ours, "run2", b"{\"os\":\"linux\",\"n\":2}", &[b"layer two"]);
    registry.push_image(theirs, "latest", b"{\"os\":\"linux\"}", &[b"layer one"]);
    let client = client(&format!("{}/ci", registry.address), config.path());
    let rt = runtime();
    let mut catalog = rt.block_on(client.catalog()).unwrap();
    catalog.sort();
    assert_eq!(catalog, vec![theirs.to_string(), ours.to_string()]);

    let deleted = rt.block_on(client.delete_tag(ours, "run1")).unwrap();
    assert!(matches!(deleted, Deleted::Removed { ref digest } if digest.starts_with("sha256:")));
    assert_eq!(
        rt.block_on(client.tags(ours)).unwrap(),
        vec!["run2".to_string()]
    );
    assert_eq!(
        rt.block_on(client.delete_tag(ours, "run1")).unwrap(),
        Deleted::Absent
    );

    let error = rt
        .block_on(client.delete_tag(theirs, "latest"))
        .unwrap_err();
    assert!(matches!(error, RegistryError::NotOurs { .. }));
    assert_eq!(
        error.to_string(),
        format!(
            "ci/library/app is not under ci/stagebench/ in registry {}, where everything stagebench pushes lives, so stagebench does not delete from it",
            registry.address
        )
    );
    assert_eq!(
        rt.block_on(client.tags(theirs)).unwrap(),
        vec!["latest".to_string()]
    );
}

#[test]
fn registry_with_deletes_disabled_yields_refused() {
    let Some(registry) = start_registry(&RegistrySetup {
        deletes_disabled: true,
        ..RegistrySetup::default()
    }) else {
        return;
    };
    let config = tempfile::tempdir().unwrap();
    let ours = "stagebench/app/multi";
    registry.push_image(ours, "run1", b"{\"os\":\"linux\"}", &[b"layer"]);
    let client = client(&registry.address, config.path());
    let rt = runtime();
    assert_eq!(
        rt.block_on(client.delete_tag(ours, "run1")).unwrap(),
        Deleted::Refused
    );
    assert_eq!(
        rt.block_on(client.tags(ours)).unwrap(),
        vec!["run1".to_string()]
    );
}

/// A scenario `validate` can read without a daemon's help.
const SCENARIO: &[(&str, &str)] = &[
    ("single.Dockerfile", "FROM busybox:latest\nRUN true\n"),
    (
        "multi.Dockerfile",
        "FROM busybox:latest AS b\nRUN true\nFROM busybox:latest\n",
    ),
];

#[test]
fn registry_credentials_from_a_cred_helper_reach_the_registry() {
    let Some(registry) = with_user() else { return };
    let scenario = write_tree(SCENARIO);
    let bin = tempfile::tempdir().unwrap();
    let helper = bin.path().join("docker-credential-test");
    // A credential helper as the docker CLI runs it: `get`, the server address on stdin, JSON
    // out; it answers the right password only for this registry.
    let script = format!(
        "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\n[ \"$server\" = '{}' ] || {{ echo 'credentials not found' >&2; exit 1; }}\nprintf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"%s\"}}' \"$server\" \"$STAGEBENCH_TEST_SECRET\"\n",
        registry.address
    );
    std::fs::write(&helper, script).unwrap();
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let config = docker_config(&format!(
        r#"{{"auths":{{}},"credHelpers":{{"{}":"test"}}}}"#,
        registry.address
    ));
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let config_dir = config.path().to_str().unwrap();
    let validate = |secret: &str| {
        stagebench_with_env(
            scenario.path(),
            &["validate", ".", "--registry", &registry.address],
            &[
                ("DOCKER_CONFIG", config_dir),
                ("PATH", &path),
                ("STAGEBENCH_TEST_SECRET", secret),
            ],
        )
    };
    let right = validate(PASSWORD);
    assert!(
        !stderr(&right).contains("registry"),
        "the helper's password was taken: {}",
        stderr(&right)
    );
    let wrong = validate(WRONG_PASSWORD);
    assert!(!wrong.status.success());
    let text = stderr(&wrong);
    assert!(
        text.contains(&format!(
            "registry {} refused the credentials for it in {}",
            registry.address,
            config.path().join("config.json").display()
        )),
        "{text}"
    );
    assert!(!text.contains(WRONG_PASSWORD), "{text}");
}

#[test]
fn registry_validate_with_an_unreachable_registry_exits_with_the_sentence() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = stagebench_with_env(
        root,
        &[
            "validate",
            "scenarios/go-service",
            "--registry",
            "127.0.0.1:1",
        ],
        &[],
    );
    assert!(!output.status.success());
    assert_eq!(
        stderr(&output).trim(),
        "stagebench: cannot reach registry 127.0.0.1:1: connection refused (nothing listens at 127.0.0.1:1) (see docs/cache-modes.md#the-registry)"
    );
    let output = stagebench_with_env(
        root,
        &["validate", "scenarios/go-service"],
        &[("STAGEBENCH_REGISTRY", "http://127.0.0.1:1")],
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("--registry `http://127.0.0.1:1` has a scheme"),
        "{}",
        stderr(&output)
    );
}
