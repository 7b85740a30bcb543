# One stage: the image that compiles the service is the image that runs it, toolchain included.
# The binary is built exactly as multi builds it (static, stripped), so the two variants do the
# same work and differ only in what they ship.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends golang-go \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY app/ .
RUN CGO_ENABLED=0 go build -ldflags="-s -w" -o /usr/local/bin/hello-service .
EXPOSE 8080
CMD ["hello-service"]
