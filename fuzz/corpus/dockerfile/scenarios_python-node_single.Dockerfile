# One stage, written the way the original was: install a toolchain, compile CPython from source,
# install Node.js, then clean up in separate RUN steps. Every layer stays in the image, so the
# clean-up steps hide files without making the image any smaller.
FROM debian:bookworm-slim

# Debian source package compiled into /usr/local (python3.11 by default; see scenario.toml).
ARG SOURCE_PACKAGE=python3.11
ARG BUILD_DEPS="build-essential xz-utils zlib1g-dev libssl-dev libffi-dev libbz2-dev liblzma-dev libsqlite3-dev libreadline-dev libncurses-dev libgdbm-dev uuid-dev"
ARG CONFIGURE_FLAGS=""
ARG MAKE_JOBS=2

RUN apt-get update && apt-get install -y --no-install-recommends $BUILD_DEPS

# Source packages come from the same archive as the image's binary packages: add a deb-src entry
# for every deb entry the image already has (one-line or deb822 format).
RUN if [ -f /etc/apt/sources.list ]; then sed -n 's/^deb \(.*\)$/deb-src \1/p' /etc/apt/sources.list > /etc/apt/sources.list.d/deb-src.list; fi \
 && if [ -f /etc/apt/sources.list.d/debian.sources ]; then sed -i 's/^Types: deb$/Types: deb deb-src/' /etc/apt/sources.list.d/debian.sources; fi

WORKDIR /tmp/src
RUN apt-get update && apt-get source --download-only "$SOURCE_PACKAGE"
RUN tar -xf "$(ls ./*.orig.tar.* | head -n 1)" && mv "$(find . -mindepth 1 -maxdepth 1 -type d | head -n 1)" build
WORKDIR /tmp/src/build
RUN ./configure --prefix=/usr/local $CONFIGURE_FLAGS
RUN make -j"$MAKE_JOBS" && make install

RUN apt-get install -y --no-install-recommends nodejs

RUN apt-get autoremove -y
RUN apt-get clean
RUN rm -rf /var/lib/apt/lists/*
RUN rm -rf /tmp/src

WORKDIR /app
COPY app/ /app/
CMD ["node", "/app/main.js"]
