# shellcheck shell=bash
# What the ci/ scripts share. Source it (`. ci/lib.sh`); it only defines functions and variables:
#   the target table:  for_each_target, target_field (ci/targets, read by column name)
#   scripts:           ci_trap (never end silently)
#   building:          build_std_env, build_freestanding, build_reported, freestanding_path,
#                      stripped_size, newest_llvm_objdump
#   the build cache:   build_cache_hold, build_cache_trim
#   packages:          apt_install, apt_missing, qemu_suite, debian_mirror, apt_source_line,
#                      apt_source_stanza, private_apt_state, apt_download
#   cache keys:        hash_of

ci_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Nothing the scripts build on may come from rustup's servers (only the package registries are
# reachable by promise): any rustup download, a component, a target or a toolchain, whoever asks
# for it (cross does, unasked), fails at once against this address instead of fetching. The
# pinned toolchain's rustc, cargo, clippy and rustfmt are the machine's own.
export RUSTUP_DIST_SERVER=http://127.0.0.1:9

# --- The target table ---------------------------------------------------------------------------

# targets_awk [AWK-OPTION...] PROGRAM: runs PROGRAM over the rows of ci/targets (not comments,
# blank lines or the header) with col["NAME"] the index of the column NAME, so $col["cpu"] is the
# row's cpu. A row with more or fewer fields than the header is an error.
targets_awk() {
  local opts=("${@:1:$#-1}") program=${*: -1}
  awk "${opts[@]}" '
    /^[ \t]*(#|$)/ { next }
    !ncol { ncol = NF; for (i = 1; i <= NF; i++) col[$i] = i; next }
    NF != ncol {
      printf "ci/targets:%d: %d fields, the header names %d columns\n", FNR, NF, ncol > "/dev/stderr"
      broken = 1
      exit 2
    }
    '"$program" "$ci_dir/targets"
}

# for_each_target [FILTER...] [TARGET...]: prints, one a line and in the table's order, the
# targets that pass every FILTER (COLUMN=VALUE, COLUMN!=VALUE or COLUMN~REGEX) and, if any TARGET
# is named, are among those named. A TARGET or a COLUMN not in the table is an error.
#   for t in $(for_each_target role=matrix); do ...; done
for_each_target() {
  local filters=() names=() a
  for a; do
    case $a in *=* | *~*) filters+=("$a") ;; *) names+=("$a") ;; esac
  done
  targets_awk -v filters="$(printf '%s\n' "${filters[@]}")" -v names="${names[*]}" '
    !started {
      started = 1
      nf = 0
      n = split(filters, raw, "\n")
      for (i = 1; i <= n; i++) {
        if (raw[i] == "") continue
        match(raw[i], /!=|=|~/)
        nf++
        fc[nf] = substr(raw[i], 1, RSTART - 1); fo[nf] = substr(raw[i], RSTART, RLENGTH)
        fv[nf] = substr(raw[i], RSTART + RLENGTH)
        if (!(fc[nf] in col)) { print "ci/targets: no column " fc[nf] > "/dev/stderr"; bad = 1; exit 2 }
      }
      nn = split(names, want, " ")
      for (i = 1; i <= nn; i++) asked[want[i]] = 1
    }
    {
      t = $col["target"]; known[t] = 1
      for (i = 1; i <= nf; i++) {
        v = $col[fc[i]]
        if ((fo[i] == "=" && v != fv[i]) || (fo[i] == "!=" && v == fv[i]) || (fo[i] == "~" && v !~ fv[i])) next
      }
      if (nn == 0 || t in asked) print t
    }
    END {
      if (bad || broken) exit 2
      for (i = 1; i <= nn; i++) if (!(want[i] in known)) { print "ci/targets: no target " want[i] > "/dev/stderr"; bad = 1 }
      if (bad) exit 2
    }'
}

# target_field TARGET COLUMN...: the values of the columns in TARGET's row, separated by a space
# ("-" for an empty field, as written). Fails if there is no such target or column.
#   read -r qemu machine < <(target_field "$t" sysqemu machine)
target_field() {
  local target=$1
  shift
  targets_awk -v t="$target" -v want="$*" '
    $col["target"] == t {
      n = split(want, w, " ")
      out = ""
      for (i = 1; i <= n; i++) {
        if (!(w[i] in col)) { print "ci/targets: no column " w[i] > "/dev/stderr"; found = 1; exit 2 }
        out = out (i > 1 ? " " : "") $col[w[i]]
      }
      print out
      found = 1
      exit
    }
    END { if (broken) exit 2; if (!found) { print "ci/targets: no target " t > "/dev/stderr"; exit 2 } }'
}

# --- Scripts ------------------------------------------------------------------------------------

# ci_trap NAME: never end silently: on an error that stops the script (set -e), name the command
# and line (with set -E: also inside functions and subshells).
ci_trap() {
  # shellcheck disable=SC2064 # NAME is fixed now, the rest expands when the trap runs.
  trap "echo \"$1: stopped at line \$LINENO (exit \$?): \$BASH_COMMAND\" >&2" ERR
}

# --- Building -----------------------------------------------------------------------------------

# build_std_env [--unwind | ""]: the environment of a -Zbuild-std build: the toolchain that ships the
# standard library's source, Debian's rustc-web (or a rustup nightly with rust-src, chosen by the
# caller through RUSTC), with nightly features allowed. --unwind, for `cargo test -Zbuild-std`:
# CARGO_PROFILE_DEV_PANIC=unwind, since the crate's dev profile says panic = "abort", which makes
# -Zbuild-std build core twice ("duplicate lang item", cargo issue 7359), and the test harness
# needs unwinding anyway.
# shellcheck disable=SC2120 # the argument is optional
build_std_env() {
  export RUSTC=${RUSTC:-/usr/bin/rustc}
  export RUSTC_BOOTSTRAP=1
  if [ "${1:-}" = --unwind ]; then export CARGO_PROFILE_DEV_PANIC=unwind; fi
}

# --- The build cache ----------------------------------------------------------------------------

# Cargo build directories (cargo's build.build-dir: every intermediate artifact) kept on this
# machine across runs and clones, for the builds a fresh clone would otherwise repeat: the
# standard library compiled from rust-src for each foreign target (-Zbuild-std) and the registry's
# crates. $RAWPOLL_BUILD_CACHE, by default /var/cache/rawpoll/build (beside ci/kernels' kernels;
# target/build-cache where /var/cache is not writable); one directory per script. The final
# artifacts stay in the clone's own target directory. Cargo's fingerprints decide what is reused,
# with one gap this closes: cargo names the workspace's own packages by their path within the
# workspace and tracks their files by modification time, so a clone whose files are older than
# another clone's build there would take that build as its own. So whoever builds in a cache
# directory holds its lock (flock) while building and running what it built, and when the
# directory was last used by another clone, first deletes the fingerprints of the workspace's
# packages (rawpoll*): they are then built from this clone's files. What is reused comes from
# outside the clone (/usr/lib/rustlib/src, ~/.cargo/registry), with rustc's version and the flags
# in its fingerprint. A machine without the cache builds everything, as a fresh machine does.
if [ -n "${RAWPOLL_BUILD_CACHE:-}" ]; then
  build_cache=$RAWPOLL_BUILD_CACHE
elif [ -w /var/cache ]; then
  build_cache=/var/cache/rawpoll/build
else
  build_cache=$(cd "$ci_dir/.." && pwd)/target/build-cache
fi

# build_cache_claim NAME: for the rest of the calling process (a script, or a subshell), holds
# the lock of the cache's NAME directory (file descriptor 9: a second claim in the same process
# lets the first go) and sets build_cache_dir to it; the workspace's fingerprints there are
# deleted first if another clone built there last.
build_cache_claim() {
  local dir=$build_cache/$1 me owner
  mkdir -p "$dir" || return 1
  exec 9>"$dir.lock" || return 1
  flock 9 || return 1
  me=$(cd "$ci_dir/.." && pwd -P)
  owner=$(cat "$dir.owner" 2>/dev/null || true)
  if [ "$owner" != "$me" ]; then
    find "$dir" -path '*/.fingerprint/rawpoll*' -prune -exec rm -rf {} + || return 1
    echo "$me" >"$dir.owner" || return 1
  fi
  build_cache_dir=$dir
}

# build_cache_hold NAME: build_cache_claim NAME, and cargo builds there (CARGO_BUILD_BUILD_DIR).
build_cache_hold() {
  build_cache_claim "$1" || return 1
  export CARGO_BUILD_BUILD_DIR=$build_cache_dir
}

# build_cache_trim: empties the cache when it holds more than $RAWPOLL_BUILD_CACHE_MAX_MB
# (default 20000: about 5 GB for the freestanding and host builds, 7 for ci/cross's two target
# directories), which each target's std and each script's builds of the crate can reach over
# time. The next run then builds as on a fresh machine. ci/test calls it first.
build_cache_trim() {
  local max=${RAWPOLL_BUILD_CACHE_MAX_MB:-20000} used
  [ -d "$build_cache" ] || return 0
  used=$(du -sm "$build_cache" | cut -f1)
  if [ "$used" -gt "$max" ]; then
    echo "build cache: $used MB in $build_cache, more than $max MB: emptied"
    rm -rf "${build_cache:?}"/*
  fi
}

# Where build_freestanding puts its binaries: $CARGO_TARGET_DIR if the caller set one, else
# target/matrix; it builds in the build cache's `matrix` directory.
freestanding_dir=${CARGO_TARGET_DIR:-target/matrix}

# is_freestanding_example BINARY: is BINARY one of tests/freestanding's examples (the demo, the
# echo) rather than one of its bins?
is_freestanding_example() {
  [ -f "$ci_dir/../tests/freestanding/examples/$1.rs" ]
}

# build_freestanding BINARY TARGET: builds tests/freestanding's bin or example BINARY with
# -Zbuild-std=core as a static, position-dependent binary entered at _start, linked by the
# target's linker column.
build_freestanding() {
  local binary=$1 target=$2 linker kind
  linker=$(target_field "$target" linker) || return 2
  build_std_env ""
  if is_freestanding_example "$binary"; then kind=(--example "$binary"); else kind=(--bin "$binary"); fi
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
  # Cargo puts the binary in the clone's target directory (its uplift) before the lock is let go,
  # so another clone's build there cannot replace it under its caller.
  (
    build_cache_hold matrix &&
      CARGO_TARGET_DIR=$freestanding_dir RUSTFLAGS="$flags" cargo build --quiet \
        -p rawpoll-freestanding "${kind[@]}" --profile freestanding --target "$target" \
        -Zbuild-std=core -Zbuild-std-features=compiler-builtins-mem
  )
}

# build_reported BINARY TARGET LABEL LOG: build_freestanding with its output in LOG; if the build
# fails, prints "LABEL: BUILD FAILED (see LOG)" and LOG's last 20 lines, and fails.
build_reported() {
  build_freestanding "$1" "$2" >"$4" 2>&1 && return 0
  echo "$3: BUILD FAILED (see $4)"
  tail -n 20 "$4" | sed 's/^/    /'
  return 1
}

# freestanding_path BINARY TARGET: where build_freestanding put it.
freestanding_path() {
  if is_freestanding_example "$1"; then
    echo "$freestanding_dir/$2/freestanding/examples/$1"
  else
    echo "$freestanding_dir/$2/freestanding/$1"
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

# --- Packages -----------------------------------------------------------------------------------
# Every package the scripts install goes through apt_install (ci/kernels' apt-get download of
# packages it unpacks, and its private apt state, aside). Suites the machine does not list
# (bookworm-backports here; trixie and sid in ci/kernels' private apt state) are served by the
# mirror the machine's own sources already use (debian_mirror), which may be a local one: no
# mirror's name is written into this repository.

# apt_missing PACKAGE...: those of the packages that are not installed, one a line.
apt_missing() {
  local p
  for p; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

# apt_install [--suite SUITE] [--no-recommends] PACKAGE...: installs the packages (nothing to do
# with none), from SUITE if given (its source added from debian_mirror, and apt-get -t SUITE).
# Runs apt-get update once per script (again after adding a source), and waits up to 10 minutes
# for another apt or dpkg to let go of its lock.
apt_updated=
apt_install() {
  local suite='' opts=(-y -qq -o=Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=600)
  while [ $# -gt 0 ]; do
    case $1 in
      --suite) suite=$2; shift 2 ;;
      --no-recommends) opts+=(--no-install-recommends); shift ;;
      *) break ;;
    esac
  done
  [ $# -gt 0 ] || return 0
  if [ -n "$suite" ]; then
    local list=/etc/apt/sources.list.d/rawpoll-$suite.list line
    line=$(apt_source_line "$suite") || return 1
    if [ "$(cat "$list" 2>/dev/null)" != "$line" ]; then
      echo "$line" >"$list"
      apt_updated=
    fi
    opts+=(-t "$suite")
  fi
  if [ -z "$apt_updated" ]; then
    timeout 600 apt-get update -qq -o DPkg::Lock::Timeout=600 >/dev/null
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install "${opts[@]}" "$@" >/dev/null
}

# qemu_suite: the suite qemu 10 comes from (qemu-user and qemu-system): bookworm-backports on
# Debian 12, whose own 7.2 cannot run LoongArch LSX code nor has the loongarch64 virt board;
# nothing (the release itself) elsewhere.
qemu_suite() {
  if grep -q '^VERSION_CODENAME=bookworm' /etc/os-release; then echo bookworm-backports; fi
}

# debian_mirror: the archive URI this machine's apt uses for its own release (the first `deb`
# source, one-line or deb822, in /etc/apt/sources.list and sources.list.d/*.list|*.sources whose
# suites include the release's codename; rawpoll's own rawpoll-*.list files are not asked),
# without a trailing slash. Fails if there is none. (RAWPOLL_APT_ETC: another /etc/apt, to try it.)
debian_mirror() {
  local codename files=() f uri etc=${RAWPOLL_APT_ETC:-/etc/apt}
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -f "$etc/sources.list" ] && files+=("$etc/sources.list")
  for f in "$etc"/sources.list.d/*.list "$etc"/sources.list.d/*.sources; do
    [ -f "$f" ] && [[ ${f##*/} != rawpoll-* ]] && files+=("$f")
  done
  [ ${#files[@]} -eq 0 ] || uri=$(awk -v want="$codename" '
    function has(list, word,   n, a, i) {
      n = split(list, a, /[ \t]+/)
      for (i = 1; i <= n; i++) if (a[i] == word) return 1
      return 0
    }
    # The end of a deb822 stanza: print its first URI if it is an enabled deb source of the release.
    function stanza_end(   u) {
      if (has(types, "deb") && has(suites, want) && enabled != "no" && uris != "") {
        split(uris, u, /[ \t]+/); print u[1]; found = 1; exit
      }
      types = suites = uris = enabled = ""
    }
    FNR == 1 { stanza_end(); deb822 = FILENAME ~ /\.sources$/ }
    /^[ \t]*#/ { next }
    !deb822 {
      if ($1 != "deb") next
      i = 2
      if ($2 ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
      if ($(i + 1) == want) { print $i; found = 1; exit }
      next
    }
    /^[ \t]*$/ { stanza_end(); next }
    /^[^ \t]/ {
      key = tolower($0); sub(/:.*/, "", key)
      val = $0; sub(/^[^:]*:[ \t]*/, "", val); sub(/[ \t]+$/, "", val)
      if (key == "types") types = val
      else if (key == "uris") uris = val
      else if (key == "suites") suites = val
      else if (key == "enabled") enabled = tolower(val)
    }
    END { if (!found) stanza_end() }' "${files[@]}")
  if [ -z "${uri:-}" ]; then
    echo "ci: no apt source for ${codename:-this release} in /etc/apt/sources.list{,.d}: cannot tell which mirror serves the extra suites" >&2
    return 1
  fi
  echo "${uri%/}"
}

# apt_source_line SUITE: the one-line source of SUITE's main component on debian_mirror.
apt_source_line() {
  local mirror
  mirror=$(debian_mirror) || return 1
  echo "deb $mirror $1 main"
}

# private_apt_state DIR [ARCHITECTURE...]: an apt state of its own under DIR (sources in
# DIR/sources, lists, status and downloaded archives; the architectures given, else the machine's),
# so foreign suites and architectures never reach the machine's apt: apt-get and apt-cache run
# with APT_CONFIG=DIR/apt.conf read it (ci/kernels' Debian kernels, ci/cross's rust-src).
private_apt_state() {
  local dir=$1
  shift
  mkdir -p "$dir/sources" "$dir/lists/partial" "$dir/archives/partial" || return 1
  touch "$dir/status"
  {
    echo "Dir::Etc::SourceList \"/dev/null\";"
    echo "Dir::Etc::SourceParts \"$dir/sources\";"
    echo "Dir::State::Lists \"$dir/lists\";"
    echo "Dir::State::status \"$dir/status\";"
    echo "Dir::Cache \"$dir\";"
    echo "Dir::Cache::archives \"$dir/archives\";"
    echo "Acquire::Languages \"none\";"
    if [ $# -ne 0 ]; then echo "APT::Architectures { $(printf '"%s"; ' "$@")};"; fi
  } >"$dir/apt.conf"
}

# hash_of: the first 16 hex digits of the SHA-256 of stdin: the cache keys of ci/kernels and
# ci/cross.
hash_of() { sha256sum | cut -c1-16; }

# apt-get download into a root-only directory: no _apt sandbox user.
apt_download=(apt-get download -qq -o APT::Sandbox::User=root)

# apt_source_stanza SUITE ARCHITECTURES: the deb822 source of SUITE's main component on
# debian_mirror, for those architectures (ci/kernels' private apt state).
apt_source_stanza() {
  local mirror
  mirror=$(debian_mirror) || return 1
  printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nArchitectures: %s\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$mirror" "$1" "$2"
}
