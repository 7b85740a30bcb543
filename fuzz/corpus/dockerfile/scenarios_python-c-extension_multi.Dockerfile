# Two stages: a builder compiles the C extension into a wheel and installs it into /install; the
# runtime has Python alone (no compiler, headers or pip) and takes the installed package.
FROM debian:bookworm-slim AS build
ARG CFLAGS="-O2"
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-dev python3-pip python3-setuptools python3-wheel gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY app/setup.py /app/
COPY app/fastcount/ /app/fastcount/
RUN CFLAGS="$CFLAGS" pip3 wheel --no-index --no-build-isolation --no-deps --wheel-dir /wheels /app \
 && pip3 install --no-index --no-deps --target /install /wheels/*.whl

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /install/ /usr/local/lib/python3.11/dist-packages/
RUN cd / && python3 -c "import fastcount; assert fastcount.count_words('a b a')['a'] == 2"
COPY app/server.py /app/server.py
EXPOSE 8000
CMD ["python3", "/app/server.py"]
