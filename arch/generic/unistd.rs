//! The asm-generic system-call table (include/uapi/asm-generic/unistd.h), shared by the
//! architectures that adopted it whole: aarch64, loongarch64 and riscv64, and riscv32 (its
//! 32-bit half, without the calls that take 32-bit times).

pub(crate) const SYS_EVENTFD2: usize = 19;
pub(crate) const SYS_EPOLL_CREATE1: usize = 20;
pub(crate) const SYS_EPOLL_CTL: usize = 21;
pub(crate) const SYS_EPOLL_PWAIT: usize = 22;
pub(crate) const SYS_DUP3: usize = 24;
pub(crate) const SYS_FCNTL: usize = 25;
pub(crate) const SYS_IOCTL: usize = 29;
pub(crate) const SYS_CLOSE: usize = 57;
pub(crate) const SYS_PIPE2: usize = 59;
pub(crate) const SYS_READ: usize = 63;
pub(crate) const SYS_WRITE: usize = 64;
pub(crate) const SYS_EXIT_GROUP: usize = 94;
pub(crate) const SYS_KILL: usize = 129;
pub(crate) const SYS_REBOOT: usize = 142;
pub(crate) const SYS_GETPID: usize = 172;
pub(crate) const SYS_SOCKET: usize = 198;
pub(crate) const SYS_BIND: usize = 200;
pub(crate) const SYS_LISTEN: usize = 201;
pub(crate) const SYS_CONNECT: usize = 203;
pub(crate) const SYS_GETSOCKNAME: usize = 204;
pub(crate) const SYS_GETSOCKOPT: usize = 209;
pub(crate) const SYS_CLONE: usize = 220;
pub(crate) const SYS_ACCEPT4: usize = 242;
// Only where time32 system calls exist or `long` is 64 bits: not on riscv32.
#[cfg(not(target_arch = "riscv32"))]
pub(crate) const SYS_WAIT4: usize = 260;
pub(crate) const SYS_PRLIMIT64: usize = 261;
pub(crate) const SYS_EPOLL_PWAIT2: usize = 441;
