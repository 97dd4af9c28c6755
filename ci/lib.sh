# Shared by ci/matrix and ci/demo: how a freestanding binary is built for one target.
# Source it; it defines build_freestanding and freestanding_path.

# Cross builds use the toolchain that ships the standard library's source: Debian's rustc-web
# (or a rustup nightly with rust-src, chosen by the caller through RUSTC).
export RUSTC=${RUSTC:-/usr/bin/rustc}
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/matrix}

# linker_for TARGET: the linker column of ci/targets.
linker_for() {
  awk -v t="$1" '$1 == t { print $4 }' ci/targets
}

# build_freestanding BINARY TARGET: builds tests/freestanding's bin BINARY (or the demo example)
# with -Zbuild-std=core as a static, position-dependent binary entered at _start.
build_freestanding() {
  local binary=$1 target=$2 linker kind
  linker=$(linker_for "$target")
  if [ -z "$linker" ]; then
    echo "ci: $target is not in ci/targets" >&2
    return 2
  fi
  if [ "$binary" = demo ]; then kind=(--example demo); else kind=(--bin "$binary"); fi
  local flags="-C linker=$linker -C linker-flavor=ld -C relocation-model=static"
  flags+=" -C link-arg=--entry=_start -C link-arg=-static -C link-arg=--gc-sections"
  # Freestanding and panic=abort: no unwind tables, no RELRO segment, no build id.
  flags+=" -C force-unwind-tables=no -C link-arg=-znorelro -C link-arg=--build-id=none"
  # Warnings are errors here too: clippy -D warnings only sees the host's arch file. (Lints in
  # the build-std crates are capped by cargo, so this reaches rawpoll and the runners only.)
  flags+=" -D warnings"
  # The aarch64 conformance runner is built with SVE, so that its register probe runs where the
  # compiler may keep SVE predicates live across the trap (the kernel zeroes them; the stub
  # declares them). It still runs without SVE (LLVM emits no SVE code for it, and the probe asks
  # prctl before touching SVE); qemu-aarch64's default CPU and qemu-system's `-cpu max` have it.
  if [ "$binary" = conformance ] && [[ $target == aarch64-* ]]; then
    flags+=" -C target-feature=+sve"
  fi
  RUSTFLAGS="$flags" cargo build --quiet -p rawpoll-freestanding "${kind[@]}" \
    --profile freestanding --target "$target" \
    -Zbuild-std=core -Zbuild-std-features=compiler-builtins-mem
}

# freestanding_path BINARY TARGET: where build_freestanding put it.
freestanding_path() {
  if [ "$1" = demo ]; then
    echo "$CARGO_TARGET_DIR/$2/freestanding/examples/demo"
  else
    echo "$CARGO_TARGET_DIR/$2/freestanding/$1"
  fi
}

# stripped_size FILE: the size in bytes of FILE after `strip` (symbols and .comment removed).
stripped_size() {
  local tmp
  tmp=$(mktemp)
  strip -R .comment -o "$tmp" "$1" 2>/dev/null || cp "$1" "$tmp"
  stat -c %s "$tmp"
  rm -f "$tmp"
}

# newest_llvm_objdump: the newest llvm-objdump on PATH (older ones lack LoongArch); empty if none.
# ci/setup brings llvm-22's with rustc-web.
newest_llvm_objdump() {
  compgen -c llvm-objdump | sort -t- -k3 -n | tail -n 1 || true
}
