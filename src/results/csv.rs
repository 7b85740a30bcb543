//! Append-only CSV files: one flushed row per event, never rewritten.
//!
//! A row is written the moment it exists, with one `write` of the whole line followed by
//! `fsync`, because a later build, the daemon or stagebench itself may die and what was already
//! measured must survive that. A process killed in the middle of that one write can leave at
//! most a partial last line; [`AppendOnlyCsv::open`] cuts it off before appending again.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A row type with a fixed header, so that a file can be created (and its header checked when
/// reopened) before the first row exists.
pub trait CsvRow: Serialize + DeserializeOwned {
    /// Column names in the order serde writes the fields.
    const HEADER: &'static [&'static str];

    /// Why a row that parsed cannot be a measurement stagebench made (a successful build that
    /// took no time, a name that could leave the folder), as the end of a sentence that starts
    /// with the file and line; `None` when it can be. Readers refuse such rows rather than let
    /// statistics drop them in silence or name a file after them.
    fn refusal(&self) -> Option<String> {
        None
    }
}

/// A CSV file of `T` rows, opened for appending.
pub struct AppendOnlyCsv<T> {
    path: PathBuf,
    file: File,
    row: PhantomData<fn(&T)>,
}

impl<T: CsvRow> AppendOnlyCsv<T> {
    /// Creates the file with its header; an existing file is never overwritten.
    pub fn create(path: &Path) -> io::Result<AppendOnlyCsv<T>> {
        let mut file = OpenOptions::new()
            .create_new(true)
            .write(true)
            .open(path)
            .map_err(|e| with_path(e, path))?;
        file.write_all(header_line::<T>().as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|e| with_path(e, path))?;
        Ok(AppendOnlyCsv {
            path: path.to_path_buf(),
            file,
            row: PhantomData,
        })
    }

    /// Opens an existing file for appending after checking its header. A partial last line
    /// (a process killed mid-write) is cut off; returns whether one was.
    pub fn open(path: &Path) -> io::Result<(AppendOnlyCsv<T>, bool)> {
        // A folder being resumed may come from elsewhere: rows are never appended through a
        // link planted under a table's name (`create` makes a new file, never through one).
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| with_path(e, path))?;
        let mut text = Vec::new();
        file.read_to_end(&mut text)
            .map_err(|e| with_path(e, path))?;
        let header = header_line::<T>();
        if !text.starts_with(header.as_bytes()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{}: its header is not `{}`, so rows cannot be appended to it",
                    path.display(),
                    header.trim_end()
                ),
            ));
        }
        let complete = text
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |newline| newline + 1);
        let cut = complete < text.len();
        if cut {
            file.set_len(complete as u64)
                .map_err(|e| with_path(e, path))?;
        }
        file.seek(SeekFrom::End(0))
            .map_err(|e| with_path(e, path))?;
        Ok((
            AppendOnlyCsv {
                path: path.to_path_buf(),
                file,
                row: PhantomData,
            },
            cut,
        ))
    }

    /// Where the rows go.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a row and pushes it to the disk before returning.
    pub fn append(&mut self, row: &T) -> io::Result<()> {
        let mut writer = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new());
        writer.serialize(row).map_err(io::Error::other)?;
        let line = writer
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))?;
        self.file
            .write_all(&line)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| with_path(e, &self.path))
    }
}

/// Reads every row of a CSV file of `T` rows. A row that does not parse, or that
/// [`CsvRow::refusal`] refuses, fails the whole read with one sentence naming the file, the line
/// and the column: no reader works on a file with a row it cannot trust. A partial last line (a
/// process killed mid-write) is not a row and is left out.
pub fn read_rows<T: CsvRow>(path: &Path) -> Result<Vec<T>, String> {
    // A results folder may come from anywhere: a table that is a link is refused, not followed.
    let bytes = crate::text_file::read_no_follow(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let complete = bytes
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |newline| newline + 1);
    let mut reader = csv::Reader::from_reader(&bytes[..complete]);
    let headers = reader
        .headers()
        .map_err(|e| format!("{}:1: {}", path.display(), csv_problem(&e)))?
        .clone();
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                let line = error.position().map_or(0, csv::Position::line);
                return Err(format!(
                    "{}:{line}: {}",
                    path.display(),
                    csv_problem(&error)
                ));
            }
        }
        let line = record.position().map_or(0, csv::Position::line);
        let row: T = record.deserialize(Some(&headers)).map_err(|error| {
            format!(
                "{}:{line}: {}",
                path.display(),
                field_problem(&error, &headers, &record)
            )
        })?;
        if let Some(problem) = row.refusal() {
            return Err(format!("{}:{line}: {problem}", path.display()));
        }
        rows.push(row);
    }
    Ok(rows)
}

/// What is wrong with the file's layout (not one field's value), in words.
fn csv_problem(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("the row has {len} fields, but the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "the row is not UTF-8 text".to_string(),
        csv::ErrorKind::Deserialize { err, .. } => err.to_string(),
        _ => error.to_string(),
    }
}

/// What is wrong with one field, naming its column and quoting its value.
fn field_problem(
    error: &csv::Error,
    headers: &csv::StringRecord,
    record: &csv::StringRecord,
) -> String {
    let csv::ErrorKind::Deserialize { err: error, .. } = error.kind() else {
        return csv_problem(error);
    };
    // A value a type rejects itself (an unknown status) comes back without its field's index;
    // serde's message then quotes the value, and the first cell holding it names the column.
    let index = error
        .field()
        .and_then(|i| usize::try_from(i).ok())
        .or_else(|| {
            let message = error.to_string();
            record
                .iter()
                .position(|cell| message.contains(&format!("`{cell}`")))
        });
    let column = index.and_then(|i| headers.get(i)).unwrap_or("a column");
    let value = index
        .and_then(|i| record.get(i))
        .map_or_else(String::new, quoted);
    match error.kind() {
        csv::DeserializeErrorKind::ParseInt(_) if column.ends_with("bytes") => {
            format!("{column} is {value}, but a size is a whole number of bytes, 0 or more")
        }
        csv::DeserializeErrorKind::ParseInt(_) => {
            format!("{column} is {value}, but it holds a whole number, 0 or more")
        }
        csv::DeserializeErrorKind::ParseFloat(_) => {
            format!("{column} is {value}, but it holds a number")
        }
        csv::DeserializeErrorKind::ParseBool(_) => {
            format!("{column} is {value}, but it holds true or false")
        }
        csv::DeserializeErrorKind::UnexpectedEndOfRow => {
            format!("the row ends before column {column}")
        }
        // serde's message quotes the value as it is, unfit to print; what the column expects
        // comes from the type, and the quoted cell stands for the value.
        csv::DeserializeErrorKind::Message(message)
        | csv::DeserializeErrorKind::Unsupported(message) => {
            match (index, message.split_once(", expected ")) {
                (Some(_), Some((_, expected))) => {
                    format!("{column} is {value}, but it holds {expected}")
                }
                (Some(_), None) => format!("{column} is {value}, which it cannot hold"),
                (None, _) => printable(message, 200),
            }
        }
        csv::DeserializeErrorKind::InvalidUtf8(_) => format!("{column} is not UTF-8 text"),
    }
}

/// A cell quoted for a one-line message, cut after 40 characters.
fn quoted(cell: &str) -> String {
    format!("`{}`", printable(cell, 40))
}

/// `text` fit for a one-line message, since results folders arrive from other machines:
/// control characters (a terminal escape sequence, a newline) shown as `�`, and cut after
/// `shown_chars` characters.
fn printable(text: &str, shown_chars: usize) -> String {
    let mut shown: String = text
        .chars()
        .take(shown_chars)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect();
    if text.chars().nth(shown_chars).is_some() {
        shown.push('…');
    }
    shown
}

fn header_line<T: CsvRow>() -> String {
    let mut line = T::HEADER.join(",");
    line.push('\n');
    line
}

fn with_path(error: io::Error, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::record::BuildRecord;
    use crate::results::record::tests::sample_record;
    use crate::results::{BuildStatus, RESULTS_FILE};

    #[test]
    fn the_header_names_every_field_in_serde_order() {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.serialize(sample_record()).unwrap();
        let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
        assert_eq!(text.lines().next().unwrap(), BuildRecord::HEADER.join(","));
        assert_eq!(
            BuildRecord::HEADER.join(","),
            "scenario,variant,builder,cache,run,warmup,status,build_seconds,image_id,image_bytes,layers,cached_steps,total_steps,started_at,error,host,run_id,seq,compressed_bytes,pull_seconds,export_seconds,cache_bytes,first_miss,engine",
            "existing columns keep their place; new ones come last"
        );
    }

    #[test]
    fn rows_are_on_disk_after_each_append_and_read_back_equal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(RESULTS_FILE);
        let mut file = AppendOnlyCsv::<BuildRecord>::create(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap().lines().count(),
            1,
            "the header is there before any row"
        );
        let ok = sample_record();
        file.append(&ok).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
        let failed = BuildRecord {
            status: BuildStatus::TimedOut,
            image_id: String::new(),
            image_bytes: None,
            layers: None,
            error: "RUN false: exit code: 1, \"quoted\"\nsecond line".into(),
            seq: 2,
            ..ok.clone()
        };
        file.append(&failed).unwrap();
        assert_eq!(read_rows::<BuildRecord>(&path).unwrap(), [ok, failed]);
        assert!(
            AppendOnlyCsv::<BuildRecord>::create(&path).is_err(),
            "an existing results.csv is never overwritten"
        );
    }

    #[test]
    fn reopening_cuts_a_partial_last_line_and_appends_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(RESULTS_FILE);
        let mut file = AppendOnlyCsv::<BuildRecord>::create(&path).unwrap();
        file.append(&sample_record()).unwrap();
        drop(file);
        let mut raw = OpenOptions::new().append(true).open(&path).unwrap();
        raw.write_all(b"s,single,buildkit,co").unwrap();
        drop(raw);

        assert_eq!(
            read_rows::<BuildRecord>(&path).unwrap(),
            [sample_record()],
            "a partial line is not a row"
        );
        let (mut file, cut) = AppendOnlyCsv::<BuildRecord>::open(&path).unwrap();
        assert!(cut);
        let second = BuildRecord {
            run: 2,
            seq: 2,
            ..sample_record()
        };
        file.append(&second).unwrap();
        assert_eq!(
            read_rows::<BuildRecord>(&path).unwrap(),
            [sample_record(), second]
        );
        let (_, cut) = AppendOnlyCsv::<BuildRecord>::open(&path).unwrap();
        assert!(!cut);

        let elsewhere = dir.path().join("elsewhere.csv");
        std::fs::copy(&path, &elsewhere).unwrap();
        let link = dir.path().join("steps.csv");
        std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
        assert!(
            AppendOnlyCsv::<BuildRecord>::open(&link).is_err(),
            "rows are never appended through a link"
        );
    }

    #[test]
    fn schema_1_rows_read_with_empty_identity() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(RESULTS_FILE);
        std::fs::write(
            &path,
            "scenario,variant,builder,cache,run,warmup,status,build_seconds,image_id,image_bytes,layers,cached_steps,total_steps,started_at,error\n\
             s,single,buildkit,cold,1,false,ok,1.25,sha256:abc,1024,2,0,3,2026-11-28T04:00:00Z,\n",
        )
        .unwrap();
        let rows = read_rows::<BuildRecord>(&path).unwrap();
        assert_eq!((rows[0].host.as_str(), rows[0].seq), ("", 0));
        assert!(
            AppendOnlyCsv::<BuildRecord>::open(&path).is_err(),
            "rows of the new layout are never appended under the old header"
        );
    }

    const HEADER_V1: &str = "scenario,variant,builder,cache,run,warmup,status,build_seconds,image_id,image_bytes,layers,cached_steps,total_steps,started_at,error\n";

    /// Reads `text` as `file` in a fresh folder: the rows, or the one sentence refusing them
    /// with the folder's path left out.
    fn read_text<T: CsvRow>(file: &str, text: &str) -> Result<Vec<T>, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(file);
        std::fs::write(&path, text).unwrap();
        read_rows::<T>(&path).map_err(|message| {
            let prefix = format!("{}/", dir.path().display());
            assert!(message.starts_with(&prefix), "{message}");
            assert_eq!(message.lines().count(), 1, "one sentence: {message}");
            message[prefix.len()..].to_string()
        })
    }

    fn results_row(status: &str, seconds: &str, image_bytes: &str) -> String {
        format!(
            "s,single,buildkit,cold,1,false,{status},{seconds},sha256:abc,{image_bytes},2,0,3,2026-11-28T04:00:00Z,\n"
        )
    }

    #[test]
    fn a_successful_build_without_a_finite_positive_time_is_refused_naming_file_and_line() {
        for (seconds, expected) in [
            (
                "0",
                "build_seconds is 0, but a successful build takes a positive time",
            ),
            (
                "-2.5",
                "build_seconds is -2.5, but a successful build takes a positive time",
            ),
            (
                "-0",
                "build_seconds is -0, but a successful build takes a positive time",
            ),
            (
                "NaN",
                "build_seconds is NaN, but a successful build takes a finite time",
            ),
            (
                "nan",
                "build_seconds is NaN, but a successful build takes a finite time",
            ),
            (
                "inf",
                "build_seconds is inf, but a successful build takes a finite time",
            ),
        ] {
            let text = format!(
                "{HEADER_V1}{}{}",
                results_row("ok", "1.5", "1024"),
                results_row("ok", seconds, "1024")
            );
            assert_eq!(
                read_text::<BuildRecord>(RESULTS_FILE, &text).unwrap_err(),
                format!("results.csv:3: {expected}"),
                "{seconds}"
            );
        }
    }

    #[test]
    fn a_build_that_did_not_succeed_may_take_no_time_but_never_a_negative_or_endless_one() {
        for status in ["failed", "timed_out", "interrupted", "cache_mismatch"] {
            let text = format!("{HEADER_V1}{}", results_row(status, "0", ""));
            assert_eq!(
                read_text::<BuildRecord>(RESULTS_FILE, &text).unwrap().len(),
                1
            );
            for seconds in ["-1", "NaN"] {
                let text = format!("{HEADER_V1}{}", results_row(status, seconds, ""));
                let message = read_text::<BuildRecord>(RESULTS_FILE, &text).unwrap_err();
                assert_eq!(
                    message,
                    format!(
                        "results.csv:2: build_seconds is {seconds}, but a build's time is a finite number of seconds, 0 or more"
                    )
                );
            }
        }
    }

    #[test]
    fn sizes_that_are_not_whole_numbers_of_bytes_are_refused_naming_the_column() {
        for (bytes, shown) in [
            ("4.5", "`4.5`"),
            ("-5", "`-5`"),
            ("1e6", "`1e6`"),
            ("big", "`big`"),
        ] {
            let text = format!("{HEADER_V1}{}", results_row("ok", "1.5", bytes));
            assert_eq!(
                read_text::<BuildRecord>(RESULTS_FILE, &text).unwrap_err(),
                format!(
                    "results.csv:2: image_bytes is {shown}, but a size is a whole number of bytes, 0 or more"
                )
            );
        }
        let header = BuildRecord::HEADER.join(",");
        let row = "s,single,buildkit,cold,1,false,ok,1.5,sha256:abc,1024,2,0,3,2026-11-28T04:00:00Z,,local,r,1,2048.25,,,,,docker";
        assert_eq!(
            read_text::<BuildRecord>(RESULTS_FILE, &format!("{header}\n{row}\n")).unwrap_err(),
            "results.csv:2: compressed_bytes is `2048.25`, but a size is a whole number of bytes, 0 or more"
        );
    }

    /// The results.csv header before `pull_seconds`, `export_seconds`, `cache_bytes` and
    /// `first_miss` were appended.
    const HEADER_COMPRESSED: &str = "scenario,variant,builder,cache,run,warmup,status,build_seconds,image_id,image_bytes,layers,cached_steps,total_steps,started_at,error,host,run_id,seq,compressed_bytes\n";

    #[test]
    fn a_results_file_from_before_the_cache_columns_reads_with_them_empty() {
        let row = "s,single,buildkit,warm,1,false,ok,0.5,sha256:abc,1024,2,3,3,2026-11-28T04:00:00Z,,local,r,1,2048\n";
        let rows =
            read_text::<BuildRecord>(RESULTS_FILE, &format!("{HEADER_COMPRESSED}{row}")).unwrap();
        assert_eq!(
            (
                rows[0].compressed_bytes,
                rows[0].pull_seconds,
                rows[0].export_seconds,
                rows[0].cache_bytes,
                rows[0].first_miss.as_str()
            ),
            (Some(2048), None, None, None, "")
        );
    }

    #[test]
    fn the_cache_columns_read_back_equal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(RESULTS_FILE);
        let mut file = AppendOnlyCsv::<BuildRecord>::create(&path).unwrap();
        let row = BuildRecord {
            cache: crate::cache_mode::CacheMode::Incremental,
            pull_seconds: Some(0.0),
            export_seconds: Some(12.5),
            cache_bytes: Some(7_340_032),
            first_miss: "builder: COPY app/ /src/ | 1: RUN echo \"a, b\" | wc -c".into(),
            ..sample_record()
        };
        file.append(&row).unwrap();
        assert_eq!(read_rows::<BuildRecord>(&path).unwrap(), [row]);
    }

    #[test]
    fn malformed_cache_columns_are_refused_naming_file_line_and_column() {
        let header = BuildRecord::HEADER.join(",");
        let row = |pull: &str, export: &str, bytes: &str| {
            format!(
                "s,single,buildkit,warm,1,false,ok,1.5,sha256:abc,1024,2,3,3,2026-11-28T04:00:00Z,,local,r,1,,{pull},{export},{bytes},,docker\n"
            )
        };
        let fine = format!("{header}\n{}", row("0.25", "3", "1024"));
        assert_eq!(
            read_text::<BuildRecord>(RESULTS_FILE, &fine).unwrap()[0].cache_bytes,
            Some(1024)
        );
        for (pull, export, bytes, expected) in [
            (
                "-0.5",
                "",
                "",
                "pull_seconds is -0.5, but it holds a finite number of seconds, 0 or more",
            ),
            (
                "NaN",
                "",
                "",
                "pull_seconds is NaN, but it holds a finite number of seconds, 0 or more",
            ),
            (
                "",
                "inf",
                "",
                "export_seconds is inf, but it holds a finite number of seconds, 0 or more",
            ),
            (
                "",
                "soon",
                "",
                "export_seconds is `soon`, but it holds a number",
            ),
            (
                "",
                "",
                "1024.5",
                "cache_bytes is `1024.5`, but a size is a whole number of bytes, 0 or more",
            ),
            (
                "",
                "",
                "-1",
                "cache_bytes is `-1`, but a size is a whole number of bytes, 0 or more",
            ),
        ] {
            let text = format!("{header}\n{}{}", row("", "", ""), row(pull, export, bytes));
            assert_eq!(
                read_text::<BuildRecord>(RESULTS_FILE, &text).unwrap_err(),
                format!("results.csv:3: {expected}")
            );
        }
    }

    #[test]
    fn other_malformed_rows_name_the_line_and_the_column() {
        let cases = [
            (
                results_row("okay", "1.5", "1024"),
                "results.csv:2: status is `okay`, but it holds one of `ok`, `failed`, `timed_out`, `interrupted`, `cache_mismatch`",
            ),
            (
                results_row("ok", "fast", "1024"),
                "results.csv:2: build_seconds is `fast`, but it holds a number",
            ),
            (
                "s,single,buildkit,cold,1,false,ok\n".to_string(),
                "results.csv:2: the row has 7 fields, but the header has 15",
            ),
            (
                "s,single,buildkit,cold,1,maybe,ok,1.5,sha256:abc,1024,2,0,3,t,\n".to_string(),
                "results.csv:2: warmup is `maybe`, but it holds true or false",
            ),
            (
                "s,single,buildkit,cold,1.5,false,ok,1.5,sha256:abc,1024,2,0,3,t,\n".to_string(),
                "results.csv:2: run is `1.5`, but it holds a whole number, 0 or more",
            ),
        ];
        for (row, expected) in cases {
            let message =
                read_text::<BuildRecord>(RESULTS_FILE, &format!("{HEADER_V1}{row}")).unwrap_err();
            assert!(message.starts_with(expected), "{message}");
        }
    }

    #[test]
    fn a_header_without_a_column_the_row_needs_is_named() {
        let header = HEADER_V1.replace("status,", "");
        let row = "s,single,buildkit,cold,1,false,1.5,sha256:abc,1024,2,0,3,t,\n";
        assert_eq!(
            read_text::<BuildRecord>(RESULTS_FILE, &format!("{header}{row}")).unwrap_err(),
            "results.csv:2: missing field `status`"
        );
    }

    #[test]
    fn a_row_spanning_lines_is_named_by_its_first_line_and_odd_cells_are_quoted_safely() {
        let multi_line =
            "s,single,buildkit,cold,1,false,failed,0.5,,,,0,3,t,\"line one\nline two\"\n";
        let hostile = format!(
            "s,single,buildkit,cold,1,false,\u{1b}[31m{},1.5,x,1,2,0,3,t,\n",
            "o".repeat(60)
        );
        let message =
            read_text::<BuildRecord>(RESULTS_FILE, &format!("{HEADER_V1}{multi_line}{hostile}"))
                .unwrap_err();
        assert!(
            message.starts_with("results.csv:4: status is `\u{fffd}[31moooo"),
            "{message}"
        );
        assert!(
            message.ends_with(
                "but it holds one of `ok`, `failed`, `timed_out`, `interrupted`, `cache_mismatch`"
            ),
            "{message}"
        );
        assert!(
            message.contains("o…`"),
            "cut after 40 characters: {message}"
        );
        assert!(!message.contains('\u{1b}'), "{message}");
    }

    #[test]
    fn steps_that_start_or_last_a_negative_or_endless_time_are_refused() {
        use crate::results::{STEPS_FILE, StepRecord};
        let header = StepRecord::HEADER.join(",");
        let row = |offset: &str, seconds: &str| {
            format!(
                "s,multi,local,cold,1,build,2,RUN make,{offset},{seconds},false,buildkit,false,r,1\n"
            )
        };
        let fine = format!("{header}\n{}", row("0", "0"));
        assert_eq!(read_text::<StepRecord>(STEPS_FILE, &fine).unwrap().len(), 1);
        for (offset, seconds, expected) in [
            ("-0.5", "1", "started_offset_s is -0.5"),
            ("0.5", "NaN", "seconds is NaN"),
            ("0.5", "-1", "seconds is -1"),
            ("inf", "1", "started_offset_s is inf"),
        ] {
            let text = format!("{header}\n{}{}", row("0", "1"), row(offset, seconds));
            assert_eq!(
                read_text::<StepRecord>(STEPS_FILE, &text).unwrap_err(),
                format!(
                    "steps.csv:3: {expected}, but it holds a finite number of seconds, 0 or more"
                )
            );
        }
    }

    #[test]
    fn layer_sizes_that_are_not_whole_numbers_are_refused() {
        use crate::results::{LAYERS_FILE, LayerRecord};
        let header = LayerRecord::HEADER.join(",");
        let row = "s,multi,local,sha256:abc,1,sha256:d,instruction,,RUN make,100.5,50,3,0,r,1";
        assert_eq!(
            read_text::<LayerRecord>(LAYERS_FILE, &format!("{header}\n{row}\n")).unwrap_err(),
            "layers.csv:2: bytes is `100.5`, but a size is a whole number of bytes, 0 or more"
        );
    }
}
