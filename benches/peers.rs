//! rawpoll against its peers (glibc through the libc crate, rustix, sc, mio, polling and a bare
//! inline-`asm!` baseline), driven by `ci/bench`.
//!
//! One binary, several modes (the first argument):
//!
//! - `insns list` / `insns NAME N`: runs the `#[inline(never)]` function `NAME` (one system
//!   call through one peer) `N` times, for `valgrind --tool=callgrind --toggle-collect=NAME`;
//!   `ci/bench` runs it with two values of `N` and divides the difference, which gives the
//!   user-space instructions of exactly one call (one-time costs such as lazy binding cancel).
//! - `wake PEER N`: `N` same-thread wake cycles through one peer, for `strace -c -f`.
//! - `nosleep count PEER N` / `nosleep wall [--smoke]`: wakes while no thread sleeps
//!   (`peers/nosleep.rs`).
//! - `wall [--smoke]`: the wall-clock metrics, peers interleaved round by round so that each
//!   ratio compares samples taken side by side; prints tab-separated result lines.
//! - no argument (as `cargo test --benches` runs it) or `--bench` (as `cargo bench` does): a
//!   quick `wall --smoke`.
//!
//! Only x86_64 has the bare-`asm!` baseline and the sc peer. On i686 the binary has only `wall`,
//! the vDSO row (benches/peers/i686.rs); elsewhere it says so and exits.

#[cfg(target_arch = "x86_64")]
#[path = "peers/alloc_count.rs"]
mod alloc_count;
#[cfg(target_arch = "x86_64")]
#[path = "peers/bare.rs"]
mod bare;
#[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
#[path = "peers/harness.rs"]
mod harness;
#[cfg(target_arch = "x86")]
#[path = "peers/i686.rs"]
mod i686;
#[cfg(target_arch = "x86_64")]
#[path = "peers/insns.rs"]
mod insns;
#[cfg(target_arch = "x86_64")]
#[path = "peers/netpoll_go.rs"]
#[allow(dead_code)] // the wake half only; benches/runtime.rs uses the rest
mod netpoll_go;
#[cfg(target_arch = "x86_64")]
#[path = "peers/nosleep.rs"]
mod nosleep;
#[cfg(target_arch = "x86_64")]
#[path = "peers/wake.rs"]
mod wake;
#[cfg(target_arch = "x86_64")]
#[path = "peers/wall.rs"]
mod wall;

#[cfg(target_arch = "x86_64")]
#[global_allocator]
static ALLOC: alloc_count::Counting = alloc_count::Counting;

#[cfg(target_arch = "x86_64")]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let code = match args.as_slice() {
        ["insns", "list"] => insns::list(),
        ["insns", name, n] => insns::run(name, n),
        ["wake", peer, n] => wake::run_cycles(peer, n),
        ["nosleep", "count", peer, n] => nosleep::count(peer, n),
        ["nosleep", "wall"] => nosleep::wall(false),
        ["nosleep", "wall", "--smoke"] => nosleep::wall(true),
        ["wall"] => wall::run(false),
        ["wall", "--smoke"] => wall::run(true),
        [] | ["--bench"] => wall::run(true),
        _ => {
            eprintln!(
                "usage: peers insns list | insns NAME N | wake PEER N | wall [--smoke] \
                 | nosleep count PEER N | nosleep wall [--smoke]"
            );
            2
        }
    };
    std::process::exit(code);
}

#[cfg(target_arch = "x86")]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["wall"] => i686::run(false),
        ["wall", "--smoke"] | [] | ["--bench"] => i686::run(true),
        _ => {
            eprintln!("usage: peers wall [--smoke] (i686: the vDSO row only)");
            2
        }
    };
    std::process::exit(code);
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "x86")))]
fn main() {
    println!("benches/peers: x86_64 and i686 only (bare asm baseline and sc); nothing measured");
}
