//! The unit of every time stagebench records ([`Seconds`]).
//!
//! A leaf: it imports no module of the run's flow (engine, scenario, config, plan, runner,
//! results, stats, report), so that the recorded settings (`--timeout`) and the results rows
//! share one unit without either depending on the other.

/// Wall time in seconds.
pub type Seconds = f64;
