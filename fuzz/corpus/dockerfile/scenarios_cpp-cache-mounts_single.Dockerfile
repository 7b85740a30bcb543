# One stage: g++, make and the Boost headers stay in the image with the sources and objects.
FROM debian:bookworm-slim
ARG OPT="-O2"
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ make libboost-dev libboost-program-options-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY app/ /src/
RUN make -j2 OPT="$OPT" BUILD=/src/build && install build/logstat /usr/local/bin/ \
 && logstat access.log
CMD ["logstat", "--help"]
