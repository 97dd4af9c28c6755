//! The values that differ between Linux architectures, as every architecture here has them but
//! two: each architecture file takes these, MIPS overrides nearly all of them (`mips_values.rs`)
//! and s390x the order of `clone`'s arguments (`s390x.rs`). The conformance runner checks each
//! against the kernel's headers (linux-raw-sys) for the target it is built for.

/// `O_NONBLOCK`, which `eventfd2` takes as its non-blocking flag (include/uapi/asm-generic/
/// fcntl.h).
pub(crate) const EFD_NONBLOCK: u32 = 0x800;
/// `O_CLOEXEC`, which `eventfd2` and `epoll_create1` take as their close-on-exec flag (include/
/// uapi/asm-generic/fcntl.h).
pub(crate) const O_CLOEXEC: u32 = 0x80000;
pub(crate) const SIGCHLD: u32 = 17;
pub(crate) const RLIMIT_NOFILE: u32 = 7;
/// `_NSIG / 8`: 64 signals.
pub(crate) const KERNEL_SIGSET_SIZE: usize = 8;
/// `clone(flags, stack, ...)`.
pub(crate) const CLONE_FLAGS_ARG: usize = 0;
pub(crate) const ENOSYS: u16 = 38;
pub(crate) const ELOOP: u16 = 40;
pub(crate) const ETIMEDOUT: u16 = 110;
pub(crate) const ECANCELED: u16 = 125;
