# One stage: the compilers and Python headers that build the C extension ship in the image.
FROM debian:bookworm-slim
ARG CFLAGS="-O2"
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-dev python3-pip python3-setuptools python3-wheel gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY app/ /app/
RUN CFLAGS="$CFLAGS" pip3 install --break-system-packages --no-index --no-build-isolation --no-deps /app \
 && cd / && python3 -c "import fastcount; assert fastcount.count_words('a b a')['a'] == 2"
EXPOSE 8000
CMD ["python3", "/app/server.py"]
