//! The headline table printed at the end of a run.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use super::ReportData;
use super::format;
use super::headline::{HeadlineRow, headline_tables};

/// The headline tables as text for a terminal, with the verdicts under each.
pub fn terminal_table(data: &ReportData) -> String {
    let mut out = String::new();
    for headline in headline_tables(data) {
        out.push_str(&table(&headline.title, &headline.columns, &headline.rows));
        out.push('\n');
        if !headline.ci_rows.is_empty() {
            let title = format!("{}: CI", headline.title);
            out.push_str(&table(&title, &headline.ci_columns, &headline.ci_rows));
            out.push('\n');
        }
        for verdict in &headline.verdicts {
            out.push_str("  ");
            out.push_str(verdict);
            out.push('\n');
        }
        if !headline.why.is_empty() {
            out.push_str("why:\n");
            for sentence in &headline.why {
                out.push_str("  ");
                out.push_str(sentence);
                out.push('\n');
            }
        }
        out.push('\n');
    }
    if !data.analysis.comparisons.is_empty() {
        out.push_str(&format::method_note(
            data.meta.settings.options.noise_threshold,
            crate::stats::method::Family::Report,
            data.analysis.family_size(),
        ));
        out.push('\n');
    }
    out
}

/// One table: a row per variant, each cell its value, then what the previous job paid, the
/// details and the comparison, a line each.
fn table(title: &str, columns: &[String], rows: &[HeadlineRow]) -> String {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    let mut header = vec![title.to_string()];
    header.extend(columns.iter().cloned());
    table.set_header(header);
    for row in rows {
        let mut cells = vec![comfy_table::Cell::new(&row.label)];
        for cell in &row.cells {
            let mut text = cell.value.clone();
            for detail in cell
                .previous_job
                .iter()
                .chain(&cell.details)
                .chain(cell.comparison.iter().map(|(p, _)| p))
            {
                text.push('\n');
                text.push_str(detail);
            }
            cells.push(comfy_table::Cell::new(text).set_alignment(CellAlignment::Right));
        }
        table.add_row(cells);
    }
    table.to_string()
}
