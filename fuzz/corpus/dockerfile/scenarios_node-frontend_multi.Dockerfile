# Two stages: the same tools type-check and bundle the sources; the final image is busybox with
# only the built static files, served by its httpd.
FROM debian:bookworm-slim AS build
ARG TYPECHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs node-typescript esbuild \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY app/ /app/
RUN if [ "$TYPECHECK" = 1 ]; then tsc -p .; fi \
 && esbuild src/main.ts --bundle --minify --target=es2020 --outfile=dist/app.js \
 && cp index.html style.css dist/

FROM busybox:latest
COPY --from=build /app/dist/ /www/
EXPOSE 8080
CMD ["/bin/busybox", "httpd", "-f", "-v", "-p", "8080", "-h", "/www"]
