# Two stages: the same build, then only the binary (Boost linked statically) on the slim base.
# Every source edit recompiles every file: the compile RUN step starts from a fresh layer.
FROM debian:bookworm-slim AS build
ARG OPT="-O2"
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ make libboost-dev libboost-program-options-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY app/ /src/
RUN make -j2 OPT="$OPT" BUILD=/src/build && install build/logstat /usr/local/bin/ \
 && logstat access.log

FROM debian:bookworm-slim
COPY --from=build /usr/local/bin/logstat /usr/local/bin/logstat
CMD ["logstat", "--help"]
