# One stage: Node.js, the TypeScript compiler and esbuild (all from Debian's packages) stay in the
# image with the sources, and Node.js serves the bundle.
FROM debian:bookworm-slim
ARG TYPECHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs node-typescript esbuild \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY app/ /app/
RUN if [ "$TYPECHECK" = 1 ]; then tsc -p .; fi \
 && esbuild src/main.ts --bundle --minify --target=es2020 --outfile=dist/app.js \
 && cp index.html style.css dist/
EXPOSE 8080
CMD ["node", "server.js"]
