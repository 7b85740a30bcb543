//! The headline table printed at the end of a run, and the narrower layout that takes its place
//! on a terminal too narrow for it.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use super::ReportData;
use super::format;
use super::headline::{HeadlineCell, HeadlineRow, HeadlineTable, headline_tables};

/// The headline tables as text for a terminal, with the verdicts under each.
pub fn terminal_table(data: &ReportData) -> String {
    render(data, &full_tables, None)
}

/// What a terminal `width_columns` wide is shown: the headline tables when their widest line fits
/// (or no width is known), otherwise the same facts in the narrow layout of [`narrow_tables`].
/// The verdicts, the explanations and the method under them are left for the terminal to wrap
/// beside the full table, as they always were; under the narrow layout they are wrapped at their
/// spaces, as a terminal breaks a line in the middle of a word.
pub fn terminal_table_for_width(data: &ReportData, width_columns: Option<usize>) -> String {
    let Some(width_columns) = width_columns else {
        return terminal_table(data);
    };
    let widest_columns = headline_tables(data)
        .iter()
        .flat_map(|headline| {
            full_tables(headline)
                .lines()
                .map(columns)
                .collect::<Vec<_>>()
        })
        .max()
        .unwrap_or(0);
    if widest_columns <= width_columns {
        terminal_table(data)
    } else {
        render(
            data,
            &|headline| narrow_tables(headline, width_columns),
            Some(width_columns),
        )
    }
}

/// The report's sections, each its headline as `tables` draws it, then its verdicts and why;
/// their sentences wrapped to `prose_width_columns` when it is given.
fn render(
    data: &ReportData,
    tables: &dyn Fn(&HeadlineTable) -> String,
    prose_width_columns: Option<usize>,
) -> String {
    let mut out = String::new();
    for headline in headline_tables(data) {
        out.push_str(&tables(&headline));
        for verdict in &headline.verdicts {
            push_sentence(&mut out, "  ", verdict, prose_width_columns);
        }
        if !headline.why.is_empty() {
            out.push_str("why:\n");
            for sentence in &headline.why {
                push_sentence(&mut out, "  ", sentence, prose_width_columns);
            }
        }
        out.push('\n');
    }
    if !data.analysis.comparisons.is_empty() {
        let note = super::stopping::method_sentence(data).unwrap_or_else(|| {
            format::method_note(
                data.meta.settings.options.noise_threshold,
                crate::stats::method::Family::Report,
                data.analysis.family_size(),
            )
        });
        push_sentence(&mut out, "", &note, prose_width_columns);
    }
    out
}

/// `sentence` after `indent` on a line of its own, or, within `width_columns`, on as many lines
/// as it needs, those after the first indented two more so that each sentence stands out.
fn push_sentence(out: &mut String, indent: &str, sentence: &str, width_columns: Option<usize>) {
    let Some(width_columns) = width_columns else {
        out.push_str(indent);
        out.push_str(sentence);
        out.push('\n');
        return;
    };
    let hanging = if indent.is_empty() {
        String::new()
    } else {
        format!("{indent}  ")
    };
    let room_columns = width_columns.saturating_sub(columns(&hanging)).max(24);
    for (index, line) in wrap_at_spaces(sentence, room_columns).iter().enumerate() {
        out.push_str(if index == 0 { indent } else { &hanging });
        out.push_str(line);
        out.push('\n');
    }
}

/// A section's table, and its CI table under it when it has one.
fn full_tables(headline: &HeadlineTable) -> String {
    let mut out = table(&headline.title, &headline.columns, &headline.rows);
    out.push('\n');
    if !headline.ci_rows.is_empty() {
        let title = format!("{}: CI", headline.title);
        out.push_str(&table(&title, &headline.ci_columns, &headline.ci_rows));
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
        // The table keeps its own width: where a terminal is narrower, the narrow layout is
        // printed instead, as cells squeezed into a few characters each break words apart.
        .set_content_arrangement(ContentArrangement::Disabled);
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

/// How far a variant's name is indented under its section's title.
const VARIANT_INDENT: &str = "  ";
/// How far a variant's lines are indented under its name.
const LINE_INDENT: &str = "    ";
/// The space between a line's fields.
const GAP: &str = "  ";

/// The narrow layout of a section: its title, then per variant a line per cache mode and a line
/// per size, each its label, its figure, its interval (or first detail) and its comparison with
/// the baseline, aligned in columns across the section. Where those four do not fit in
/// `width_columns`, the comparison takes a line of its own under the interval; what else the
/// tables say in a cell (the previous job's export, runs not in the cache state, a prebuild's
/// first build) is a line under it too. Text wider than the room left is wrapped at its spaces.
fn narrow_tables(headline: &HeadlineTable, width_columns: usize) -> String {
    // Per variant, its cells with their labels: the build times, the CI modes' build times, then
    // the sizes, which the full table has at the end of its first table.
    let sizes_from = headline
        .labels
        .iter()
        .position(|label| label == "image size")
        .unwrap_or(headline.labels.len());
    let variants: Vec<(&str, Vec<(String, &HeadlineCell)>)> = headline
        .rows
        .iter()
        .enumerate()
        .map(|(index, row)| {
            let mut cells: Vec<(String, &HeadlineCell)> = Vec::new();
            cells.extend(
                headline
                    .labels
                    .iter()
                    .cloned()
                    .zip(&row.cells)
                    .take(sizes_from),
            );
            if let Some(ci_row) = headline.ci_rows.get(index) {
                cells.extend(
                    headline
                        .ci_modes
                        .iter()
                        .map(|m| m.to_string())
                        .zip(&ci_row.cells),
                );
            }
            cells.extend(
                headline
                    .labels
                    .iter()
                    .cloned()
                    .zip(&row.cells)
                    .skip(sizes_from),
            );
            (row.label.as_str(), cells)
        })
        .collect();
    let all_cells = || variants.iter().flat_map(|(_, cells)| cells);
    let label_columns = all_cells()
        .map(|(label, _)| columns(label))
        .max()
        .unwrap_or(0);
    let value_columns = all_cells()
        .map(|(_, cell)| columns(&cell.value))
        .max()
        .unwrap_or(0);
    let detail_columns = all_cells()
        .map(|(_, cell)| first_detail(cell).map_or(0, columns))
        .max()
        .unwrap_or(0);
    let comparison_columns = all_cells()
        .filter_map(|(_, cell)| cell.comparison.as_ref())
        .map(|(phrase, _)| columns(phrase))
        .max()
        .unwrap_or(0);
    // Where the interval starts, and where the comparison does when it shares the line.
    let detail_at =
        columns(LINE_INDENT) + label_columns + columns(GAP) + value_columns + columns(GAP);
    let comparison_at = detail_at + detail_columns + columns(GAP);
    let comparison_on_its_line = comparison_at + comparison_columns <= width_columns;
    // Lines under the interval are wrapped to the room right of it, but never to less than a
    // few words: a terminal that narrow gets long lines rather than a word a line.
    let room_columns = width_columns.saturating_sub(detail_at).max(24);
    let continuation = " ".repeat(detail_at);

    let mut out = String::new();
    out.push_str(&headline.title);
    out.push('\n');
    for (variant, cells) in &variants {
        out.push_str(VARIANT_INDENT);
        out.push_str(variant);
        out.push('\n');
        for (label, cell) in cells {
            let mut line = format!(
                "{LINE_INDENT}{label:<label_columns$}{GAP}{:>value_columns$}",
                cell.value
            );
            let mut under: Vec<String> = Vec::new();
            // The previous job's cost and the cache it left belong together, as one line.
            if !cell.previous_job.is_empty() {
                under.push(cell.previous_job.join(", "));
            }
            under.extend(cell.details.iter().skip(1).cloned());
            if let Some(detail) = first_detail(cell) {
                line.push_str(GAP);
                line.push_str(detail);
            }
            match &cell.comparison {
                Some((phrase, _)) if comparison_on_its_line => {
                    let padding = comparison_at.saturating_sub(columns(&line));
                    line.push_str(&" ".repeat(padding));
                    line.push_str(phrase);
                }
                Some((phrase, _)) if first_detail(cell).is_none() => {
                    // A size has no interval, so its comparison takes the interval's place.
                    line.push_str(GAP);
                    line.push_str(phrase);
                }
                // Right under the interval it is read off.
                Some((phrase, _)) => under.insert(0, phrase.clone()),
                None => {}
            }
            out.push_str(&line);
            out.push('\n');
            for text in &under {
                for wrapped in wrap_at_spaces(text, room_columns) {
                    out.push_str(&continuation);
                    out.push_str(&wrapped);
                    out.push('\n');
                }
            }
        }
    }
    // A blank line sets the verdicts, indented as a variant's name is, apart from the last
    // variant's lines, as the table's bottom border does.
    out.push('\n');
    out
}

/// A cell's interval, or what stands in its place (such as "not measured").
fn first_detail(cell: &HeadlineCell) -> Option<&str> {
    cell.details.first().map(String::as_str)
}

/// `text` in lines of at most `room_columns`, broken at its spaces; a word wider than the room
/// stays whole on a line of its own.
fn wrap_at_spaces(text: &str, room_columns: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && columns(&line) + 1 + columns(word) > room_columns {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

/// How many terminal columns `text` takes: the report's text is letters, digits and symbols such
/// as × and –, each one column wide.
fn columns(text: &str) -> usize {
    text.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::ResultSet;

    /// The published python-node run (4 variants, 6 cache modes with the CI ones, prebuilds)
    /// and go-service run (two hosts, Docker and Podman).
    fn published() -> Vec<(&'static str, ReportData)> {
        [
            "python-node/20261206T053157Z",
            "go-service/20261206T084321Z",
        ]
        .into_iter()
        .map(|run| {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("reports")
                .join(run);
            (run, ReportData::new(ResultSet::load(&dir).unwrap()))
        })
        .collect()
    }

    #[test]
    fn the_narrow_layout_fits_80_and_100_columns() {
        for (run, data) in published() {
            for width in [80, 100] {
                for headline in headline_tables(&data) {
                    let narrow = narrow_tables(&headline, width);
                    for line in narrow.lines() {
                        assert!(columns(line) <= width, "{run} at {width}: {line:?}");
                        assert_eq!(line.trim_end(), line, "{run} at {width}: {line:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_narrow_layout_says_what_the_table_says() {
        for (run, data) in published() {
            for width in [80, 100] {
                for headline in headline_tables(&data) {
                    let narrow = narrow_tables(&headline, width);
                    let narrow_lines: Vec<&str> = narrow.lines().collect();
                    for row in headline.rows.iter().chain(&headline.ci_rows) {
                        assert!(narrow_lines.contains(&format!("  {}", row.label).as_str()));
                        for cell in &row.cells {
                            // Every median and size, and every fact under it, word for word.
                            let facts = std::iter::once(&cell.value)
                                .chain(&cell.details)
                                .chain(&cell.previous_job)
                                .chain(cell.comparison.iter().map(|(phrase, _)| phrase));
                            for fact in facts {
                                assert!(narrow.contains(fact.as_str()), "{run} at {width}: {fact}");
                            }
                        }
                    }
                    // Each median on the line of its mode, under its variant.
                    let multi_cold = narrow_lines
                        .iter()
                        .skip_while(|line| line.trim() != "multi")
                        .find(|line| line.trim_start().starts_with("cold "));
                    let multi = headline.rows.iter().find(|row| row.label == "multi");
                    if let (Some(line), Some(row)) = (multi_cold, multi) {
                        assert!(line.contains(&row.cells[0].value), "{run}: {line}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_full_table_stays_where_it_fits_or_no_width_is_known() {
        for (_, data) in published() {
            let full = terminal_table(&data);
            assert_eq!(terminal_table_for_width(&data, None), full);
            assert_eq!(terminal_table_for_width(&data, Some(300)), full);
            assert_ne!(terminal_table_for_width(&data, Some(100)), full);
            // The verdicts, the why and the method are printed under either layout, wrapped
            // to the width under the narrow one.
            let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
            for width in [80, 100] {
                let narrow = terminal_table_for_width(&data, Some(width));
                let narrow_words = words(&narrow);
                for line in full
                    .lines()
                    .filter(|line| !line.starts_with(['┌', '│', '╞', '└']))
                {
                    assert!(narrow_words.contains(&words(line)), "{line}");
                }
                for line in narrow.lines() {
                    assert!(columns(line) <= width, "at {width}: {line:?}");
                }
            }
        }
    }

    #[test]
    fn python_node_at_100_columns() {
        let (_, data) = published().remove(0);
        let narrow: String = headline_tables(&data)
            .iter()
            .map(|headline| narrow_tables(headline, 100))
            .collect();
        insta::assert_snapshot!(narrow);
    }

    #[test]
    fn python_node_at_80_columns_puts_the_comparison_under_the_interval() {
        let (_, data) = published().remove(0);
        let narrow = narrow_tables(&headline_tables(&data)[0], 80);
        assert!(narrow.contains(
            "    cold           5.42 s  range of 3 runs 5.11–6.21 s\n                           25.8× faster than single\n"
        ), "{narrow}");
    }

    #[test]
    fn text_wraps_at_its_spaces_and_keeps_a_long_word_whole() {
        assert_eq!(
            wrap_at_spaces("1 of 3 runs failed", 11),
            ["1 of 3 runs", "failed"]
        );
        assert_eq!(
            wrap_at_spaces("first-build-included 157 s", 5),
            ["first-build-included", "157 s"]
        );
        assert_eq!(wrap_at_spaces("none", 80), ["none"]);
    }
}
