//! One integration test binary. Tests whose names start with `docker_` drive a real Docker
//! daemon; they fail (never skip) when `STAGEBENCH_REQUIRE_DOCKER=1`. Those in `docker_hosts`
//! also start extra daemons, which needs root. Tests whose names start with `registry_` start
//! real `docker-registry` processes on 127.0.0.1; they too fail when that is required. So does
//! `site_browser`, which drives a headless Chromium on loopback.

// Helpers here are test code too: a panic is a failed test with its location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod action_files;
mod cli_errors;
mod compare_gate;
mod docker_action;
mod docker_build;
mod docker_build_cache;
mod docker_ci_modes;
mod docker_failures;
mod docker_faults;
mod docker_first_miss;
mod docker_hosts;
mod docker_layer_cache;
mod docker_layers;
mod docker_owned;
mod docker_paths;
mod docker_podman;
mod docker_registry;
mod docker_runs_auto;
mod docker_scenarios;
mod docker_secrets;
mod docker_soak;
mod docker_ssh;
mod docker_steps;
mod docs_flags;
mod extra_daemons;
mod fuzz_corpus;
mod history_trend;
mod hostile_input;
mod hostile_results;
mod own_project;
mod registry_api;
mod report_files;
mod site_browser;
mod site_pages;
mod support;
mod support_browser;
mod support_registry;
