//! The classic builder's step-stream parser: the input, cut into messages at each `\x1e`, is
//! what the daemon's `stream` fields said. Any `RUN` can print anything into them, so every
//! input must give counts, timings and a failure message, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| stagebench::fuzzing::classic_stream(data));
