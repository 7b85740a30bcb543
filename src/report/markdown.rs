//! `report.md`: GitHub-flavoured Markdown for a pull request or a CI job summary.

use std::fmt::Write as _;

use super::format;
use super::headline::{HeadlineRow, headline_tables};
use super::{Exporter, ReportData, ReportError};
use crate::cache_mode::CacheMode;
use crate::export_targets::MarkdownLinks;

/// The Markdown report, report.md, whose links are relative to its results folder.
pub struct Markdown;

impl Exporter for Markdown {
    fn file_name(&self) -> &'static str {
        "report.md"
    }

    fn render(&self, data: &ReportData) -> Result<Vec<u8>, ReportError> {
        Ok(render(data, &MarkdownLinks::Relative).into_bytes())
    }
}

/// The Markdown report as `--export-markdown` writes it: its links to the folder's files
/// pointing where `--markdown-links` says.
pub struct MarkdownExport<'a> {
    /// Where the links point.
    pub links: &'a MarkdownLinks,
}

impl Exporter for MarkdownExport<'_> {
    fn file_name(&self) -> &'static str {
        "report.md"
    }

    fn render(&self, data: &ReportData) -> Result<Vec<u8>, ReportError> {
        Ok(render(data, self.links).into_bytes())
    }
}

/// The report, with links to the folder's files made by `links`.
fn render(data: &ReportData, links: &MarkdownLinks) -> String {
    let mut out = String::new();
    let meta = &data.meta;
    let _ = writeln!(out, "# stagebench report\n");
    for line in environment_lines(data) {
        let _ = writeln!(out, "{line}\n");
    }
    let _ = writeln!(out, "{}\n", reproduce_line(data, links));
    let not_run: Vec<String> = meta
        .scenarios
        .iter()
        .filter_map(|s| {
            s.not_run
                .as_ref()
                .map(|why| format!("- **{}** was not run on {}: {why}", s.name, s.host))
        })
        .collect();
    if !not_run.is_empty() {
        let _ = writeln!(out, "{}\n", not_run.join("\n"));
    }
    for table in headline_tables(data) {
        let _ = writeln!(out, "## {}\n", table.title);
        if let Some(description) = &table.description {
            let _ = writeln!(out, "{description}\n");
        }
        let _ = writeln!(out, "{}\n", modes_paragraph(&table, links));
        markdown_table(&mut out, &table.columns, &table.rows);
        if !table.ci_rows.is_empty() {
            let _ = writeln!(out, "\n{}\n", ci_modes_paragraph(&table.ci_modes));
            markdown_table(&mut out, &table.ci_columns, &table.ci_rows);
        }
        if !table.verdicts.is_empty() {
            let _ = writeln!(out);
            for verdict in &table.verdicts {
                let _ = writeln!(out, "- {verdict}");
            }
        }
        if !table.why.is_empty() {
            let _ = writeln!(out, "\n**Why**\n");
            for sentence in &table.why {
                let _ = writeln!(out, "- {sentence}");
            }
        }
        if let Some(cost) = &table.cost {
            let _ = writeln!(out, "\nCost of the run: {cost}.");
        }
        let _ = writeln!(out);
        let mut charts = vec![
            ("build-time", "build time by variant and cache mode"),
            ("image-size", "image size by variant"),
            ("time-vs-size", "build time against image size"),
        ];
        if table.has_timeline {
            charts.push(("timeline", "stage timeline of the median runs"));
        }
        if table.has_layers {
            charts.push(("layers", "image layers by origin, with wasted bytes"));
        }
        if table.has_ci_chart {
            charts.push((
                "ci",
                "CI build time with the previous job's export, and steps from cache by stage",
            ));
        }
        let mut unlinked = Vec::new();
        for (chart, alt) in charts {
            let file = format!("{}-{chart}.png", table.file_stem);
            match links.file(&file) {
                Some(link) => {
                    let _ = writeln!(out, "![{}: {alt}]({link})", table.title);
                }
                None => unlinked.push(format!("`{file}` ({alt})")),
            }
        }
        if !unlinked.is_empty() {
            let _ = writeln!(
                out,
                "Charts in the results folder: {}.",
                unlinked.join(", ")
            );
        }
        let _ = writeln!(out);
    }
    for table in super::hosts::hosts_tables(data) {
        let _ = writeln!(out, "## {} on every host\n", table.scenario);
        let _ = writeln!(out, "{}\n", super::hosts::HOSTS_NOTE);
        let others: Vec<String> = table.hosts[1..]
            .iter()
            .map(|host| format!("{host} vs {}", table.hosts[0]))
            .collect();
        let _ = writeln!(
            out,
            "| variant | measure | {} | {} |",
            table.columns.join(" | "),
            others.join(" | ")
        );
        let _ = writeln!(
            out,
            "| --- | --- |{}",
            " ---: |".repeat(table.columns.len() + others.len())
        );
        for row in &table.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                row.variant,
                row.measure,
                row.cells.join(" | "),
                row.ratios.join(" | ")
            );
        }
        let _ = writeln!(out);
    }
    if let Some(section) = super::stopping::markdown(data) {
        let _ = writeln!(out, "{section}");
    }
    let _ = writeln!(out, "{}", statistics_note(data));
    out
}

/// A table of variants: each cell its value in bold, what the previous job paid beside it,
/// then its details and comparison on lines of their own.
fn markdown_table(out: &mut String, columns: &[String], rows: &[HeadlineRow]) {
    let _ = writeln!(out, "| variant | {} |", columns.join(" | "));
    let _ = writeln!(out, "| --- |{}", " ---: |".repeat(columns.len()));
    for row in rows {
        let cells: Vec<String> = row
            .cells
            .iter()
            .map(|cell| {
                let mut text = format!("**{}**", cell.value);
                if !cell.previous_job.is_empty() {
                    let _ = write!(text, " ({})", cell.previous_job.join(", "));
                }
                for detail in &cell.details {
                    let _ = write!(text, "<br>{detail}");
                }
                // Findings in bold, noise in italics: a skimming reader sees which is which.
                match &cell.comparison {
                    Some((phrase, true)) => {
                        let _ = write!(text, "<br>**{phrase}**");
                    }
                    Some((phrase, false)) => {
                        let _ = write!(text, "<br>_{phrase}_");
                    }
                    None => {}
                }
                text
            })
            .collect();
        let _ = writeln!(out, "| {} | {} |", row.label, cells.join(" | "));
    }
}

/// What each CI mode of the section measured, a line each in the words of [`CacheMode`], and
/// what the CI table's export and cache figures are.
fn ci_modes_paragraph(modes: &[CacheMode]) -> String {
    let mut paragraph = format!(
        "**CI modes**: {}. \"+N s export\" is what the previous job paid to export the cache the build imports (stage builds and pushes), \"cache\" the compressed bytes of that cache in the registry.\n",
        CacheMode::CI_MACHINE_MEANING
    );
    for mode in modes {
        let _ = write!(paragraph, "\n- **{mode}**: {}", mode.meaning());
    }
    paragraph
}

/// How to make the numbers again, and where the raw data is.
fn reproduce_line(data: &ReportData, links: &MarkdownLinks) -> String {
    let mut commands: Vec<String> = Vec::new();
    for invocation in &data.meta.invocations {
        let mut words = invocation.command_line.clone();
        if words.iter().any(|w| w == "--resume") {
            continue;
        }
        // The program as it was called may be a renamed copy or a path of the machine that ran
        // it; a reader reproduces the run with stagebench.
        if let Some(program) = words.first_mut() {
            *program = "stagebench".to_string();
        }
        // The shuffled order is part of the run: the seed repeats it.
        if words.iter().any(|w| w == "run") && !words.iter().any(|w| w == "--seed") {
            words.push("--seed".to_string());
            words.push(data.meta.settings.options.seed.to_string());
        }
        let command = format!(
            "`{}`",
            shlex::try_join(words.iter().map(String::as_str)).unwrap_or_else(|_| words.join(" "))
        );
        if !commands.contains(&command) {
            commands.push(command);
        }
    }
    let how = match commands.as_slice() {
        [] => "Made by stagebench.".to_string(),
        [one] => format!("Reproduce with {one} (the seed repeats the shuffled build order)."),
        many => format!(
            "Made by {} runs: {} (the seeds repeat the shuffled build orders).",
            many.len(),
            many.join(", ")
        ),
    };
    let file = |name: &str| match links.file(name) {
        Some(link) => format!("[{name}]({link})"),
        None => format!("`{name}`"),
    };
    format!(
        "{how} Raw data: {} (one row per build) and {}.",
        file("results.csv"),
        file("meta.json")
    )
}

/// What each cache mode means for this scenario, and its Dockerfiles.
fn modes_paragraph(table: &super::headline::HeadlineTable, links: &MarkdownLinks) -> String {
    let files = table
        .touched_files
        .iter()
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let edited = if table.touched_files.is_empty() {
        "not measured: the scenario lists no file to edit".to_string()
    } else {
        match table.edit {
            crate::touch::EditStyle::Comment => {
                format!("a rebuild after a comment line with a fresh token is appended to {files}")
            }
            crate::touch::EditStyle::Token => format!(
                "a rebuild after the string `{}` in {files} is rewritten with a fresh token, so that what ships changes",
                crate::touch::TOKEN_MARKER
            ),
        }
    };
    let dockerfiles: Vec<String> = table
        .dockerfiles
        .iter()
        .map(
            |(variant, path, link)| match link.as_deref().and_then(|l| links.outside(l)) {
                Some(link) => format!("{variant}: [`{path}`]({link})"),
                None => format!("{variant}: `{path}`"),
            },
        )
        .collect();
    let cold = table.builder.capabilities().cold_means;
    let modes: Vec<String> = CacheMode::ALL
        .into_iter()
        .filter_map(|mode| {
            mode.scenario_meaning(cold, &edited)
                .map(|meaning| format!("**{mode}**: {meaning}"))
        })
        .collect();
    format!(
        "{}. Dockerfiles: {}.",
        modes.join("; "),
        dockerfiles.join(", ")
    )
}

/// How the numbers are made, in the words the tables use.
fn statistics_note(data: &ReportData) -> String {
    let options = &data.meta.settings.options;
    if let Some(stopping) = options.stopping {
        return format!(
            "Each cell: the median of its timed runs, whose count it gives ({} to {} as each series stopped, fewer where builds failed or the time budget ran out: see How the runs stopped), then a distribution-free 95% interval of the median where a cell has {} runs or more, else the range of its runs. Image sizes are compared exactly. {}",
            stopping.min_runs,
            stopping.max_runs,
            crate::stats::MIN_RUNS_FOR_INTERVAL,
            crate::stats::method::outcomes_sentence(&format::percent(options.noise_threshold))
        );
    }
    format!(
        "Each cell: the median of the timed runs (n = {} per cell unless a cell says otherwise), then a distribution-free 95% interval of the median where a cell has {} runs or more, else the range of its runs. Image sizes are compared exactly. {}",
        options.runs,
        crate::stats::MIN_RUNS_FOR_INTERVAL,
        format::method_note(
            options.noise_threshold,
            crate::stats::method::Family::Report,
            data.analysis.family_size()
        )
    )
}

/// The environment, one line per Docker host: daemon, machine, builder, runs, version, date.
pub fn environment_lines(data: &ReportData) -> Vec<String> {
    let meta = &data.meta;
    let settings = &meta.settings.options;
    let profile = settings
        .profile
        .as_ref()
        .map(|p| format!(" · profile {p}"))
        .unwrap_or_default();
    let warmup = match settings.warmup {
        0 => String::new(),
        1 => " + 1 warmup".to_string(),
        n => format!(" + {n} warmups"),
    };
    // An auto run's cells stop as their comparisons settle: the range is what a reader can rely on.
    let runs = match &settings.stopping {
        Some(stopping) => format!("{} to {}", stopping.min_runs, stopping.max_runs),
        None => settings.runs.to_string(),
    };
    let several = meta.hosts.len() > 1;
    meta.hosts
        .iter()
        .map(|host| {
            let daemon = &host.daemon;
            let memory_gib = daemon.memory_bytes as f64 / (1u64 << 30) as f64;
            let name = if several {
                format!("**{}**: ", host.name)
            } else {
                String::new()
            };
            let engine = daemon.engine.product_name();
            format!(
                "{name}{engine} {} (API {}, {}, cgroup v{}) on {}, {} CPUs, {memory_gib:.1} GiB · builder {}{profile} · {} runs{warmup} per mode · stagebench {} · {}",
                daemon.version,
                daemon.api_version,
                daemon.storage_driver,
                daemon.cgroup_version,
                daemon.operating_system,
                daemon.cpus,
                daemon.engine.builder(settings.builder),
                runs,
                meta.stagebench_version,
                meta.started_at().get(..10).unwrap_or(meta.started_at()),
            )
        })
        .collect()
}
