# Dockerfile: msgcmd behind lighttpd, as `make run` starts it, for
# deploy/compose.yaml or any container runtime.  Kafka and the key are
# not in the image: set BOOTSTRAP_SERVERS and one of KEYCLOAK_PUBLIC_KEY,
# KEYCLOAK_PUBLIC_KEY_FILE, KEYCLOAK_JWKS_FILE or KEYCLOAK_JWKS_URL
# (README, Configuration).
# tests/integration/t05-dockerfile.sh checks what can be checked of this
# file without a Docker engine.

# --- build: the same steps as `make` on a fresh Debian 12 ---------------------
FROM debian:bookworm AS build
WORKDIR /src
COPY . /src
# deps.sh installs the build and test packages with apt-get (we are
# root here).  build/msgcmd-rebuild is named because it is shipped too.
# The unit tests need no broker and take about half a minute.
RUN scripts/deps.sh \
    && make all lint build/msgcmd-rebuild \
    && tests/run-unit.sh build/tests/test_*

# --- runtime: lighttpd, the responders and their shared libraries -------------
FROM debian:bookworm-slim
# One package per shared library of the binaries (t05 compares them with
# `ldd`), lighttpd, and curl for the health check.  lsb-base satisfies
# lighttpd's "systemd-sysv | lsb-base" without pulling in systemd.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       lighttpd lsb-base libfcgi0ldbl libjson-c5 libsqlite3-0 librdkafka1 \
       libssl3 curl ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/msgcmd \
       --shell /usr/sbin/nologin msgcmd \
    && install -d -o msgcmd -g msgcmd -m 0700 /var/lib/msgcmd

COPY --from=build /src/build/msgcmd /src/build/msgcmd-relay \
     /src/build/msgcmd-rebuild /opt/msgcmd/build/
COPY --from=build /src/lighttpd.conf /opt/msgcmd/lighttpd.conf
# The image's own top file, where settings of this image alone go; the
# address and port come from BIND and PORT below, as lighttpd.conf reads.
RUN printf 'include "/opt/msgcmd/lighttpd.conf"\n' > /opt/msgcmd/docker.conf

# What lighttpd.conf reads (env.*) and where msgcmd keeps its state.
# The responders inherit this environment.  Logs go to the container's
# stderr.  In a container lighttpd must take connections from outside:
# BIND=0.0.0.0.
ENV MSGCMD_ROOT=/opt/msgcmd \
    MSGCMD_BUILD=build \
    MSGCMD_STATE=/var/lib/msgcmd \
    MSGCMD_ERRORLOG=/dev/stderr \
    BIND=0.0.0.0 \
    PORT=8000 \
    DATABASE_PATH=/var/lib/msgcmd/msgcmd.db \
    ENV_FILE=/dev/null

USER msgcmd
WORKDIR /var/lib/msgcmd
# The SQLite database (the outbox with it) must outlive the container.
VOLUME ["/var/lib/msgcmd"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS -o /dev/null "http://127.0.0.1:${PORT}/healthz" || exit 1
CMD ["lighttpd", "-D", "-f", "/opt/msgcmd/docker.conf"]
