//! Results: every file a run writes, and results folders read back as data.
//!
//! - [`record`]: the row of `results.csv` ([`BuildRecord`]) and its statuses. The keys that
//!   identify a build ([`BuildKey`]) and a group of builds ([`SeriesKey`]) live in
//!   [`crate::keys`] and are re-exported here.
//! - [`csv`]: an append-only CSV writer generic over the row type, so every row is on disk the
//!   moment it exists.
//! - [`meta`]: `meta.json`, with one environment per Docker host and every invocation. The
//!   settings it records live in [`crate::run_options`] and are re-exported here.
//! - [`steps`]: the row of `steps.csv` ([`StepRecord`]), one per step of a measured build.
//! - [`misses`]: the first step of each stage that ran instead of coming from cache.
//! - [`layers`]: the rows of `layers.csv` and `waste.csv` ([`LayerRecord`], [`WasteRecord`]),
//!   what each analysed image is made of.
//! - [`folder`]: a results folder while a run writes into it.
//! - [`store`]: folders loaded into one in-memory result set, merged, and asked what is done.

pub mod csv;
pub mod folder;
pub mod layers;
pub mod meta;
pub mod misses;
mod names;
pub mod record;
pub mod steps;
pub mod store;

pub use csv::{AppendOnlyCsv, CsvRow, read_rows};
pub use folder::{BuildDetails, IMAGES_FILE, ImageRecord, ImageRole, ResultsFolder, STATE_DIR};
pub use layers::{ImageRows, LAYERS_FILE, LayerOrigin, LayerRecord, WASTE_FILE, WasteRecord};
pub use meta::{
    BaseImageMeta, DEFAULT_NOISE_THRESHOLD, HostEnvironment, HostInfo, HostSpec, Invocation,
    META_FILE, META_SCHEMA_VERSION, PrebuildMeta, RecordedSettings, RunCost, RunMeta, RunOptions,
    ScenarioInputs, ScenarioMeta, VariantMeta,
};
pub use misses::{FIRST_MISS_SEPARATOR, StageMiss, first_miss_column, first_misses};
pub use record::{BuildKey, BuildRecord, BuildStatus, OfBuild, RESULTS_FILE, Seconds, SeriesKey};
pub use steps::{STEPS_FILE, StepRecord};
pub use store::{ResultSet, StoreError, find_results_folders, is_results_folder};
