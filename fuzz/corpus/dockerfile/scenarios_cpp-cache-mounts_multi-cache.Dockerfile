# multi.Dockerfile with the object directory in a BuildKit cache mount: the mount outlives the
# layer, so after a source edit make finds the other objects up to date and recompiles one file.
# (BuildKit only: the classic builder has no RUN --mount.)
FROM debian:bookworm-slim AS build
ARG OPT="-O2"
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ make libboost-dev libboost-program-options-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY app/ /src/
RUN --mount=type=cache,id=cpp-cache-mounts-objects,target=/cache \
    make -j2 OPT="$OPT" BUILD=/cache/build && install /cache/build/logstat /usr/local/bin/ \
 && logstat access.log

FROM debian:bookworm-slim
COPY --from=build /usr/local/bin/logstat /usr/local/bin/logstat
CMD ["logstat", "--help"]
