//! # rawpoll
//!
//! Linux epoll and eventfd with no libc and no std: every system call goes through a hand-written
//! `asm!` stub, one per architecture, on every Linux architecture Go supports. On top of them,
//! [`netpoll`] offers the Go runtime's netpoller design without allocation.
//!
//! The crate has three layers:
//!
//! - [`raw`]: `syscall6`, which returns `(r1, errno)` exactly as Go's `Syscall6`, and the
//!   per-architecture system-call numbers and values;
//! - typed wrappers at the crate root ([`eventfd`], [`epoll_create1`], [`epoll_ctl`],
//!   [`epoll_pwait`], [`epoll_pwait2`], [`read`], [`write`](fn@write), [`close`], ...), each returning
//!   `Result<_, Errno>`, I/O safe: they create [`OwnedFd`]s and borrow through [`AsFd`] (see
//!   [`fd`]);
//! - [`netpoll`]: Go's `netpoll_epoll.go` as a `Sync` poller a runtime can keep in a `static`.
//!
//! Nothing in the library panics, allocates or aborts: every failure is an [`Errno`]. No safe
//! function can lead to undefined behaviour: the `unsafe` entry points are
//! [`raw::syscall6`], [`BorrowedFd::borrow_raw`] and [`FromRawFd::from_raw_fd`] (see
//! "Soundness" in [`netpoll`]).
//!
//! Features: `std` (off by default) makes [`fd`]'s types std's own `std::os::fd` ones, so that
//! std and other crates' descriptors pass straight in, and converts [`Errno`] into
//! `std::io::Error`.
//!
//! | Go `GOARCH` | Rust target | `asm!` on |
//! |---|---|---|
//! | `386` | `i686-unknown-linux-gnu` | stable |
//! | `amd64` | `x86_64-unknown-linux-gnu` | stable |
//! | `arm` | `armv7-unknown-linux-gnueabihf` (also `thumbv7neon-…`) | stable |
//! | `arm64` | `aarch64-unknown-linux-gnu` | stable |
//! | `loong64` | `loongarch64-unknown-linux-gnu` | stable |
//! | `mips`, `mipsle` | `mips-unknown-linux-gnu`, `mipsel-unknown-linux-gnu` | nightly |
//! | `mips64`, `mips64le` | `mips64-unknown-linux-gnuabi64`, `mips64el-unknown-linux-gnuabi64` | nightly |
//! | `ppc64`, `ppc64le` | `powerpc64-unknown-linux-gnu`, `powerpc64le-unknown-linux-gnu` | stable (1.95) |
//! | `riscv64` | `riscv64gc-unknown-linux-gnu` | stable |
//! | `s390x` | `s390x-unknown-linux-gnu` | stable |
#![no_std]
#![cfg_attr(
    any(target_arch = "mips", target_arch = "mips64"),
    feature(asm_experimental_arch)
)]
#![deny(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

cfg_if::cfg_if! {
    if #[cfg(not(target_os = "linux"))] {
        compile_error!("rawpoll talks to the Linux kernel and builds only for target_os = \"linux\"");
    } else if #[cfg(target_arch = "x86")] {
        #[path = "../arch/x86.rs"]
        mod arch;
    } else if #[cfg(target_arch = "x86_64")] {
        #[path = "../arch/x86_64.rs"]
        mod arch;
    } else if #[cfg(target_arch = "arm")] {
        #[path = "../arch/arm.rs"]
        mod arch;
    } else if #[cfg(target_arch = "aarch64")] {
        #[path = "../arch/aarch64.rs"]
        mod arch;
    } else if #[cfg(target_arch = "loongarch64")] {
        #[path = "../arch/loongarch64.rs"]
        mod arch;
    } else if #[cfg(target_arch = "mips")] {
        #[path = "../arch/mips.rs"]
        mod arch;
    } else if #[cfg(target_arch = "mips64")] {
        #[path = "../arch/mips64.rs"]
        mod arch;
    } else if #[cfg(target_arch = "powerpc64")] {
        #[path = "../arch/powerpc64.rs"]
        mod arch;
    } else if #[cfg(target_arch = "riscv64")] {
        #[path = "../arch/riscv64.rs"]
        mod arch;
    } else if #[cfg(target_arch = "s390x")] {
        #[path = "../arch/s390x.rs"]
        mod arch;
    } else {
        compile_error!("rawpoll supports the Linux architectures Go supports: x86, x86_64, arm, aarch64, loongarch64, mips, mips64, powerpc64, riscv64, s390x");
    }
}

#[cfg(any(test, feature = "std"))]
extern crate std;

mod errno;
mod event;
pub mod fd;
pub mod netpoll;
pub mod raw;
mod wrappers;

pub use errno::Errno;
pub use event::*;
pub use fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
pub use wrappers::*;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
