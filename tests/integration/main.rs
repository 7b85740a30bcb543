//! One integration test binary. Tests whose names start with `docker_` drive a real Docker
//! daemon; they fail (never skip) when `STAGEBENCH_REQUIRE_DOCKER=1`.

mod cli_errors;
mod docker_build;
mod docker_failures;
mod docker_scenarios;
mod report_files;
mod support;
