# One stage, like single.Dockerfile, with the same work and the same clean-up, but all of it in the
# one RUN that installs: the toolchain, the CPython source and the package lists are deleted
# before that RUN's layer is committed, so no layer carries them. Against single this is the
# effect of layer hygiene alone; against multi, the effect of multi-stage alone. The build
# dependencies stay installed, as in single (autoremove does not remove what was asked for).
FROM debian:bookworm-slim

# Debian source package compiled into /usr/local (python3.11 by default; see scenario.toml).
ARG SOURCE_PACKAGE=python3.11
ARG BUILD_DEPS="build-essential xz-utils zlib1g-dev libssl-dev libffi-dev libbz2-dev liblzma-dev libsqlite3-dev libreadline-dev libncurses-dev libgdbm-dev uuid-dev"
ARG CONFIGURE_FLAGS=""
ARG MAKE_JOBS=2

# No WORKDIR for the sources: the directory WORKDIR made would stay in its own layer.
RUN apt-get update && apt-get install -y --no-install-recommends $BUILD_DEPS \
 && if [ -f /etc/apt/sources.list ]; then sed -n 's/^deb \(.*\)$/deb-src \1/p' /etc/apt/sources.list > /etc/apt/sources.list.d/deb-src.list; fi \
 && if [ -f /etc/apt/sources.list.d/debian.sources ]; then sed -i 's/^Types: deb$/Types: deb deb-src/' /etc/apt/sources.list.d/debian.sources; fi \
 && mkdir -p /tmp/src && cd /tmp/src \
 && apt-get update && apt-get source --download-only "$SOURCE_PACKAGE" \
 && tar -xf "$(ls ./*.orig.tar.* | head -n 1)" && mv "$(find . -mindepth 1 -maxdepth 1 -type d | head -n 1)" build \
 && cd build && ./configure --prefix=/usr/local $CONFIGURE_FLAGS \
 && make -j"$MAKE_JOBS" && make install \
 && apt-get install -y --no-install-recommends nodejs \
 && apt-get autoremove -y \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* \
 && cd / && rm -rf /tmp/src

WORKDIR /app
COPY app/ /app/
CMD ["node", "/app/main.js"]
