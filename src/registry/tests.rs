use super::Registry;

fn parse(value: &str) -> Registry {
    Registry::parse(value).unwrap()
}

fn refusal(value: &str) -> String {
    Registry::parse(value).unwrap_err()
}

#[test]
fn parse_accepts_host_port_and_prefix() {
    let registry = parse("127.0.0.1:5000");
    assert_eq!(registry.server(), "127.0.0.1:5000");
    assert_eq!(registry.namespace_path(), "stagebench");
    assert_eq!(registry.to_string(), "127.0.0.1:5000");

    let registry = parse("ghcr.io/my-org/ci__cache/a.b");
    assert_eq!(registry.server(), "ghcr.io");
    assert_eq!(registry.namespace_path(), "my-org/ci__cache/a.b/stagebench");
    assert_eq!(registry.to_string(), "ghcr.io/my-org/ci__cache/a.b");

    assert_eq!(parse("localhost/x").server(), "localhost");
    assert_eq!(parse("[::1]:5000").server(), "[::1]:5000");
    assert_eq!(
        parse("Registry.Example.com:443/p").server(),
        "Registry.Example.com:443"
    );
}

#[test]
fn parse_refuses_scheme_credentials_and_empty_parts_naming_the_flag() {
    for (value, words) in [
        ("", "is empty"),
        ("http://127.0.0.1:5000", "has a scheme"),
        ("https://ghcr.io/org", "has a scheme"),
        ("user:secret@ghcr.io/org", "holds credentials"),
        ("ghcr.io//org", "empty path component"),
        ("ghcr.io/org/", "empty path component"),
        ("/org", "has no host"),
        (":5000", "has no host"),
        ("ghcr.io:", "has the port ``"),
        ("ghcr.io:0", "has the port `0`"),
        ("ghcr.io:65536", "has the port `65536`"),
        ("ghcr.io:+80", "has the port `+80`"),
        ("ghcr.io/Org", "has the path component `Org`"),
        ("ghcr.io/org:tag", "has the path component `org:tag`"),
        ("ghcr.io/-org", "has the path component `-org`"),
        ("ghcr.io/a..b", "has the path component `a..b`"),
        ("ghcr.io/a___b", "has the path component `a___b`"),
        ("gh_cr.io/org", "has the host `gh_cr.io`"),
        ("-ghcr.io", "has the host `-ghcr.io`"),
        ("ghcr..io", "has the host `ghcr..io`"),
        ("[::1", "without its `]`"),
        ("[zz]:80", "not an IPv6 address"),
        ("myorg/cache", "Docker Hub namespace"),
        ("ghcr.io/a b", "holds the character"),
    ] {
        let sentence = refusal(value);
        assert!(sentence.starts_with("--registry"), "{value:?}: {sentence}");
        assert!(sentence.contains(words), "{value:?}: {sentence}");
        assert!(!sentence.contains('\n'), "{value:?}: {sentence}");
    }
    assert!(!refusal("user:secret@ghcr.io/org").is_empty());
}

#[test]
fn parse_refuses_a_prefix_that_leaves_no_room_for_names() {
    let long = format!("ghcr.io/{}/{}", "a".repeat(60), "b".repeat(60));
    assert!(refusal(&long).contains("more than 128 characters"));
    assert!(Registry::parse(&format!("ghcr.io/{}", "a".repeat(60))).is_ok());
}

#[test]
fn repository_uses_the_local_image_naming_rule() {
    let registry = parse("127.0.0.1:5000/ci");
    assert_eq!(
        registry.repository("go-service", "multi"),
        "127.0.0.1:5000/ci/stagebench/go-service/multi"
    );
    // The same component as the local repository `stagebench/<scenario>`.
    let local = crate::scenario::image_repository_for("Go_Service");
    let remote = registry.repository_path("Go_Service", "Multi_Stage");
    assert!(remote.starts_with(&format!("ci/{local}/")), "{remote}");
    assert!(remote.starts_with("ci/stagebench/go-service_"), "{remote}");
    assert!(remote.contains("/multi-stage_"), "{remote}");
    assert!(registry.owns(&remote));

    let bare = parse("localhost:5000");
    assert_eq!(
        bare.repository("app", "deps"),
        "localhost:5000/stagebench/app/deps"
    );
}

#[test]
fn owns_only_paths_under_prefix_stagebench() {
    let registry = parse("ghcr.io/org");
    assert!(registry.owns("org/stagebench/app/multi"));
    assert!(registry.owns("org/stagebench/app"));
    assert!(!registry.owns("org/stagebench"));
    assert!(!registry.owns("org/stagebench/"));
    assert!(!registry.owns("org/other/app"));
    assert!(!registry.owns("stagebench/app/multi"));
    assert!(!registry.owns("org/stagebenchx/app"));
    assert!(!registry.owns("org/stagebench/../x"));
    assert!(!registry.owns("org/stagebench/a//b"));
    assert!(!registry.owns("ghcr.io/org/stagebench/app/multi"));
    let bare = parse("127.0.0.1:5000");
    assert!(bare.owns("stagebench/app/multi"));
    assert!(!bare.owns("library/busybox"));
}

#[test]
fn loopback_hosts_speak_http_and_others_https() {
    assert_eq!(parse("127.0.0.1:5000").base_url(), "http://127.0.0.1:5000");
    assert_eq!(parse("127.8.9.1:5000").base_url(), "http://127.8.9.1:5000");
    assert_eq!(parse("localhost:5000").base_url(), "http://localhost:5000");
    assert_eq!(parse("[::1]:5000").base_url(), "http://[::1]:5000");
    assert_eq!(parse("ghcr.io/org").base_url(), "https://ghcr.io");
    assert_eq!(parse("10.0.0.1:5000").base_url(), "https://10.0.0.1:5000");
}

#[test]
fn credentials_debug_hides_the_secret() {
    let password = super::RegistryCredentials::Password {
        username: "ci".to_string(),
        password: "hunter2-secret".to_string(),
    };
    let token = super::RegistryCredentials::IdentityToken("token-secret".to_string());
    let shown = format!("{password:?} {token:?} {password:#?}");
    assert!(shown.contains("ci"), "{shown}");
    assert!(!shown.contains("secret"), "{shown}");
    let docker = password.docker_credentials("127.0.0.1:5000");
    assert_eq!(docker.username.as_deref(), Some("ci"));
    assert_eq!(docker.password.as_deref(), Some("hunter2-secret"));
    assert_eq!(docker.serveraddress.as_deref(), Some("127.0.0.1:5000"));
    let map = token.build_credentials("127.0.0.1:5000");
    assert_eq!(
        map["127.0.0.1:5000"].identitytoken.as_deref(),
        Some("token-secret")
    );
}
