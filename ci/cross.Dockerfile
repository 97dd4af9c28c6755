# ci/cross's image for `cross test`, built from Debian packages only (no container registry).
# ci/cross makes the build context: BASE is a `debootstrap --variant=minbase` root imported with
# `podman import`; sources.list is written from the host's own apt sources; installs holds one
# `apt-get install` argument list per line (the cross gcc and libc6-dev of each target, qemu-user,
# and Debian's rustc-web with its standard library's source for -Zbuild-std); config.toml gives
# each target its linker and its qemu-user runner. The image's tag is a hash of all four files.
ARG BASE
FROM ${BASE}
COPY sources.list /etc/apt/sources.list
COPY installs /tmp/installs
RUN apt-get update -qq \
 && while read -r args; do \
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $args || exit 1; \
    done </tmp/installs \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /tmp/installs \
 && rustc -vV && cargo -V
# Every cargo in the container reads /.cargo/config.toml (/ is an ancestor of every directory).
COPY config.toml /.cargo/config.toml
