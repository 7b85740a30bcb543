# The original's rewritten form: Python and Node.js come from images prepared ahead of time (built
# once, untimed, from the stages of multi.Dockerfile; see [[prebuild]] in scenario.toml), and the
# build only assembles the final image from them.
FROM stagebench/python-node-prebuilt:python AS python
FROM stagebench/python-node-prebuilt:node AS node

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
