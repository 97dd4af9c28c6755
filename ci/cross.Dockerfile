# ci/cross's image for `cross test`, built from Debian packages only (no container registry).
# ci/cross makes the build context: BASE is a `debootstrap --variant=minbase` root imported with
# `podman import`; sources.list is written from the host's own apt sources; installs holds one
# `apt-get install` argument list per line (the cross gcc and libc6-dev of each target, qemu-user,
# and Debian's rustc-web with its standard library's source for -Zbuild-std); stds holds one
# Debian architecture a line whose prebuilt standard library (libstd-rust-web-dev, Multi-Arch:
# same) is unpacked into rustc-web's sysroot if the archive has it at exactly the image's rustc-web
# version (then that target needs no -Zbuild-std); config.toml gives each target its linker and its
# qemu-user runner. The image's tag is a hash of all five files.
ARG BASE
FROM ${BASE}
COPY sources.list /etc/apt/sources.list
COPY installs stds /tmp/
RUN apt-get update -qq \
 && while read -r args; do \
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $args || exit 1; \
    done </tmp/installs \
 && rustc -vV && cargo -V \
 && if [ -s /tmp/stds ]; then \
      version=$(dpkg-query -W -f '${Version}' rustc-web) \
      && for arch in $(cat /tmp/stds); do dpkg --add-architecture "$arch"; done \
      && apt-get update -qq \
      && mkdir /tmp/stds.d && cd /tmp/stds.d \
      && for arch in $(cat /tmp/stds); do \
           if apt-get download -qq "libstd-rust-web-dev:$arch=$version" 2>/dev/null; then \
             dpkg-deb -x libstd-rust-web-dev_*_"$arch".deb / && echo "std for $arch: $version"; \
           else \
             echo "std for $arch: none at $version"; \
           fi; \
         done \
      && cd / && rm -rf /tmp/stds.d; \
    fi \
 && ls /usr/lib/rustlib \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /tmp/installs /tmp/stds
# Every cargo in the container reads /.cargo/config.toml (/ is an ancestor of every directory).
COPY config.toml /.cargo/config.toml
