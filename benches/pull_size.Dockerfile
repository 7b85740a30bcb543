# The image of the pull-size benchmark (benches/pull_size.rs): about 500 MB of what images are
# made of, a Debian base with compilers, headers and an interpreter.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc g++ make libc6-dev python3 perl \
 && rm -rf /var/lib/apt/lists/*
