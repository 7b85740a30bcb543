# Multi-stage: the same work as single.Dockerfile split into a Python stage and a Node.js stage
# (BuildKit builds them in parallel); the final image starts again from the slim base and takes
# with COPY --from only what runs: the installed /usr/local, Node.js and the shared
# libraries both need that the base lacks. prebuilt.Dockerfile copies from these two stages
# published ahead of time as images (the [[prebuild]] entries of scenario.toml).

FROM debian:bookworm-slim AS python
ARG SOURCE_PACKAGE=python3.11
ARG BUILD_DEPS="build-essential xz-utils zlib1g-dev libssl-dev libffi-dev libbz2-dev liblzma-dev libsqlite3-dev libreadline-dev libncurses-dev libgdbm-dev uuid-dev"
ARG CONFIGURE_FLAGS=""
ARG MAKE_JOBS=2
# Outside /usr/local, which the final stage copies whole.
COPY runtime-libs.sh /opt/
RUN sh /opt/runtime-libs.sh record
RUN apt-get update && apt-get install -y --no-install-recommends $BUILD_DEPS
RUN if [ -f /etc/apt/sources.list ]; then sed -n 's/^deb \(.*\)$/deb-src \1/p' /etc/apt/sources.list > /etc/apt/sources.list.d/deb-src.list; fi \
 && if [ -f /etc/apt/sources.list.d/debian.sources ]; then sed -i 's/^Types: deb$/Types: deb deb-src/' /etc/apt/sources.list.d/debian.sources; fi
WORKDIR /tmp/src
RUN apt-get update && apt-get source --download-only "$SOURCE_PACKAGE"
RUN tar -xf "$(ls ./*.orig.tar.* | head -n 1)" && mv "$(find . -mindepth 1 -maxdepth 1 -type d | head -n 1)" build
WORKDIR /tmp/src/build
RUN ./configure --prefix=/usr/local $CONFIGURE_FLAGS
RUN make -j"$MAKE_JOBS" && make install
RUN sh /opt/runtime-libs.sh collect /runtime /usr/local

FROM debian:bookworm-slim AS node
COPY runtime-libs.sh /opt/
RUN sh /opt/runtime-libs.sh record
RUN apt-get update && apt-get install -y --no-install-recommends nodejs
RUN sh /opt/runtime-libs.sh collect /runtime /usr/bin/node

FROM debian:bookworm-slim
COPY --from=python /usr/local/ /usr/local/
COPY --from=python /runtime/ /
COPY --from=node /usr/bin/node /usr/bin/node
# Debian's Node.js loads some of its built-in modules from here at start-up.
COPY --from=node /usr/share/nodejs/ /usr/share/nodejs/
COPY --from=node /runtime/ /
WORKDIR /app
COPY app/ /app/
CMD ["node", "/app/main.js"]
