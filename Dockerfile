# syntax=docker/dockerfile:1
# The vpay88-sandbox image: a static binary, run as non-root from distroless, with a
# /data volume for the bbolt state file.
#
#   docker build -t vpay88-sandbox .
#   docker buildx build --platform linux/amd64,linux/arm64 --build-arg VERSION=v1.2.3 .
#
# The build stage runs on the builder's own platform and cross-compiles for the target
# (Go needs no emulator for that: CGO_ENABLED=0), so an arm64 image builds as fast as
# an amd64 one. Module and build caches are BuildKit cache mounts: a change to the
# source recompiles only what changed.
#
# Bases are pinned by the digest of their multi-platform index (the tag is kept to say
# what it is). To move to newer ones, read the digests with
#   docker buildx imagetools inspect golang:1.26-bookworm
#   docker buildx imagetools inspect gcr.io/distroless/static-debian12:nonroot
# and replace both here; or give --build-arg GO_IMAGE=… / RUNTIME_IMAGE=….
ARG GO_IMAGE=golang:1.26-bookworm@sha256:b305420a68d0f229d91eb3b3ed9e519fcf2cf5461da4bef997bf927e8c0bfd2b
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
WORKDIR /src
# go.mod names Go 1.26.8: a pinned image with an older 1.26 fetches that toolchain
# from the module proxy (into the module cache mount) instead of refusing to build.
ENV GOTOOLCHAIN=auto CGO_ENABLED=0 GOMODCACHE=/go/pkg/mod GOCACHE=/root/.cache/go-build
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=bind,source=go.mod,target=go.mod \
    --mount=type=bind,source=go.sum,target=go.sum \
    go mod download
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=bind,target=. \
    GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/vpay88-sandbox . \
 && mkdir -p /out/data

FROM ${RUNTIME_IMAGE}
ARG VERSION=dev
ARG REVISION=
ARG CREATED=
LABEL org.opencontainers.image.title="vpay88-sandbox" \
      org.opencontainers.image.description="A local, stateful stand-in for the Vpay88 payment gateway: vendor API, checkout page, signed callbacks, scenarios, admin API, dashboard" \
      org.opencontainers.image.source="https://github.com/vpay88/vpay88-sandbox" \
      org.opencontainers.image.url="https://github.com/vpay88/vpay88-sandbox" \
      org.opencontainers.image.documentation="https://github.com/vpay88/vpay88-sandbox/blob/main/docs/ci/README.md" \
      org.opencontainers.image.vendor="vpay88-sandbox" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
COPY --from=build /out/vpay88-sandbox /vpay88-sandbox
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
# Listen on all interfaces inside the container; the state file lives on the volume.
# serve writes the URL it really bound to VPAY88_ADDR_FILE and healthcheck reads it,
# so `serve --addr 0.0.0.0:9000` is probed at 9000, not at VPAY88_ADDR's 8088 (issue
# 21, trap 5). /tmp: --ephemeral runs have no state file to put it beside.
ENV VPAY88_ADDR=0.0.0.0:8088 \
    VPAY88_DATA=/data/vpay88-sandbox.db \
    VPAY88_ADDR_FILE=/tmp/vpay88-sandbox.addr
EXPOSE 8088
VOLUME ["/data"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=2s --retries=3 CMD ["/vpay88-sandbox", "healthcheck"]
ENTRYPOINT ["/vpay88-sandbox"]
CMD ["serve"]
