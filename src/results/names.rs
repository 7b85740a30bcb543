//! Every name a results folder holds, checked as a name typed into scenario.toml is
//! ([`NameKind`]) before anything is done with the folder: results folders arrive as CI artifacts
//! and from forks, and reports, charts and histories name files after these names.
//!
//! Which fields: the `scenario`, `variant` and `host` columns of `results.csv`, `steps.csv`,
//! `layers.csv` and `waste.csv` (each row as it is read, by [`CsvRow::refusal`], so that the
//! refusal names the file and line as every other refused row does), and in `meta.json` every
//! scenario's `name`, `host`, `baseline` and variant names, every host's `name` (measured and as
//! given), and the `--variant` names of the settings. `builder` and `cache` are read as
//! enumerations, which refuse any other value; no other field becomes part of a path.
//!
//! [`CsvRow::refusal`]: super::csv::CsvRow::refusal

use super::meta::RunMeta;
use super::store::StoreError;
use crate::names::NameKind;

/// Why a row naming `scenario`, `variant` and `host` cannot be read, when one of them is not a
/// name stagebench writes: the end of a sentence that starts with the file and line. `host` is
/// `None` for a row of `results.csv` without one (schema 1), which takes meta.json's host.
pub(super) fn row_refusal(scenario: &str, variant: &str, host: Option<&str>) -> Option<String> {
    [
        (NameKind::Scenario, Some(scenario)),
        (NameKind::Variant, Some(variant)),
        (NameKind::Host, host),
    ]
    .into_iter()
    .find_map(|(kind, name)| kind.check(name?).err())
    .map(|rule| not_read(&rule))
}

/// The names of `meta`; `origin` names the file in messages.
pub(super) fn check_meta(meta: &RunMeta, origin: &str) -> Result<(), StoreError> {
    let at = |key: String| format!("{origin}, key `{key}`");
    let mut names: Vec<(String, NameKind, &str)> = Vec::new();
    for (i, scenario) in meta.scenarios.iter().enumerate() {
        names.push((
            at(format!("scenarios[{i}].name")),
            NameKind::Scenario,
            &scenario.name,
        ));
        names.push((
            at(format!("scenarios[{i}].host")),
            NameKind::Host,
            &scenario.host,
        ));
        if let Some(baseline) = &scenario.baseline {
            names.push((
                at(format!("scenarios[{i}].baseline")),
                NameKind::Variant,
                baseline,
            ));
        }
        for (j, variant) in scenario.variants.iter().enumerate() {
            names.push((
                at(format!("scenarios[{i}].variants[{j}].name")),
                NameKind::Variant,
                &variant.name,
            ));
        }
    }
    for (i, host) in meta.hosts.iter().enumerate() {
        names.push((at(format!("hosts[{i}].name")), NameKind::Host, &host.name));
    }
    for (i, host) in meta.settings.hosts.iter().enumerate() {
        names.push((
            at(format!("settings.hosts[{i}].name")),
            NameKind::Host,
            &host.name,
        ));
    }
    for (i, variant) in meta.settings.options.variants.iter().enumerate() {
        names.push((
            at(format!("settings.variants[{i}]")),
            NameKind::Variant,
            variant,
        ));
    }
    for (place, kind, name) in names {
        kind.check(name)
            .map_err(|rule| StoreError::Input(format!("{place}: {}", not_read(&rule))))?;
    }
    Ok(())
}

/// A name's rule broken, and what follows from it.
fn not_read(rule: &str) -> String {
    format!("{rule}, so it is not used in a file name and the folder is not read")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::results::{
        CsvRow, LAYERS_FILE, META_FILE, RESULTS_FILE, ResultSet, STEPS_FILE, WASTE_FILE,
    };

    /// A copy of the go-service fixture with `edit` applied to the text of `file`.
    fn edited(file: &str, edit: impl Fn(&str) -> String) -> tempfile::TempDir {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/go-service");
        let dir = tempfile::tempdir().unwrap();
        for name in [META_FILE, RESULTS_FILE] {
            let text = std::fs::read_to_string(fixture.join(name)).unwrap();
            let text = if name == file { edit(&text) } else { text };
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn every_name_field_is_checked_with_the_file_and_line_or_key_named() {
        /// The file edited, how, and what the refusal says.
        type Case = (&'static str, Box<dyn Fn(&str) -> String>, &'static str);
        let cases: Vec<Case> = vec![
            (
                META_FILE,
                Box::new(|t| t.replacen("\"name\": \"go-service\"", "\"name\": \"../x\"", 1)),
                "meta.json, key `scenarios[0].name`: scenario name `../x` must start",
            ),
            (
                META_FILE,
                Box::new(|t| t.replacen("\"baseline\": \"single\"", "\"baseline\": \"/etc\"", 1)),
                "meta.json, key `scenarios[0].baseline`: variant name `/etc`",
            ),
            (
                META_FILE,
                Box::new(|t| t.replacen("\"name\": \"multi\"", "\"name\": \"..\"", 1)),
                "meta.json, key `scenarios[0].variants[1].name`: variant name `..`",
            ),
            (
                RESULTS_FILE,
                Box::new(|t| t.replacen("\ngo-service,multi,", "\ngo-service,a/b,", 1)),
                "results.csv:3: variant name `a/b`",
            ),
            (
                RESULTS_FILE,
                Box::new(|t| {
                    t.replacen("error\n", "error,host\n", 1)
                        .replace(",\n", ",,local\n")
                        .replacen(",,local\n", ",,..\n", 1)
                }),
                "results.csv:2: host name `..`",
            ),
        ];
        for (file, edit, says) in cases {
            let dir = edited(file, edit);
            let error = ResultSet::load(dir.path()).unwrap_err().to_string();
            assert!(error.contains(says), "{error}\nwanted: {says}");
            assert!(error.ends_with("the folder is not read"), "{error}");
            assert_eq!(error.lines().count(), 1, "{error}");
        }
    }

    #[test]
    fn a_row_without_a_host_needs_a_host_in_meta_json() {
        let dir = edited(META_FILE, str::to_string);
        let mut meta = crate::results::RunMeta::read(dir.path()).unwrap();
        meta.hosts.clear();
        meta.write(dir.path()).unwrap();
        let error = ResultSet::load(dir.path()).unwrap_err().to_string();
        assert!(
            error.ends_with(
                "results.csv: a row names no host and meta.json lists none, so the folder is not read"
            ),
            "{error}"
        );
    }

    #[test]
    fn detail_tables_and_summaries_are_checked_too() {
        let header = |file: &str| match file {
            STEPS_FILE => crate::results::StepRecord::HEADER,
            LAYERS_FILE => crate::results::LayerRecord::HEADER,
            _ => crate::results::WasteRecord::HEADER,
        };
        for file in [STEPS_FILE, LAYERS_FILE, WASTE_FILE] {
            let dir = edited(META_FILE, str::to_string);
            // A row of no build is left out, but its names are still checked.
            let columns: Vec<&str> = header(file)
                .iter()
                .map(|column| match *column {
                    "scenario" => "../../escape",
                    "variant" => "single",
                    "host" => "local",
                    "origin" => "base",
                    "kind" => "deleted",
                    "cache" => "cold",
                    "builder" => "buildkit",
                    "cached" | "warmup" => "false",
                    "stage" | "instruction" | "image_id" | "diff_id" | "base_image"
                    | "created_by" | "path" | "removed_by" | "run_id" => "x",
                    _ => "1",
                })
                .collect();
            std::fs::write(
                dir.path().join(file),
                format!("{}\n{}\n", header(file).join(","), columns.join(",")),
            )
            .unwrap();
            let error = ResultSet::load(dir.path()).unwrap_err().to_string();
            assert!(
                error.contains(&format!("{file}:2: scenario name `../../escape`")),
                "{file}: {error}"
            );
        }
        let dir = edited(META_FILE, str::to_string);
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(META_FILE)).unwrap())
                .unwrap();
        let summary = dir.path().join("summary.json");
        let document = serde_json::json!({
            "schema": "stagebench-summary",
            "schema_version": 3,
            "meta": meta,
            "runs": [{
                "scenario": "go-service", "variant": "single/../..", "builder": "buildkit",
                "cache": "cold", "run": 1, "warmup": false, "status": "ok",
                "build_seconds": 1.0, "image_id": "", "image_bytes": null, "layers": null,
                "cached_steps": 0, "total_steps": 1, "started_at": "", "error": ""
            }]
        });
        std::fs::write(&summary, document.to_string()).unwrap();
        let error = ResultSet::load_folder_or_summary(&summary)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("summary.json (runs[0]): variant name `single/../..`"),
            "{error}"
        );
    }
}
