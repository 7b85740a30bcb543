//! BuildKit secrets (`--secret id=NAME,src=FILE`): where each comes from, as meta.json records
//! it, and its value, read once when the run starts.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// BuildKit's own limit on a secret's size (`MaxSecretSize` in its secrets provider).
pub const MAX_BUILD_SECRET_BYTES: u64 = 500 * 1024;

/// A BuildKit secret as `--secret` gives it, and as meta.json records it: its id and where its
/// value comes from, never the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildSecret {
    /// The `id` a `RUN --mount=type=secret,id=...` names.
    pub id: String,
    /// Where the value is read from, when the run starts.
    #[serde(flatten)]
    pub source: SecretSource,
}

/// Where a BuildKit secret's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretSource {
    /// A file (an absolute path once parsed).
    Src(PathBuf),
    /// An environment variable of stagebench's process.
    Env(String),
}

impl BuildSecret {
    /// Parses a `--secret` value the way `docker build --secret` reads it:
    /// `id=NAME,src=FILE` (`source=` too), `id=NAME,env=VAR`, or `id=NAME,type=env` for the
    /// variable NAME. A relative `src` is taken from `cwd`.
    pub fn parse(text: &str, cwd: &Path) -> Result<BuildSecret, String> {
        let mut id = None;
        let mut src = None;
        let mut env = None;
        let mut kind = None;
        for field in text.split(',') {
            let (key, value) = field
                .split_once('=')
                .ok_or_else(|| format!("`{field}` in `{text}` is not KEY=VALUE"))?;
            if value.is_empty() {
                return Err(format!("`{key}` in `{text}` has no value"));
            }
            match key.trim() {
                "id" => id = Some(value.to_string()),
                "src" | "source" => src = Some(value.to_string()),
                "env" => env = Some(value.to_string()),
                "type" if value == "file" || value == "env" => kind = Some(value.to_string()),
                "type" => {
                    return Err(format!("`type={value}` in `{text}` is not `file` or `env`"));
                }
                other => {
                    return Err(format!(
                        "`{other}` in `{text}` is not one of id, src, source, env, type"
                    ));
                }
            }
        }
        let id = id.ok_or_else(|| format!("`{text}` names no id (id=NAME,src=FILE)"))?;
        let source = match (src, env, kind.as_deref()) {
            (Some(_), Some(_), _) => {
                return Err(format!("`{text}` gives both src and env; give one"));
            }
            (Some(path), None, None | Some("file")) => SecretSource::Src(cwd.join(path)),
            (None, Some(var), None | Some("env")) => SecretSource::Env(var),
            (None, None, Some("env")) => SecretSource::Env(id.clone()),
            (None, None, _) => {
                return Err(format!(
                    "`{text}` says where the secret comes from neither with src=FILE nor env=VAR"
                ));
            }
            _ => return Err(format!("`{text}`: its type does not match src or env")),
        };
        Ok(BuildSecret { id, source })
    }

    /// The secret's value, read now. Fails with a sentence naming the flag and the file or
    /// variable.
    pub fn load(&self) -> Result<Vec<u8>, String> {
        let flag = format!("--secret id={}", self.id);
        match &self.source {
            SecretSource::Env(var) => std::env::var_os(var)
                .map(|value| value.into_encoded_bytes())
                .ok_or_else(|| format!("{flag}: the environment variable {var} is not set")),
            SecretSource::Src(path) => {
                let cannot =
                    |e: &dyn fmt::Display| format!("{flag}: cannot read {}: {e}", path.display());
                let metadata = std::fs::metadata(path).map_err(|e| cannot(&e))?;
                if !metadata.is_file() {
                    return Err(format!("{flag}: {} is not a regular file", path.display()));
                }
                if metadata.len() > MAX_BUILD_SECRET_BYTES {
                    return Err(format!(
                        "{flag}: {} holds {} bytes; BuildKit takes secrets of at most {MAX_BUILD_SECRET_BYTES} bytes",
                        path.display(),
                        metadata.len()
                    ));
                }
                let mut data = Vec::new();
                std::fs::File::open(path)
                    .and_then(|file| file.take(MAX_BUILD_SECRET_BYTES + 1).read_to_end(&mut data))
                    .map_err(|e| cannot(&e))?;
                if data.len() as u64 > MAX_BUILD_SECRET_BYTES {
                    return Err(format!(
                        "{flag}: {} grew past {MAX_BUILD_SECRET_BYTES} bytes while it was read",
                        path.display()
                    ));
                }
                Ok(data)
            }
        }
    }
}

/// The values of a run's BuildKit secrets, by id, as the BuildKit session serves them.
#[derive(Clone, Default)]
pub struct BuildSecretValues {
    values: BTreeMap<String, Vec<u8>>,
}

// Written by hand so that no `{:?}` can print a value.
impl fmt::Debug for BuildSecretValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.values.keys()).finish()
    }
}

impl BuildSecretValues {
    /// Reads every secret now; fails on the first that cannot be read, or on an id given twice.
    pub fn load(secrets: &[BuildSecret]) -> Result<BuildSecretValues, String> {
        let mut values = BTreeMap::new();
        for secret in secrets {
            if values.contains_key(&secret.id) {
                return Err(format!("--secret id={} is given twice", secret.id));
            }
            values.insert(secret.id.clone(), secret.load()?);
        }
        Ok(BuildSecretValues { values })
    }

    /// The value of the secret `id`.
    pub fn get(&self, id: &str) -> Option<&[u8]> {
        self.values.get(id).map(Vec::as_slice)
    }

    /// Every secret's id and value.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.values
            .iter()
            .map(|(id, value)| (id.as_str(), value.as_slice()))
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_flags_parse_as_docker_build_reads_them() {
        let cwd = Path::new("/work");
        let file = BuildSecret::parse("id=npmrc,src=conf/.npmrc", cwd).unwrap();
        assert_eq!(file.id, "npmrc");
        assert_eq!(
            file.source,
            SecretSource::Src(PathBuf::from("/work/conf/.npmrc"))
        );
        let source = BuildSecret::parse("id=a,source=/abs,type=file", cwd).unwrap();
        assert_eq!(source.source, SecretSource::Src(PathBuf::from("/abs")));
        let env = BuildSecret::parse("id=token,env=CI_TOKEN", cwd).unwrap();
        assert_eq!(env.source, SecretSource::Env("CI_TOKEN".to_string()));
        let named = BuildSecret::parse("type=env,id=TOKEN", cwd).unwrap();
        assert_eq!(named.source, SecretSource::Env("TOKEN".to_string()));
        for (bad, says) in [
            ("src=x", "names no id"),
            ("id=a", "neither with src=FILE nor env=VAR"),
            ("id=a,src=x,env=Y", "both src and env"),
            ("id=a,type=ssh", "`type=ssh`"),
            ("id=a,mode=0400,src=x", "`mode` in"),
            ("id=a,src", "`src` in `id=a,src` is not KEY=VALUE"),
            ("id=a,type=env,src=x", "does not match"),
        ] {
            let error = BuildSecret::parse(bad, cwd).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
        let recorded = serde_json::to_string(&file).unwrap();
        assert_eq!(recorded, r#"{"id":"npmrc","src":"/work/conf/.npmrc"}"#);
        assert_eq!(
            serde_json::from_str::<BuildSecret>(&recorded).unwrap(),
            file
        );
    }

    #[test]
    fn secret_files_are_read_within_buildkit_s_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "first-line-value\nok\nsecond-line-value\n").unwrap();
        let secret =
            BuildSecret::parse(&format!("id=t,src={}", path.display()), dir.path()).unwrap();
        let values = BuildSecretValues::load(std::slice::from_ref(&secret)).unwrap();
        assert_eq!(values.get("t").unwrap().len(), 38);
        assert!(!format!("{values:?}").contains("line-value"));
        let twice = BuildSecretValues::load(&[secret.clone(), secret]).unwrap_err();
        assert_eq!(twice, "--secret id=t is given twice");
        std::fs::write(&path, vec![b'x'; MAX_BUILD_SECRET_BYTES as usize + 1]).unwrap();
        let big = BuildSecret::parse(&format!("id=t,src={}", path.display()), dir.path()).unwrap();
        assert!(big.load().unwrap_err().contains("at most 512000 bytes"));
        let missing = BuildSecret::parse("id=m,src=nope", dir.path()).unwrap();
        let error = missing.load().unwrap_err();
        assert!(error.starts_with("--secret id=m: cannot read "), "{error}");
        let fifo = BuildSecret::parse("id=d,src=/dev/null", dir.path()).unwrap();
        assert_eq!(
            fifo.load().unwrap_err(),
            "--secret id=d: /dev/null is not a regular file"
        );
        let unset = BuildSecret::parse("id=u,env=STAGEBENCH_UNSET_SECRET_VAR", dir.path()).unwrap();
        assert_eq!(
            unset.load().unwrap_err(),
            "--secret id=u: the environment variable STAGEBENCH_UNSET_SECRET_VAR is not set"
        );
    }
}
