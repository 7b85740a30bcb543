# The image of the pull-size benchmark (benches/pull_size.rs): about 500 MB of what images are
# made of (557 MB as built here): a Debian base with a C compiler, headers and interpreters.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc make libc6-dev python3 perl \
 && rm -rf /var/lib/apt/lists/*
