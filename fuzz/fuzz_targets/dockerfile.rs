//! The Dockerfile reader (base images, stages, syntax directive, ARG expansion in FROM): any
//! text must give facts, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| stagebench::fuzzing::dockerfile(data));
