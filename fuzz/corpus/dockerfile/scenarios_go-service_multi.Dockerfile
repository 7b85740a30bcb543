# Two stages: compile a static binary with the toolchain, ship only the binary in an empty image.
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends golang-go \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY app/ .
RUN CGO_ENABLED=0 go build -ldflags="-s -w" -o /out/hello-service .

FROM scratch
COPY --from=build /out/hello-service /hello-service
EXPOSE 8080
CMD ["/hello-service"]
