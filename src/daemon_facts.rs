//! What a daemon says about itself ([`DaemonFacts`]): the engine asks it, config checks a host
//! against it, and `meta.json` records it in every host's environment.
//!
//! A leaf: it imports no module of the run's flow (engine, scenario, config, plan, runner,
//! results, stats, report), so that results and config can record and check a daemon's facts
//! without depending on the engine.

use serde::{Deserialize, Serialize};

use crate::builder::EngineKind;

/// What a daemon says about itself, recorded with every result set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DaemonFacts {
    /// Which program serves the API, from its `/version` answer; Docker in files written before
    /// stagebench drove Podman.
    #[serde(default)]
    pub engine: EngineKind,
    /// Engine version, e.g. `20.10.24+dfsg1` (Docker) or `4.3.1` (Podman).
    pub version: String,
    /// The daemon's own API version.
    pub api_version: String,
    /// The API version this client speaks after negotiation.
    pub negotiated_api_version: String,
    /// Operating system of the daemon's host.
    pub operating_system: String,
    /// Kernel of the daemon's host.
    pub kernel_version: String,
    /// CPU architecture of the daemon's host.
    pub architecture: String,
    /// Storage driver, e.g. `overlay2`.
    pub storage_driver: String,
    /// CPUs the daemon sees.
    pub cpus: i64,
    /// Memory the daemon sees.
    pub memory_bytes: i64,
    /// Cgroup version, which changes how builds are accounted.
    pub cgroup_version: String,
    /// The daemon's own ID (`docker info`'s ID), which tells two otherwise identical machines
    /// apart; empty in schema-1 files.
    #[serde(default)]
    pub daemon_id: String,
    /// The host name of the daemon's machine (`docker info`'s Name); empty in schema-1 files.
    #[serde(default)]
    pub daemon_name: String,
}
