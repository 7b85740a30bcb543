//! Where a run's secret values come from (`--secret-build-arg`, the environment, scenario.toml,
//! `--secret`), the checks they pass before the first build, and what the run says about
//! them.

use std::collections::BTreeSet;

use crate::scenario::{BuildArgs, MANIFEST_FILE, Scenario};

use super::{too_short, too_short_sentence, without_url_credentials};

/// A secret value as the run was given it.
#[derive(Clone, Copy)]
pub struct GivenSecret<'a> {
    /// The build argument it is the value of; `None` for a BuildKit secret.
    pub build_arg: Option<&'a str>,
    /// The value.
    pub value: &'a [u8],
}

/// The values a scenario's scenario.toml gives the secret build arguments `names`, each with
/// where it is given.
pub fn scenario_secret_values<'s>(
    scenario: &'s Scenario,
    names: &[String],
) -> Vec<(String, GivenSecret<'s>)> {
    let manifest = scenario.dir.join(MANIFEST_FILE);
    let mut places: Vec<(String, &BuildArgs)> = vec![(String::new(), &scenario.build_args)];
    places.extend(
        scenario
            .variants
            .iter()
            .map(|v| (format!(" of variant {}", v.name), &v.build_args)),
    );
    places.extend(
        scenario
            .prebuilds
            .iter()
            .map(|p| (format!(" of prebuild {}", p.tag), &p.build_args)),
    );
    places.extend(
        scenario
            .profiles
            .iter()
            .map(|(name, args)| (format!(" of profile {name}"), args)),
    );
    places
        .into_iter()
        .flat_map(|(place, args)| {
            let manifest = &manifest;
            args.iter()
                .filter(|(key, _)| names.contains(key))
                .map(move |(key, value)| {
                    (
                        format!("{}: build argument {key}{place}", manifest.display()),
                        GivenSecret {
                            build_arg: Some(key),
                            value: value.as_bytes(),
                        },
                    )
                })
        })
        .collect()
}

/// `--secret-build-arg` flags with their values: `KEY=VALUE`, or `KEY`, whose value is the
/// environment variable KEY, as `docker build --build-arg KEY` reads it.
pub fn secret_build_args_from_flags(
    flags: &[(String, Option<String>)],
) -> Result<BuildArgs, String> {
    flags
        .iter()
        .map(|(key, value)| {
            if key.is_empty() {
                return Err(
                    "--secret-build-arg needs a name: KEY=VALUE, or KEY to read the environment variable KEY"
                        .to_string(),
                );
            }
            let value = match value {
                Some(value) => value.clone(),
                None => std::env::var_os(key)
                    .ok_or_else(|| {
                        format!(
                            "--secret-build-arg {key}: the environment variable {key} is not set; set it, or give the value as {key}=VALUE"
                        )
                    })?
                    .into_string()
                    .map_err(|_| {
                        format!(
                            "--secret-build-arg {key}: the environment variable {key} is not valid UTF-8"
                        )
                    })?,
            };
            Ok((key.clone(), value))
        })
        .collect()
}

/// A warning when the images a run keeps (all with `keep_images`, none with `rm`, else each
/// variant's final image and each prebuild) will hold the values of the secret build
/// arguments `names` in their history: every `RUN` after `ARG NAME` records `NAME=value`
/// there, where `docker history --no-trunc` (or anyone the image is pushed to) reads it.
pub fn kept_image_warning(keep_images: bool, rm: bool, names: &[&str]) -> Option<String> {
    if rm {
        return None;
    }
    let kept = if keep_images {
        "every image it builds (--keep-images)"
    } else {
        "each variant's final image and each prebuild"
    };
    let (arguments, name) = match names {
        [] => return None,
        [one] => (format!("secret build argument {one}"), *one),
        many => (
            format!("secret build arguments {}", many.join(", ")),
            "NAME",
        ),
    };
    Some(format!(
        "this run keeps {kept}, and an image's history records the value of {arguments} for every RUN step after `ARG {name}`, where `docker history --no-trunc` shows it; pass --rm to remove the images when the run ends, or give the value as a BuildKit secret (--secret id={name},env={name}, read with RUN --mount=type=secret,id={name}), which no image keeps"
    ))
}

/// The names of the build arguments in `sets` whose value holds a URL with credentials.
pub fn build_args_with_url_credentials(sets: &[&BuildArgs]) -> BTreeSet<String> {
    sets.iter()
        .flat_map(|args| args.iter())
        .filter(|(_, value)| without_url_credentials(value) != **value)
        .map(|(name, _)| name.clone())
        .collect()
}

/// Refuses the first of `values` (each with where it is given) that is too short to be a
/// secret, in one sentence naming where it is given.
pub fn refuse_short_values(values: &[(String, GivenSecret<'_>)]) -> Result<(), String> {
    match values
        .iter()
        .find_map(|(origin, given)| Some((origin, too_short(given.value)?)))
    {
        Some((origin, chars)) => Err(too_short_sentence(origin, chars)),
        None => Ok(()),
    }
}

/// The secret build arguments with a value among `values`: those an image's history can hold.
pub fn build_args_with_values<'a>(values: &[(String, GivenSecret<'a>)]) -> Vec<&'a str> {
    let mut names: Vec<&str> = values
        .iter()
        .filter(|(_, given)| !given.value.is_empty())
        .filter_map(|(_, given)| given.build_arg)
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_images_are_warned_about_unless_removed() {
        assert_eq!(kept_image_warning(false, false, &[]), None);
        assert_eq!(
            kept_image_warning(false, true, &["T"]),
            None,
            "--rm keeps nothing"
        );
        let default = kept_image_warning(false, false, &["TOKEN"]).unwrap();
        assert_eq!(
            default,
            "this run keeps each variant's final image and each prebuild, and an image's history records the value of secret build argument TOKEN for every RUN step after `ARG TOKEN`, where `docker history --no-trunc` shows it; pass --rm to remove the images when the run ends, or give the value as a BuildKit secret (--secret id=TOKEN,env=TOKEN, read with RUN --mount=type=secret,id=TOKEN), which no image keeps"
        );
        let all = kept_image_warning(true, false, &["A", "B"]).unwrap();
        assert!(
            all.starts_with("this run keeps every image it builds (--keep-images), and an image's history records the value of secret build arguments A, B for every RUN step after `ARG NAME`"),
            "{all}"
        );
    }
}
