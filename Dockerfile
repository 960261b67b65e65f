# pr-risk as a GitHub container action (published as ghcr.io/massu-ai/pr-risk-action by
# .github/workflows/release.yml; action.yml runs that image).
#
# Build stage: a release build with the Rust toolchain. Runtime stage: Debian slim with CA
# certificates (HTTPS to the GitHub and Massu APIs; TLS is rustls, no OpenSSL) and git (fetching
# a missing base commit and the blobs of a partial clone) — no compiler.
# No USER (the runner mounts the workspace and the file-command files for root) and no WORKDIR in
# the runtime stage (the runner sets the working directory to the workspace).

FROM rust:1-bookworm AS build
# The git revision `pr-risk --version` reports (.git is not part of the build context).
ARG PR_RISK_GIT_REV=unknown
ENV PR_RISK_GIT_REV=${PR_RISK_GIT_REV}
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin pr-risk \
 && strip target/release/pr-risk

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/pr-risk /usr/local/bin/pr-risk
ENTRYPOINT ["/usr/local/bin/pr-risk", "action"]
