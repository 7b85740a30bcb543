//! Every name a results folder holds, checked as a name typed into scenario.toml is
//! ([`NameKind`]) before anything is done with the folder: results folders arrive as CI artifacts
//! and from forks, and reports, charts and histories name files after these names.
//!
//! Which fields: the `scenario`, `variant` and `host` columns of `results.csv`, `steps.csv`,
//! `layers.csv` and `waste.csv`, and in `meta.json` every scenario's `name`, `host`, `baseline`
//! and variant names, every host's `name` (measured and as given), and the `--variant` names of
//! the settings. `builder` and `cache` are read as enumerations, which refuse any other value;
//! no other field becomes part of a path.

use super::layers::{LayerRecord, WasteRecord};
use super::meta::RunMeta;
use super::record::BuildRecord;
use super::steps::StepRecord;
use super::store::StoreError;
use crate::names::NameKind;

/// The rows of one table, each as its (scenario, variant, host).
type NamedRows<'a> = Vec<(&'a str, &'a str, &'a str)>;

/// Refuses the first row of `rows` (the rows of the table `label` names) whose scenario,
/// variant or host is not a name stagebench writes, with one sentence naming the table, the row
/// (1-based, the header not counted), the column and the name.
pub(super) fn check_rows(label: &str, rows: &NamedRows<'_>) -> Result<(), StoreError> {
    for (index, (scenario, variant, host)) in rows.iter().enumerate() {
        for (kind, column, value) in [
            (NameKind::Scenario, "scenario", scenario),
            (NameKind::Variant, "variant", variant),
            (NameKind::Host, "host", host),
        ] {
            kind.check(value).map_err(|rule| {
                refusal(
                    &format!("{label}, row {}, column `{column}`", index + 1),
                    &rule,
                )
            })?;
        }
    }
    Ok(())
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
        kind.check(name).map_err(|rule| refusal(&place, &rule))?;
    }
    Ok(())
}

/// A row that names a scenario, a variant and a host.
pub(super) trait Named {
    /// Its (scenario, variant, host).
    fn names(&self) -> (&str, &str, &str);
}

/// Implements [`Named`] for a row with `scenario`, `variant` and `host` fields.
macro_rules! named {
    ($($row:ty),*) => {$(
        impl Named for $row {
            fn names(&self) -> (&str, &str, &str) {
                (self.scenario.as_str(), self.variant.as_str(), self.host.as_str())
            }
        }
    )*};
}
named!(BuildRecord, StepRecord, LayerRecord, WasteRecord);

/// The names of each of `rows`.
pub(super) fn of<T: Named>(rows: &[T]) -> NamedRows<'_> {
    rows.iter().map(Named::names).collect()
}

fn refusal(place: &str, rule: &str) -> StoreError {
    StoreError::Input(format!(
        "{place}: {rule}, so it is not used in a file name and the folder is not read"
    ))
}
