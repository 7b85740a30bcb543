//! The commands: each reads checked settings, calls the library, and says what happened.

pub(crate) mod history;
pub(crate) mod list;
pub(crate) mod merge;
pub(crate) mod report;
pub(crate) mod validate;

/// Exit code when a build failed or a check found a problem.
pub(crate) const EXIT_FAILURE: u8 = 1;
