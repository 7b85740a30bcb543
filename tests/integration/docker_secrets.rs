//! Secret build arguments and BuildKit secrets: used by the build, never written to any output
//! file or printed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use sha2::{Digest, Sha256};
use stagebench::results::BuildStatus;

use crate::support::{
    RemoveOnDrop, docker_cli, docker_daemon, files_under, results, stagebench, stagebench_with_env,
    stderr, write_tree,
};

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The fewest characters of a secret that count as a leak when found: a cut that keeps part
/// of a value leaks that part.
const LEAKED_CHARS: usize = 8;

/// What to look for: each line of each secret (trimmed), whole when short, else every run of
/// [`LEAKED_CHARS`] characters of it.
fn secret_parts(secrets: &[&str]) -> Vec<String> {
    let mut parts = Vec::new();
    for line in secrets.iter().flat_map(|s| s.lines()).map(str::trim) {
        let chars: Vec<char> = line.chars().collect();
        if chars.len() <= LEAKED_CHARS {
            parts.push(line.to_string());
        } else {
            parts.extend(chars.windows(LEAKED_CHARS).map(|w| w.iter().collect()));
        }
    }
    parts.retain(|p| !p.is_empty());
    parts
}

/// `text` read the ways a secret scanner reads it: as it is, percent-decoded (with `+` as a
/// space and as itself), JSON-unescaped, and every run of base64 characters decoded from
/// each of its four starting positions (standard and URL-safe alike).
fn decoded_views(text: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let plus_as_space: Vec<u8> = text
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    vec![
        ("as written", text.to_vec()),
        (
            "percent-decoded",
            percent_encoding::percent_decode(text).collect(),
        ),
        (
            "form-decoded",
            percent_encoding::percent_decode(&plus_as_space).collect(),
        ),
        ("JSON-unescaped", json_unescaped(text)),
        ("base64-decoded", base64_decoded(text)),
    ]
}

/// `text` with every JSON string escape undone (`\n`, `\"`, `\u00e9`, surrogate pairs).
fn json_unescaped(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut units: Vec<u16> = Vec::new();
    let flush = |units: &mut Vec<u16>, out: &mut Vec<u8>| {
        out.extend(String::from_utf16_lossy(units).into_bytes());
        units.clear();
    };
    let mut at = 0;
    while at < text.len() {
        if text[at] == b'\\' && at + 1 < text.len() {
            let unit = text
                .get(at + 2..at + 6)
                .filter(|_| text[at + 1] == b'u')
                .and_then(|hex| u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
            if let Some(unit) = unit {
                units.push(unit);
                at += 6;
                continue;
            }
            flush(&mut units, &mut out);
            out.push(match text[at + 1] {
                b'n' => b'\n',
                b't' => b'\t',
                b'r' => b'\r',
                b'b' => 8,
                b'f' => 12,
                other => other,
            });
            at += 2;
        } else {
            flush(&mut units, &mut out);
            out.push(text[at]);
            at += 1;
        }
    }
    flush(&mut units, &mut out);
    out
}

/// Every run of base64 characters in `text` decoded from each of its first four positions,
/// so that a value encoded at any alignment inside longer data comes out whole.
fn base64_decoded(text: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let lenient = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let mut out = Vec::new();
    let is_base64 = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_');
    for run in text.split(|b| !is_base64(b)).filter(|run| run.len() >= 8) {
        let standard: Vec<u8> = run
            .iter()
            .map(|&b| match b {
                b'-' => b'+',
                b'_' => b'/',
                b => b,
            })
            .collect();
        for start in 0..4 {
            let usable = (standard.len() - start) / 4 * 4;
            if let Ok(decoded) = lenient.decode(&standard[start..start + usable]) {
                out.extend(decoded);
                out.push(b'\n');
            }
        }
    }
    out
}

/// Fails when any of `secrets`, or any part of one of [`LEAKED_CHARS`] characters, is in what
/// the run printed or in any file under `out`, whether as written or in any encoding a secret
/// scanner decodes.
fn assert_never_printed_or_written(secrets: &[&str], output: &Output, out: &Path) {
    let parts = secret_parts(secrets);
    let finder = aho_corasick::AhoCorasick::new(&parts).unwrap();
    let printed = [output.stdout.as_slice(), output.stderr.as_slice()].concat();
    let mut places = vec![("printed output".to_string(), printed)];
    places.extend(
        files_under(out)
            .into_iter()
            .map(|path| (path.display().to_string(), std::fs::read(&path).unwrap())),
    );
    for (place, bytes) in &places {
        for (how, view) in decoded_views(bytes) {
            if let Some(found) = finder.find(&view) {
                panic!(
                    "`{}` of a secret is in {place} ({how}):\n{}",
                    parts[found.pattern().as_usize()],
                    stderr(output)
                );
            }
        }
    }
}

/// Runs one timed build of each variant of `tree`'s scenario `scenario` in the cache modes
/// `cache`, with `flags` and the environment `envs`, into `tree/out`, with the JSON and Markdown
/// exports printed too, so that every form the results are printed in is searched. Returns what
/// the run printed and its results folder.
fn run_printing_exports(
    tree: &Path,
    scenario: &str,
    cache: &str,
    flags: &[&str],
    envs: &[(&str, &str)],
) -> (Output, PathBuf) {
    let out = tree.join("out");
    let out_arg = out.display().to_string();
    let dir = tree.join(scenario).display().to_string();
    let mut args = vec!["run", &dir, "--runs", "1", "--cache", cache];
    args.extend(flags);
    args.extend([
        "--out",
        &out_arg,
        "--export-json",
        "-",
        "--export-markdown",
        "-",
    ]);
    (stagebench_with_env(tree, &args, envs), out)
}

#[test]
fn docker_secret_build_arguments_are_used_but_never_written_or_printed() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let token = "tok-7f3a9c2e51d8b406";
    let other = "oth-94c1e07a3b5d2f68";
    let tree = write_tree(&[
        (
            "secret-test/scenario.toml",
            "secret_build_args = [\"TOKEN\"]\n",
        ),
        // The lengths prove the values arrived without writing them into the Dockerfile.
        (
            "secret-test/single.Dockerfile",
            "FROM busybox:latest\nARG TOKEN\nARG OTHER\nRUN [ ${#TOKEN} -eq 20 ] && [ ${#OTHER} -eq 20 ] && echo ok > /ok\n",
        ),
        (
            "secret-test/leaky.Dockerfile",
            "FROM busybox:latest\nARG TOKEN\nARG OTHER\nRUN echo \"leaking $TOKEN and $OTHER\"; exit 3\n",
        ),
    ]);
    let _cleanup = RemoveOnDrop(vec!["stagebench/secret-test".to_string()]);
    let token_arg = format!("TOKEN={token}");
    let other_arg = format!("OTHER={other}");
    let (output, out) = run_printing_exports(
        tree.path(),
        "secret-test",
        "cold,warm",
        &["--build-arg", &token_arg, "--secret-build-arg", &other_arg],
        &[],
    );
    let out_arg = out.display().to_string();
    let rows = results(&out);
    let single: Vec<_> = rows.iter().filter(|r| r.variant == "single").collect();
    assert!(
        !single.is_empty() && single.iter().all(|r| r.status == BuildStatus::Ok),
        "the secrets reached the build: {rows:?}"
    );
    let leaky = rows.iter().find(|r| r.variant == "leaky").unwrap();
    assert_eq!(leaky.status, BuildStatus::Failed);
    assert!(
        leaky.error.contains("leaking <secret> and <secret>"),
        "{}",
        leaky.error
    );

    assert_never_printed_or_written(&[token, other], &output, &out);
    // A run with a secret --build-arg cannot be resumed: its value was never recorded.
    let resumed = stagebench(tree.path(), &["run", "--resume", &out_arg]);
    assert!(!resumed.status.success());
    assert!(
        stderr(&resumed).contains("never recorded"),
        "{}",
        stderr(&resumed)
    );
}

#[test]
fn docker_buildkit_secrets_reach_run_mount_but_no_output_and_no_image() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let token = "tok-3b8e05d1c94a7f26\nsecond-line-6d0e2a91\n";
    let from_env = "env-51c7a0e9d3b24f86";
    let tree = write_tree(&[
        ("secret-mount/token", token),
        // Each secret's digest is kept in the image: proof that it arrived whole, without the
        // value itself ever reaching a layer.
        (
            "secret-mount/single.Dockerfile",
            "FROM busybox:latest\n\
             RUN --mount=type=secret,id=token,required=true --mount=type=secret,id=api,required=true \\\n\
             \x20   sha256sum /run/secrets/token /run/secrets/api | cut -d' ' -f1 > /digests \\\n\
             \x20   && cat /run/secrets/token /run/secrets/api\n",
        ),
        (
            "secret-mount/leaky.Dockerfile",
            "FROM busybox:latest\n\
             RUN --mount=type=secret,id=token --mount=type=secret,id=api \\\n\
             \x20   cat /run/secrets/token; echo \"api is $(cat /run/secrets/api)\" >&2; exit 3\n",
        ),
    ]);
    let _cleanup = RemoveOnDrop(vec!["stagebench/secret-mount".to_string()]);
    let (output, out) = run_printing_exports(
        tree.path(),
        "secret-mount",
        "cold,warm",
        &[
            "--secret",
            "id=token,src=secret-mount/token",
            "--secret",
            "id=api,env=STAGEBENCH_TEST_API_SECRET",
        ],
        &[("STAGEBENCH_TEST_API_SECRET", from_env)],
    );
    let out_arg = out.display().to_string();
    let dir = tree.path().join("secret-mount").display().to_string();
    let rows = results(&out);
    let single: Vec<_> = rows.iter().filter(|r| r.variant == "single").collect();
    assert!(
        single.len() == 2 && single.iter().all(|r| r.status == BuildStatus::Ok),
        "both required secrets were mounted: {rows:?}\n{}",
        stderr(&output)
    );
    let digests = docker_cli(
        &[
            "run",
            "--rm",
            &crate::support::final_image_tag(&out, "single"),
            "cat",
            "/digests",
        ],
        &BTreeMap::new(),
    );
    let expected: String = [token, from_env]
        .iter()
        .map(|value| {
            let digest = Sha256::digest(value.as_bytes());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            hex + "\n"
        })
        .collect();
    assert_eq!(String::from_utf8_lossy(&digests.stdout), expected);
    let leaky = rows.iter().find(|r| r.variant == "leaky").unwrap();
    assert_eq!(leaky.status, BuildStatus::Failed);
    assert!(leaky.error.contains("api is <secret>"), "{}", leaky.error);

    let saved = docker_cli(
        &["save", &crate::support::final_image_tag(&out, "single")],
        &BTreeMap::new(),
    );
    assert!(saved.status.success() && saved.stdout.len() > 1_000_000);
    let secrets = ["tok-3b8e05d1c94a7f26", "second-line-6d0e2a91", from_env];
    for secret in secrets {
        assert!(!contains(&saved.stdout, secret), "{secret} is in the image");
    }
    assert_never_printed_or_written(&secrets, &output, &out);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("meta.json")).unwrap()).unwrap();
    // Relative to the working directory the run started in, as every path meta.json holds.
    assert_eq!(
        meta["settings"]["build_secrets"],
        serde_json::json!([
            {"id": "token", "src": "secret-mount/token"},
            {"id": "api", "env": "STAGEBENCH_TEST_API_SECRET"},
        ]),
        "meta.json records where each secret came from, and nothing more"
    );

    // --resume reads the secret again from where meta.json says it came from.
    let resumed = stagebench_with_env(
        tree.path(),
        &["run", "--resume", &out_arg],
        &[("STAGEBENCH_TEST_API_SECRET", from_env)],
    );
    assert!(
        stderr(&resumed).contains("nothing to resume"),
        "{}",
        stderr(&resumed)
    );
    let unset = stagebench(tree.path(), &["run", "--resume", &out_arg]);
    assert!(!unset.status.success());
    assert!(
        stderr(&unset).contains(
            "--secret id=api: the environment variable STAGEBENCH_TEST_API_SECRET is not set"
        ),
        "{}",
        stderr(&unset)
    );

    // A secret that cannot be read stops the run before any build, naming the flag.
    let missing = stagebench(
        tree.path(),
        &["run", &dir, "--secret", "id=token,src=no-such-file"],
    );
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("--secret id=token: cannot read "),
        "{}",
        stderr(&missing)
    );
}

/// A secret build argument as the common tools write it: percent-encoded (upper- and
/// lower-case hex, a space as `%20` and as `+`) and JSON-escaped (serde_json, Go's
/// `encoding/json` with `\u003c`, and ASCII-only with `\u00e9` in lower- and upper-case hex).
fn encoded_forms(value: &str) -> Vec<String> {
    let percent = |hex: fn(u8) -> String| -> String {
        value
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                b => format!("%{}", hex(b)),
            })
            .collect()
    };
    let upper = percent(|b| format!("{b:02X}"));
    let lower = percent(|b| format!("{b:02x}"));
    let json = serde_json::to_string(value).unwrap();
    let json = json[1..json.len() - 1].to_string();
    let go = json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    let ascii = |hex: fn(u16) -> String| -> String {
        json.chars()
            .map(|c| {
                let mut units = [0u16; 2];
                if c.is_ascii() {
                    c.to_string()
                } else {
                    c.encode_utf16(&mut units)
                        .iter()
                        .map(|u| format!("\\u{}", hex(*u)))
                        .collect()
                }
            })
            .collect()
    };
    vec![
        upper.replace("%20", "+"),
        upper,
        lower,
        go,
        ascii(|u| format!("{u:04x}")),
        ascii(|u| format!("{u:04X}")),
        json,
    ]
}

/// Runs a scenario whose failing variant prints a secret build argument (read from the
/// environment) and a multi-line one (given on the command line) in every form at once, with
/// `builder`, and checks that no form reaches a file or a printed line.
fn secret_forms_are_never_written_or_printed(builder: &str) {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let token = "tok-Q7f3a9c2e5 <1d&8b>\"6\\0/4+é\tZk";
    let multi = "mul-K2p9x7Qw4\nmul-Z8r4t6Vy1";
    let mut forms = encoded_forms(token);
    let multi_json = serde_json::to_string(multi).unwrap();
    forms.push(multi_json[1..multi_json.len() - 1].to_string());
    let forms_line = forms.join(" ");
    let scenario = format!("secret-forms-{builder}");
    let files = [
        (format!("{scenario}/forms.txt"), forms_line.clone()),
        (
            format!("{scenario}/single.Dockerfile"),
            "FROM busybox:latest\nARG TOKEN\nRUN [ ${#TOKEN} -gt 20 ] && echo ok > /ok\n"
                .to_string(),
        ),
        // The last five lines of output are kept to explain the failure: a line where the
        // value straddles the 300-character cut, each line of the multi-line value, the
        // encoded forms, base64 at every alignment, and a value printed in two parts a second
        // apart (two log messages) on a last line with no newline.
        (
            format!("{scenario}/leaky.Dockerfile"),
            "FROM busybox:latest\n\
             ARG TOKEN\n\
             ARG MULTI\n\
             COPY forms.txt /forms.txt\n\
             RUN echo start; \\\n\
             \x20 printf 'long %s%s\\n' \"$(head -c 280 /dev/zero | tr '\\0' y)\" \"$TOKEN\"; \\\n\
             \x20 printf 'lines %s | %s\\n' \"$(echo \"$MULTI\" | head -n 1)\" \"$(echo \"$MULTI\" | tail -n 1)\"; \\\n\
             \x20 printf 'encoded %s\\n' \"$(cat /forms.txt)\"; \\\n\
             \x20 printf 'base64 %s %s %s %s %s %s %s\\n' \"$(printf %s \"$TOKEN\" | base64 -w0)\" \
             \"$(printf %s \"$TOKEN\" | base64 -w0 | tr -d =)\" \
             \"$(printf %s \"$TOKEN\" | base64 -w0 | tr '+/' '-_')\" \
             \"$(printf x%s \"$TOKEN\" | base64 -w0)\" \
             \"$(printf xy%s. \"$TOKEN\" | base64 -w0 | tr '+/' '-_' | tr -d =)\" \
             \"$(printf 'user:%s' \"$TOKEN\" | base64 -w0)\" \
             \"$(printf %s \"$MULTI\" | base64 -w0)\"; \\\n\
             \x20 printf 'split %s' \"${TOKEN:0:12}\"; sleep 1; printf '%s end' \"${TOKEN:12}\"; \\\n\
             \x20 exit 3\n"
                .to_string(),
        ),
    ];
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(path, text)| (path.as_str(), text.as_str()))
        .collect();
    let tree = write_tree(&files);
    let _cleanup = RemoveOnDrop(vec![format!("stagebench/{scenario}")]);
    let multi_arg = format!("MULTI={multi}");
    let (output, out) = run_printing_exports(
        tree.path(),
        &scenario,
        "cold",
        &[
            "--builder",
            builder,
            "--secret-build-arg",
            "TOKEN",
            "--secret-build-arg",
            &multi_arg,
        ],
        &[("TOKEN", token)],
    );
    let printed = stderr(&output);
    let rows = results(&out);
    let single = rows.iter().find(|r| r.variant == "single").unwrap();
    assert_eq!(single.status, BuildStatus::Ok, "{printed}");
    let leaky = rows.iter().find(|r| r.variant == "leaky").unwrap();
    assert_eq!(leaky.status, BuildStatus::Failed, "{printed}");
    let error = &leaky.error;
    for kept in [
        format!("long {}<secret> | ", "y".repeat(280)),
        "lines <secret> | <secret> | ".to_string(),
        format!("encoded{} | ", " <secret>".repeat(forms.len())),
        "| split <secret> end".to_string(),
    ] {
        assert!(error.contains(&kept), "{kept} is not in {error}");
    }
    let (_, kept_output) = error.split_once("; last output: ").unwrap();
    let base64_line = kept_output
        .split(" | ")
        .find(|l| l.starts_with("base64 "))
        .unwrap();
    assert_eq!(base64_line.matches("<secret>").count(), 7, "{base64_line}");
    assert_never_printed_or_written(&[token, multi], &output, &out);

    // The warning before the run is true: the kept image's history holds the value.
    assert!(
        printed.contains(
            "warning: this run keeps each variant's final image and each prebuild, and an image's history records the value of secret build arguments MULTI, TOKEN"
        ),
        "{printed}"
    );
    let history = docker_cli(
        &[
            "history",
            "--no-trunc",
            "--format",
            "{{.CreatedBy}}",
            &single.image_id,
        ],
        &BTreeMap::new(),
    );
    // `docker history` shows the tab as a space; the rest is there as given.
    assert!(
        contains(&history.stdout, "TOKEN=tok-Q7f3a9c2e5 <1d&8b>\"6\\0/4+é"),
        "{}",
        String::from_utf8_lossy(&history.stdout)
    );
}

#[test]
fn docker_every_form_of_a_secret_is_redacted_from_buildkit_output() {
    secret_forms_are_never_written_or_printed("buildkit");
}

#[test]
fn docker_every_form_of_a_secret_is_redacted_from_classic_output() {
    secret_forms_are_never_written_or_printed("classic");
}

#[test]
fn docker_url_credentials_are_never_recorded_or_printed() {
    let Some(_daemon) = docker_daemon() else {
        return;
    };
    let local =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".to_string());
    // A loopback port nothing listens on: the host fails fast, after the run has recorded it.
    // A build argument holding a URL with credentials is kept secret, so that meta.json does
    // not record it with the build arguments.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tree = write_tree(&[(
        "url-creds/single.Dockerfile",
        "FROM busybox:latest\nRUN echo ok > /ok\n",
    )]);
    let _cleanup = RemoveOnDrop(vec!["stagebench/url-creds".to_string()]);
    let local_arg = format!("local={local}");
    let remote_arg = format!("--docker-host=remote=tcp://sbuser:sbpass-4f2e9c@127.0.0.1:{port}");
    let (output, out) = run_printing_exports(
        tree.path(),
        "url-creds",
        "cold",
        &[
            "--docker-host",
            &local_arg,
            &remote_arg,
            "--build-arg=PROXY=http://sbuser:sbpass-4f2e9c@127.0.0.1:3128",
            "--on-every-host",
        ],
        &[],
    );
    let printed = stderr(&output);
    assert!(!output.status.success(), "{printed}");
    assert!(
        printed.contains(&format!("tcp://127.0.0.1:{port}")),
        "the host is named, without its credentials: {printed}"
    );
    assert!(
        printed.contains("warning: build argument PROXY holds a URL with credentials, so it is kept secret like a --secret-build-arg"),
        "{printed}"
    );
    let rows = results(&out);
    assert!(
        rows.iter()
            .any(|r| r.host == "local" && r.status == BuildStatus::Ok),
        "{printed}"
    );
    let stripped = format!("--docker-host=remote=tcp://127.0.0.1:{port}");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("meta.json")).unwrap()).unwrap();
    let command_line = &meta["invocations"][0]["command_line"];
    assert!(
        command_line
            .as_array()
            .unwrap()
            .iter()
            .any(|arg| arg.as_str() == Some(stripped.as_str())),
        "{command_line}"
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    let reproduce = report
        .lines()
        .find(|l| l.contains("Reproduce with"))
        .unwrap_or_default();
    assert!(reproduce.contains(&stripped), "{reproduce}");
    assert_never_printed_or_written(&["sbpass-4f2e9c", "sbuser"], &output, &out);
}

#[test]
fn short_secret_values_and_unset_variables_are_refused_in_one_sentence() {
    let tree = write_tree(&[
        (
            "short/scenario.toml",
            "secret_build_args = [\"TOKEN\"]\n[build_args]\nTOKEN = \"abc\"\n",
        ),
        ("short/single.Dockerfile", "FROM busybox:latest\n"),
        ("plain/single.Dockerfile", "FROM busybox:latest\n"),
        ("tiny-secret", "abc\n"),
    ]);
    let short = tree.path().join("short").display().to_string();
    let plain = tree.path().join("plain").display().to_string();
    let manifest = tree.path().join("short/scenario.toml");
    for (args, sentence) in [
        (
            vec![plain.as_str(), "--secret-build-arg", "X=1"],
            "--secret-build-arg X: the value has 1 character, and a secret needs at least 6 (redacting a shorter one would also hide every place the same text appears by chance)".to_string(),
        ),
        (
            vec![plain.as_str(), "--secret-build-arg", "STAGEBENCH_TEST_UNSET_VARIABLE"],
            "--secret-build-arg STAGEBENCH_TEST_UNSET_VARIABLE: the environment variable STAGEBENCH_TEST_UNSET_VARIABLE is not set; set it, or give the value as STAGEBENCH_TEST_UNSET_VARIABLE=VALUE".to_string(),
        ),
        (
            vec![plain.as_str(), "--secret-build-arg", "=a-long-secret"],
            "--secret-build-arg needs a name: KEY=VALUE, or KEY to read the environment variable KEY".to_string(),
        ),
        (
            vec![short.as_str()],
            format!(
                "{}: build argument TOKEN: the value has 3 characters, and a secret needs at least 6 (redacting a shorter one would also hide every place the same text appears by chance)",
                manifest.display()
            ),
        ),
        (
            vec![plain.as_str(), "--secret", "id=tiny,src=tiny-secret"],
            "--secret id=tiny: the value has 3 characters, and a secret needs at least 6 (redacting a shorter one would also hide every place the same text appears by chance)".to_string(),
        ),
    ] {
        let mut full = vec!["run"];
        full.extend(&args);
        let output = stagebench(tree.path(), &full);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert_eq!(
            stderr(&output),
            format!("stagebench: {sentence} (see docs/security.md#secrets)\n"),
            "{args:?}"
        );
        assert!(!tree.path().join("reports").exists(), "nothing was run");
    }
    // A scenario's secret given a short value on the command line is named by its flag.
    let output = stagebench(tree.path(), &["run", &short, "--build-arg", "TOKEN=xyz1"]);
    assert!(
        stderr(&output).starts_with(
            "stagebench: --build-arg TOKEN: the value has 4 characters, and a secret needs at least 6"
        ),
        "{}",
        stderr(&output)
    );
}
