//! A results folder while a run writes into it: `results.csv` appended one flushed row per
//! build (after the build's rows of `steps.csv`), `meta.json` rewritten whole after each change. Several hosts may write into one folder
//! at once (`--out` gathers every scenario), so both files sit behind locks that are never held
//! across an `.await`.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use super::csv::{AppendOnlyCsv, CsvRow, read_rows};
use super::layers::{ImageRows, LAYERS_FILE, LayerRecord, WASTE_FILE, WasteRecord};
use super::meta::RunMeta;
use super::record::{BuildRecord, RESULTS_FILE};
use super::steps::{STEPS_FILE, StepRecord};

/// Subfolder for a run's working state (the image ledger), removed when the run ends cleanly.
pub const STATE_DIR: &str = ".stagebench";

/// File in [`STATE_DIR`] listing the images a run created.
pub const IMAGES_FILE: &str = "images.csv";

/// An image a run created, or found under a tag it was about to move. Written the moment it is
/// known, so that a later invocation (`--resume`) can still remove what a killed one left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// Docker host.
    pub host: String,
    /// Scenario.
    pub scenario: String,
    /// The variant, or the prebuild's tag, the image belongs to.
    pub owner: String,
    /// Image ID (full, or short as the classic builder prints it).
    pub image_id: String,
    /// How the run came to know it.
    pub role: ImageRole,
}

/// How a run came to know an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageRole {
    /// The run built it.
    Built,
    /// Its tag named it before the run moved the tag to a new build.
    Replaced,
}

impl CsvRow for ImageRecord {
    const HEADER: &'static [&'static str] = &["host", "scenario", "owner", "image_id", "role"];
}

/// `steps.csv`, `layers.csv` and `waste.csv`, open for appending.
struct DetailFiles {
    steps: AppendOnlyCsv<StepRecord>,
    layers: AppendOnlyCsv<LayerRecord>,
    waste: AppendOnlyCsv<WasteRecord>,
}

impl DetailFiles {
    fn create(dir: &Path) -> io::Result<DetailFiles> {
        Ok(DetailFiles {
            steps: AppendOnlyCsv::create(&dir.join(STEPS_FILE))?,
            layers: AppendOnlyCsv::create(&dir.join(LAYERS_FILE))?,
            waste: AppendOnlyCsv::create(&dir.join(WASTE_FILE))?,
        })
    }

    /// Opens the files of a folder being resumed; one written before a table existed gets it.
    fn reopen(dir: &Path) -> io::Result<DetailFiles> {
        fn open_or_create<T: CsvRow>(path: &Path) -> io::Result<AppendOnlyCsv<T>> {
            if path.is_file() {
                Ok(AppendOnlyCsv::open(path)?.0)
            } else {
                AppendOnlyCsv::create(path)
            }
        }
        Ok(DetailFiles {
            steps: open_or_create(&dir.join(STEPS_FILE))?,
            layers: open_or_create(&dir.join(LAYERS_FILE))?,
            waste: open_or_create(&dir.join(WASTE_FILE))?,
        })
    }
}

/// What a build left besides its row of `results.csv`.
#[derive(Debug, Clone, Default)]
pub struct BuildDetails {
    /// Its steps.
    pub steps: Vec<StepRecord>,
    /// Its image's layers and wasted files, when the image was analysed.
    pub image: Option<ImageRows>,
}

/// A results folder open for writing.
pub struct ResultsFolder {
    dir: PathBuf,
    results: Mutex<AppendOnlyCsv<BuildRecord>>,
    /// The tables of a build's details, written together before its row.
    details: Mutex<DetailFiles>,
    meta: Mutex<RunMeta>,
    images: Mutex<Option<AppendOnlyCsv<ImageRecord>>>,
}

impl ResultsFolder {
    /// Creates the folder (it may exist, but must not hold `results.csv`), its `results.csv`
    /// with the header, and `meta.json`.
    pub fn create(dir: &Path, meta: RunMeta) -> io::Result<ResultsFolder> {
        std::fs::create_dir_all(dir).map_err(|e| with_path(e, dir))?;
        let results = AppendOnlyCsv::create(&dir.join(RESULTS_FILE))?;
        let details = DetailFiles::create(dir)?;
        meta.write(dir).map_err(|e| with_path(e, dir))?;
        Ok(ResultsFolder {
            dir: dir.to_path_buf(),
            results: Mutex::new(results),
            details: Mutex::new(details),
            meta: Mutex::new(meta),
            images: Mutex::new(None),
        })
    }

    /// Opens an existing folder to continue it (`--resume`) with `meta` (already updated with
    /// the new invocation). Returns whether a partial last row had to be cut off.
    pub fn reopen(dir: &Path, meta: RunMeta) -> io::Result<(ResultsFolder, bool)> {
        let (results, cut) = AppendOnlyCsv::open(&dir.join(RESULTS_FILE))?;
        let details = DetailFiles::reopen(dir)?;
        meta.write(dir).map_err(|e| with_path(e, dir))?;
        Ok((
            ResultsFolder {
                dir: dir.to_path_buf(),
                results: Mutex::new(results),
                details: Mutex::new(details),
                meta: Mutex::new(meta),
                images: Mutex::new(None),
            },
            cut,
        ))
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where a run keeps its working state.
    pub fn state_dir(&self) -> PathBuf {
        self.dir.join(STATE_DIR)
    }

    /// Appends a build's details, then its row, and pushes them to the disk before returning.
    /// The row comes last: a build is recorded only with its details already on disk.
    pub fn append(&self, record: &BuildRecord, details: &BuildDetails) -> io::Result<()> {
        {
            let mut files = lock(&self.details);
            for step in &details.steps {
                files.steps.append(step)?;
            }
            if let Some(image) = &details.image {
                for layer in &image.layers {
                    files.layers.append(layer)?;
                }
                for file in &image.waste {
                    files.waste.append(file)?;
                }
            }
        }
        lock(&self.results).append(record)
    }

    /// Changes `meta.json` and writes it.
    pub fn update_meta(&self, change: impl FnOnce(&mut RunMeta)) -> io::Result<()> {
        let mut meta = lock(&self.meta);
        change(&mut meta);
        meta.write(&self.dir).map_err(|e| with_path(e, &self.dir))
    }

    /// Adds an image to the folder's image ledger.
    pub fn record_image(&self, image: &ImageRecord) -> io::Result<()> {
        let mut images = lock(&self.images);
        if images.is_none() {
            let dir = self.state_dir();
            std::fs::create_dir_all(&dir).map_err(|e| with_path(e, &dir))?;
            let path = dir.join(IMAGES_FILE);
            let file = if path.is_file() {
                AppendOnlyCsv::open(&path)?.0
            } else {
                AppendOnlyCsv::create(&path)?
            };
            *images = Some(file);
        }
        match images.as_mut() {
            Some(file) => file.append(image),
            None => Ok(()),
        }
    }

    /// Every image in the ledger, from this and earlier invocations.
    pub fn recorded_images(&self) -> Vec<ImageRecord> {
        let path = self.state_dir().join(IMAGES_FILE);
        if !path.is_file() {
            return Vec::new();
        }
        read_rows(&path).unwrap_or_default()
    }

    /// Variants of `scenario` whose image on `host` an invocation of this run already
    /// analysed (`layers.csv` has its rows).
    pub fn analysed_variants(
        &self,
        host: &str,
        scenario: &str,
    ) -> std::collections::BTreeSet<String> {
        let path = self.dir.join(LAYERS_FILE);
        if !path.is_file() {
            return std::collections::BTreeSet::new();
        }
        read_rows::<LayerRecord>(&path)
            .unwrap_or_default()
            .into_iter()
            .filter(|layer| layer.host == host && layer.scenario == scenario)
            .map(|layer| layer.variant)
            .collect()
    }

    /// Removes the working state once nothing in it is needed any more.
    pub fn clear_state(&self) -> io::Result<()> {
        let mut images = lock(&self.images);
        *images = None;
        let dir = self.state_dir();
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(with_path(e, &dir)),
            _ => Ok(()),
        }
    }

    /// A copy of the metadata as it stands.
    pub fn meta(&self) -> RunMeta {
        lock(&self.meta).clone()
    }
}

/// A poisoned lock only means another host's task panicked while writing; the data is still the
/// last complete write, so writing goes on.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn with_path(error: io::Error, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}
