//! The commands: each reads checked settings, calls the library, and says what happened.

pub(crate) mod compare;
pub(crate) mod history;
pub(crate) mod list;
pub(crate) mod merge;
pub(crate) mod report;
pub(crate) mod run;
pub(crate) mod site;
pub(crate) mod validate;

/// Exit code when a build failed or a check found a problem.
const EXIT_FAILURE: u8 = 1;

/// Exit code of `compare` when a regression was found is 1; this one is for a wrong command line
/// or input, as clap uses it, and for a comparison the gate could not judge.
const EXIT_USAGE: u8 = 2;
