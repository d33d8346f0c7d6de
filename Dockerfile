# linkd image: one static binary on an empty base.
#
# This machine has no image registry, so the binary is built with the local Go
# toolchain first (no golang base image to pull) and copied in:
#
#   CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o build/linkd ./cmd/linkd
#   mkdir -p build/data && docker build -t linkd .
#   docker run -p 8080:8080 -v linkd:/data linkd
FROM scratch
COPY --chown=65534:65534 build/data /data
COPY build/linkd /linkd
USER 65534:65534
ENV LINKD_DATA_DIR=/data \
    LINKD_HTTP_ADDR=:8080 \
    LINKD_RAFT_ADDR=127.0.0.1:7000
VOLUME /data
EXPOSE 8080 7000
ENTRYPOINT ["/linkd", "serve"]
