//! What the benchmarks that read an image export share.

use std::process::{Child, Command, Stdio};

/// `docker save IMAGE`, its standard output to be read.
pub fn save(image: &str) -> Child {
    Command::new("docker")
        .args(["save", image])
        .stdout(Stdio::piped())
        .spawn()
        .expect("docker save starts")
}
