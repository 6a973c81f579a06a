# Multi-stage build of the artisan-commons binary. The image enables TLS
# to PostgreSQL (`postgres-tls`, which builds libpq with OpenSSL).
FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY .cargo .cargo
COPY domain domain
COPY persistence persistence
COPY api api
COPY migrations migrations
COPY src src
COPY tests tests
RUN cargo build --release --locked --features postgres-tls --bin artisan-commons

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/artisan-commons --create-home artisan
COPY --from=build /src/target/release/artisan-commons /usr/local/bin/artisan-commons
USER artisan
WORKDIR /var/lib/artisan-commons
ENV BIND_ADDR=0.0.0.0:8080 DATA_DIR=/var/lib/artisan-commons/data LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["artisan-commons"]
CMD ["serve"]
