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
//! | — (32-bit PowerPC, no Go port) | `powerpc-unknown-linux-gnu` | stable (1.95) |
#![no_std]
#![cfg_attr(
    any(
        target_arch = "mips",
        target_arch = "mips32r6",
        target_arch = "mips64",
        target_arch = "mips64r6",
        target_arch = "sparc64"
    ),
    feature(asm_experimental_arch)
)]
#![deny(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

#[path = "../arch/mod.rs"]
mod arch;

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
