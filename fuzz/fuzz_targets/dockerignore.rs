//! The `.dockerignore` matcher: the input's lines up to the last are patterns, the last line is
//! a path. Parsing must succeed or fail with an error, and matching must answer, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| stagebench::fuzzing::dockerignore(data));
