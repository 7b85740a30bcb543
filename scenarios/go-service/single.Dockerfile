# One stage: the image that compiles the service is the image that runs it, toolchain included.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends golang-go \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY app/ .
RUN go build -o /usr/local/bin/hello-service .
EXPOSE 8080
CMD ["hello-service"]
