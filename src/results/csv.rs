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

/// Reads every row of a CSV file of `T` rows; the message names the file and row. A partial
/// last line (a process killed mid-write) is not a row and is left out.
pub fn read_rows<T: CsvRow>(path: &Path) -> Result<Vec<T>, String> {
    // A results folder may come from anywhere: a table that is a link is refused, not followed.
    let bytes = crate::text_file::read_no_follow(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let complete = bytes
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |newline| newline + 1);
    let mut reader = csv::Reader::from_reader(&bytes[..complete]);
    reader
        .deserialize()
        .map(|row| row.map_err(|e| format!("{}: {e}", path.display())))
        .collect()
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
            "scenario,variant,builder,cache,run,warmup,status,build_seconds,image_id,image_bytes,layers,cached_steps,total_steps,started_at,error,host,run_id,seq,compressed_bytes",
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
}
