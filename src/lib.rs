//! stagebench: benchmark Docker image builds of paired Dockerfiles (single-stage against
//! multi-stage), cold, warm and after a source edit, through the Docker daemon's API.
//!
//! [`cli`] reads the command line and [`app`] hands it to its command, each in a module of its
//! own under `commands/`.
//!
//! Data flows one way: [`scenario`] -> [`config`] -> [`plan`] -> [`runner`] (driving
//! [`engine`]) -> [`results`] on disk -> [`stats`] -> [`report`].
//!
//! Config resolves the flags once. The plan carries each scenario as the run builds it
//! ([`planned_scenario`]); with it the runner reads only a [`run_policy`] (how to run) and a
//! [`results_layout`] (where the rows go), never a flag or a scenario file.
//!
//! The nouns that several of those stages share live in leaf modules, which import none of the
//! stages, so that no stage imports another only to name something:
//!
//! - [`daemon_facts`]: what a daemon says about itself.
//! - [`host_name`]: the name a Docker host gets from its URL.
//! - [`keys`]: a planned build, a group of builds.
//! - [`progress_mode`]: how progress is shown.
//! - [`recorded_scenario`]: how a scenario was made and what its builds read, as recorded.
//! - [`run_options`]: how a run measures, as meta.json records it.
//! - [`seconds`]: the unit of every recorded time.
//! - [`step_timing`]: a build's steps as the daemon ran them.

#![forbid(unsafe_code)]

pub mod app;
pub mod builder;
pub mod cache_mode;
pub mod cli;
mod commands;
pub mod compare;
pub mod config;
pub mod context;
pub mod daemon_facts;
pub mod dockerfile;
pub mod docs;
pub mod engine;
pub mod error;
pub mod export_targets;
#[doc(hidden)]
pub mod fuzzing;
pub mod history;
pub mod host_name;
pub mod image_analysis;
pub mod keys;
pub mod names;
pub mod plan;
pub mod planned_scenario;
pub mod progress;
pub mod progress_mode;
pub mod recorded_scenario;
pub mod registry;
pub mod report;
pub mod results;
pub mod results_layout;
pub mod run_estimate;
pub mod run_options;
pub mod run_policy;
pub mod runner;
pub mod scenario;
pub mod seconds;
pub mod secrets;
pub mod site;
pub mod stats;
pub mod stdout;
pub mod step_timing;
pub mod text_file;
pub mod touch;
pub mod workdir;
