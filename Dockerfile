# syntax=docker/dockerfile:1
# Multi-stage build: compile with the Rust toolchain, ship a small Debian runtime with the
# `jobtour` binary only, running as an unprivileged user.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Dependencies first, so that editing the code does not rebuild them.
COPY Cargo.toml Cargo.lock ./
# Build settings (SQLite's compile-time options, see .cargo/config.toml).
COPY .cargo .cargo
COPY domain/Cargo.toml domain/Cargo.toml
COPY migrations/Cargo.toml migrations/Cargo.toml
COPY api/Cargo.toml api/Cargo.toml
COPY tests/Cargo.toml tests/Cargo.toml
RUN mkdir -p domain/src migrations/src api/src tests/src \
 && touch domain/src/lib.rs migrations/src/lib.rs api/src/lib.rs tests/src/lib.rs \
 && echo 'fn main() {}' > api/src/main.rs \
 && cargo build --release --locked -p jobtour-api \
 && rm -rf domain/src migrations/src api/src tests/src
COPY domain domain
COPY migrations migrations
COPY api api
COPY tests/src tests/src
# Make sure the real sources are newer than the placeholder build.
RUN touch domain/src/lib.rs migrations/src/lib.rs api/src/lib.rs api/src/main.rs \
 && cargo build --release --locked -p jobtour-api

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --create-home jobtour
COPY --from=build /src/target/release/jobtour /usr/local/bin/jobtour
USER jobtour
WORKDIR /app
ENV JOBTOUR_BIND=0.0.0.0:8080 \
    JOBTOUR_LOG_FORMAT=json \
    RUST_LOG=info
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["jobtour"]
CMD ["serve"]
