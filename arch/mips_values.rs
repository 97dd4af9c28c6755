//! The values MIPS numbers its own way, o32 and n64 alike (arch/mips/include/uapi/asm/: fcntl.h,
//! signal.h, resource.h, errno.h); the rest as everywhere (`values.rs`).

pub(crate) use super::values::*;

/// `O_NONBLOCK`.
pub(crate) const EFD_NONBLOCK: u32 = 0x80;
pub(crate) const SIGCHLD: u32 = 18;
pub(crate) const RLIMIT_NOFILE: u32 = 5;
/// `_NSIG / 8`: 128 signals.
pub(crate) const KERNEL_SIGSET_SIZE: usize = 16;
pub(crate) const ENOSYS: u16 = 89;
pub(crate) const ELOOP: u16 = 90;
pub(crate) const ETIMEDOUT: u16 = 145;
pub(crate) const ECANCELED: u16 = 158;
