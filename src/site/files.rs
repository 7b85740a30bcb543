//! Writing the site: a file is written only when its bytes change, so that a site made again
//! from the same nights touches nothing (and a Pages deploy uploads only what changed).

use std::path::Path;

use super::SiteError;

/// Counts of what [`write_if_changed`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteCounts {
    /// Files written because they were new or their bytes differed.
    pub written: usize,
    /// Files whose bytes were already there.
    pub unchanged: usize,
}

/// Writes `bytes` to `path` unless the file already holds exactly them.
pub(crate) fn write_if_changed(
    path: &Path,
    bytes: &[u8],
    counts: &mut WriteCounts,
) -> Result<(), SiteError> {
    if let Ok(existing) = std::fs::read(path)
        && existing == bytes
    {
        counts.unchanged += 1;
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|error| SiteError::Write {
            path: parent.to_path_buf(),
            error,
        })?;
    }
    std::fs::write(path, bytes).map_err(|error| SiteError::Write {
        path: path.to_path_buf(),
        error,
    })?;
    counts.written += 1;
    Ok(())
}

/// A path component safe in a URL and on every file system: letters, digits, `.`, `-` and `_`
/// kept, anything else `_`; never empty, `.` or `..`.
pub(crate) fn url_safe(component: &str) -> String {
    let safe: String = component
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match safe.as_str() {
        "" | "." | ".." => format!("_{safe}"),
        _ => safe,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_bytes_are_not_written_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b.html");
        let mut counts = WriteCounts::default();
        write_if_changed(&path, b"x", &mut counts).unwrap();
        write_if_changed(&path, b"x", &mut counts).unwrap();
        write_if_changed(&path, b"y", &mut counts).unwrap();
        assert_eq!(
            counts,
            WriteCounts {
                written: 2,
                unchanged: 1
            }
        );
    }

    #[test]
    fn components_are_url_safe() {
        assert_eq!(url_safe("go service/ä"), "go_service__");
        assert_eq!(url_safe(".."), "_..");
        assert_eq!(url_safe("20261129T200219Z"), "20261129T200219Z");
    }
}
