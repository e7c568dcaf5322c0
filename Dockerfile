# syntax=docker/dockerfile:1
# Multi-stage: build a static binary, run it as non-root from a distroless image with a
# /data volume for the bbolt file.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/vpay88-sandbox . \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/vpay88-sandbox /vpay88-sandbox
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
# Listen on all interfaces inside the container; the state file lives on the volume.
ENV VPAY88_ADDR=0.0.0.0:8088 \
    VPAY88_DATA=/data/vpay88-sandbox.db
EXPOSE 8088
VOLUME ["/data"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=2s --retries=3 CMD ["/vpay88-sandbox", "healthcheck"]
ENTRYPOINT ["/vpay88-sandbox"]
CMD ["serve"]
