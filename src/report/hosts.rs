//! A scenario run on several hosts (`--on-every-host`), its hosts side by side: each variant
//! and cache mode's median build time on every host, and each image's size as every host
//! reports it. This is how one run compares engines (a Docker daemon against a Podman service)
//! or machines on the same Dockerfiles.

use super::ReportData;
use super::format;
use crate::stats::GroupSummary;

/// One scenario's hosts side by side.
#[derive(Debug, Clone, PartialEq)]
pub struct HostsTable {
    /// The scenario.
    pub scenario: String,
    /// One column per host, in meta.json's order: `name (Engine, builder)`.
    pub columns: Vec<String>,
    /// The hosts' names, in the columns' order; the ratio columns compare each host after the
    /// first with the first.
    pub hosts: Vec<String>,
    /// Rows: (variant, what is measured, one cell per host, the ratio to the first host per
    /// other host).
    pub rows: Vec<HostsRow>,
}

/// One row of a [`HostsTable`].
#[derive(Debug, Clone, PartialEq)]
pub struct HostsRow {
    /// The variant.
    pub variant: String,
    /// `cold build`, `warm build`, ... or `image size`.
    pub measure: String,
    /// Per host, in the table's column order: the value, or empty when not measured there.
    pub cells: Vec<String>,
    /// Per host after the first: how it compares with the first host, or empty.
    pub ratios: Vec<String>,
}

/// How the table's numbers are made, for the paragraph above it.
pub const HOSTS_NOTE: &str = "The same Dockerfiles on each host: the median build time (with the 95% interval of the median, or the range of the runs below 6 runs) and each image's size as that host reports it. The ratio compares medians and has no interval; the hosts differ in more than their engine (each has its own storage, and each engine counts an image's bytes its own way), so it describes this run, not the engines in general.";

/// A table for each scenario measured on two hosts or more.
pub fn hosts_tables(data: &ReportData) -> Vec<HostsTable> {
    let mut scenarios: Vec<&str> = Vec::new();
    for group in &data.analysis.groups {
        if !scenarios.contains(&group.key.scenario.as_str()) {
            scenarios.push(&group.key.scenario);
        }
    }
    scenarios
        .into_iter()
        .filter_map(|scenario| table(data, scenario))
        .collect()
}

fn table(data: &ReportData, scenario: &str) -> Option<HostsTable> {
    let groups: Vec<&GroupSummary> = data
        .analysis
        .groups
        .iter()
        .filter(|g| g.key.scenario == scenario)
        .collect();
    let hosts: Vec<&crate::results::HostEnvironment> = data
        .meta
        .hosts
        .iter()
        .filter(|h| groups.iter().any(|g| g.key.host == h.name))
        .collect();
    if hosts.len() < 2 {
        return None;
    }
    let columns = hosts
        .iter()
        .map(|h| {
            let builder = groups
                .iter()
                .find(|g| g.key.host == h.name)
                .map(|g| g.key.builder.to_string())
                .unwrap_or_default();
            format!("{} ({}, {builder})", h.name, h.daemon.engine.product_name())
        })
        .collect();
    let mut variants: Vec<&str> = Vec::new();
    for group in &groups {
        if !variants.contains(&group.key.variant.as_str()) {
            variants.push(&group.key.variant);
        }
    }
    let mut rows = Vec::new();
    for variant in variants {
        let of_variant: Vec<&&GroupSummary> =
            groups.iter().filter(|g| g.key.variant == variant).collect();
        let mut modes = Vec::new();
        for group in &of_variant {
            if !modes.contains(&group.key.cache) {
                modes.push(group.key.cache);
            }
        }
        modes.sort_by_key(|m| m.index());
        for mode in modes {
            // Each host's times of this variant and mode, in the columns' order.
            let samples: Vec<Option<&crate::stats::SampleSummary>> = hosts
                .iter()
                .map(|h| {
                    of_variant
                        .iter()
                        .find(|g| g.key.host == h.name && g.key.cache == mode)
                        .and_then(|g| g.build_seconds.as_ref())
                })
                .collect();
            let medians: Vec<Option<f64>> = samples.iter().map(|s| s.map(|s| s.median)).collect();
            let cells = samples
                .iter()
                .map(|sample| {
                    sample
                        .map(|s| {
                            let (median, spread) = format::median_with_interval(s);
                            format!("{median} ({spread})")
                        })
                        .unwrap_or_default()
                })
                .collect();
            let ratios = medians[1..]
                .iter()
                .map(|other| match (medians[0], other) {
                    (Some(first), Some(other)) if first > 0.0 && *other > 0.0 => {
                        format::speedup_phrase(first / other)
                    }
                    _ => String::new(),
                })
                .collect();
            rows.push(HostsRow {
                variant: variant.to_string(),
                measure: format!("{mode} build"),
                cells,
                ratios,
            });
        }
        let sizes: Vec<Option<u64>> = hosts
            .iter()
            .map(|h| {
                of_variant
                    .iter()
                    .filter(|g| g.key.host == h.name)
                    .find_map(|g| g.image_bytes)
            })
            .collect();
        rows.push(HostsRow {
            variant: variant.to_string(),
            measure: "image size".to_string(),
            cells: sizes
                .iter()
                .map(|s| s.map(format::bytes).unwrap_or_default())
                .collect(),
            ratios: sizes[1..]
                .iter()
                .map(|other| match (sizes[0], other) {
                    (Some(first), Some(other)) if first > 0 && *other > 0 => {
                        format::size_phrase(first as f64 / *other as f64)
                    }
                    _ => String::new(),
                })
                .collect(),
        });
    }
    Some(HostsTable {
        scenario: scenario.to_string(),
        columns,
        hosts: hosts.iter().map(|h| h.name.clone()).collect(),
        rows,
    })
}
