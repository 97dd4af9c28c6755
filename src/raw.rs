//! The raw layer: one system-call stub per architecture, and the per-architecture numbers.
//!
//! Everything here is a thin, documented view of `arch/` (the file of the target's ABI, and the
//! values it shares with others); the values differ between architectures, the names and meanings
//! do not.

use crate::arch;

/// Issues system call `num` with six arguments, exactly as Go's `Syscall6` does: returns
/// `(result, 0)` on success and `(usize::MAX, errno)` on failure, with `errno` positive on every
/// architecture, whether the kernel signals the error with a negative result (most), with a flag
/// register (MIPS `a3`), with a condition bit (PowerPC `cr0.SO`) or with the carry flag
/// (SPARC64: set in `xcc` and `icc`, the positive errno in `o0`).
///
/// Unused arguments should be passed as 0. The stub is `#[inline(always)]` and compiles to the
/// trap instruction plus the register moves the architecture needs.
///
/// # Safety
///
/// This is a raw system call: the caller must make sure the kernel may perform it. Pointers must
/// be valid for what the call reads or writes, and calls that change the process itself (exit,
/// clone, mmap, signal disposition, ...) carry their own obligations.
///
/// Nothing else is asked of the caller. On 32-bit x86 the stub calls the vDSO's
/// `__kernel_vsyscall` at an address that only these decide (no path, environment variable or
/// other process does):
/// - the auxiliary vector given to [`init_from_stack`] or [`use_auxv`], or the address given to
///   [`set_vsyscall_entry`], whose callers vouch for them;
/// - else, looked up on the first call: with the `std` feature, the C library's
///   `getauxval(AT_SYSINFO)` (its copy of the vector on the initial stack); without it, the
///   kernel's own copy through `prctl(PR_GET_AUXV)` (Linux 6.4), else `/proc/<pid>/auxv` of a
///   procfs checked at every step (a procfs root, its `self` naming this process, the file on
///   the same mount; statx's mount ID needs Linux 5.8), and only with the entry inside the
///   vDSO image the same copy names.
///
/// A lookup that fails (a full descriptor table, no procfs) or refuses what it read leaves
/// `int $0x80` for good: it is not tried again.
#[doc(alias = "Syscall6")]
#[inline(always)]
pub unsafe fn syscall6(
    num: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
    a6: usize,
) -> (usize, usize) {
    // SAFETY: the caller upholds this function's contract, which is the stub's.
    unsafe { arch::syscall6(num, a1, a2, a3, a4, a5, a6) }
}

/// Records where system calls enter the kernel, from the process's initial stack pointer (the
/// `esp`/`rsp`/`sp` the kernel started `_start` with, pointing at `argc`), for a freestanding
/// program that has its own entry point. Call it once, first thing, before any other thread
/// exists.
///
/// On 32-bit x86 it reads AT_SYSINFO from the auxiliary vector, after `argv` and `envp`, so that
/// [`syscall6`] enters through the vDSO's `__kernel_vsyscall` (about 23 times faster than
/// `int $0x80` on the machine of the README's benchmarks) from the first call; a program that
/// does not call it gets the same from a lookup on its first system call where that finds a
/// source it trusts (see [`syscall6`]). On every other architecture it does nothing and compiles
/// to nothing.
///
/// # Safety
///
/// `sp` must be the initial stack pointer the kernel gave the process, with the stack unchanged
/// since: on x86 the function reads the words it points to up to the end of the auxiliary
/// vector.
#[inline]
pub unsafe fn init_from_stack(sp: *const usize) {
    // SAFETY: the caller's promise.
    unsafe { arch::init_from_stack(sp) }
}

/// Like [`init_from_stack`], from the auxiliary vector itself (for a runtime that has already
/// found it): a list of `(key, value)` word pairs ended by the key `AT_NULL` (0). A no-op
/// everywhere but 32-bit x86.
///
/// # Safety
///
/// `auxv` must point to such a vector, readable up to and including its `AT_NULL` key.
#[inline]
pub unsafe fn use_auxv(auxv: *const usize) {
    // SAFETY: the caller's promise.
    unsafe { arch::use_auxv(auxv) }
}

/// On 32-bit x86, the address of the vDSO's `__kernel_vsyscall` that [`syscall6`] calls, or
/// `None` if it enters with `int $0x80` (the process has no vDSO, or [`set_vsyscall_entry`] asked
/// for it, or the lookup found nothing it trusts). If neither [`init_from_stack`] nor an earlier
/// system call has looked, this looks, once for the process (see [`syscall6`]'s "Safety" for
/// where). Always `None` on other architectures.
#[inline]
pub fn vsyscall_entry() -> Option<usize> {
    arch::vsyscall_entry()
}

/// Chooses how [`syscall6`] enters the kernel on 32-bit x86: `None` forces `int $0x80` (for
/// tests and benchmarks), `Some(address)` calls `address` as `__kernel_vsyscall`. A no-op on
/// other architectures.
///
/// # Safety
///
/// `address` must be the vDSO's `__kernel_vsyscall` of this process, as [`vsyscall_entry`]
/// returned it: every later system call, from any thread, calls it.
#[inline]
pub unsafe fn set_vsyscall_entry(address: Option<usize>) {
    // SAFETY: the caller's promise.
    unsafe { arch::set_vsyscall_entry(address) }
}

/// `read(2)`.
pub const SYS_READ: usize = arch::SYS_READ;
/// `write(2)`.
pub const SYS_WRITE: usize = arch::SYS_WRITE;
/// `close(2)`.
pub const SYS_CLOSE: usize = arch::SYS_CLOSE;
/// `getpid(2)`.
pub const SYS_GETPID: usize = arch::SYS_GETPID;
/// `kill(2)`.
pub const SYS_KILL: usize = arch::SYS_KILL;
/// `wait4(2)`. Not on 32-bit RISC-V, whose kernel has only `waitid(2)` (`wait4`'s `rusage` has
/// 32-bit times, and that ABI has none of the 32-bit-time calls).
#[cfg(not(target_arch = "riscv32"))]
pub const SYS_WAIT4: usize = arch::SYS_WAIT4;
/// `clone(2)`; its argument order differs between architectures, see [`CLONE_FLAGS_ARG`].
///
/// On SPARC the kernel returns the child's PID to the parent and the *parent's* PID to the
/// child, and tells them apart in `o1` (0 in the parent, 1 in the child), which `syscall6` does
/// not return: a caller compares the result with its own PID taken before the call (the
/// freestanding runners' `fork` does).
pub const SYS_CLONE: usize = arch::SYS_CLONE;
/// `exit_group(2)`.
pub const SYS_EXIT_GROUP: usize = arch::SYS_EXIT_GROUP;
/// `epoll_ctl(2)`.
pub const SYS_EPOLL_CTL: usize = arch::SYS_EPOLL_CTL;
/// `epoll_pwait(2)`.
pub const SYS_EPOLL_PWAIT: usize = arch::SYS_EPOLL_PWAIT;
/// `epoll_pwait2(2)` (Linux 5.11).
pub const SYS_EPOLL_PWAIT2: usize = arch::SYS_EPOLL_PWAIT2;
/// `eventfd2(2)`.
pub const SYS_EVENTFD2: usize = arch::SYS_EVENTFD2;
/// `epoll_create1(2)`.
pub const SYS_EPOLL_CREATE1: usize = arch::SYS_EPOLL_CREATE1;
/// `dup3(2)`.
pub const SYS_DUP3: usize = arch::SYS_DUP3;
/// `pipe2(2)`.
pub const SYS_PIPE2: usize = arch::SYS_PIPE2;
/// `fcntl(2)` (the plain one: enough for `F_GETFD`/`F_SETFL` on 32-bit targets too).
pub const SYS_FCNTL: usize = arch::SYS_FCNTL;
/// `prlimit64(2)`.
pub const SYS_PRLIMIT64: usize = arch::SYS_PRLIMIT64;
/// `reboot(2)` (the freestanding runners power the machine off with it when they run as `/init`).
pub const SYS_REBOOT: usize = arch::SYS_REBOOT;
/// `ioctl(2)` (the freestanding echo runner brings up `lo` with it when it runs as `/init`).
pub const SYS_IOCTL: usize = arch::SYS_IOCTL;
/// `socket(2)`: a direct system call on every supported target (32-bit x86 and s390x since Linux
/// 4.3; never through `socketcall(2)`).
pub const SYS_SOCKET: usize = arch::SYS_SOCKET;
/// `bind(2)`.
pub const SYS_BIND: usize = arch::SYS_BIND;
/// `listen(2)`.
pub const SYS_LISTEN: usize = arch::SYS_LISTEN;
/// `accept4(2)`.
pub const SYS_ACCEPT4: usize = arch::SYS_ACCEPT4;
/// `connect(2)`.
pub const SYS_CONNECT: usize = arch::SYS_CONNECT;
/// `getsockname(2)`.
pub const SYS_GETSOCKNAME: usize = arch::SYS_GETSOCKNAME;
/// `getsockopt(2)` (`SO_ERROR` after a non-blocking `connect`).
pub const SYS_GETSOCKOPT: usize = arch::SYS_GETSOCKOPT;

/// `SIGCHLD`: 17, or 18 on MIPS, 20 on SPARC.
pub const SIGCHLD: u32 = arch::SIGCHLD;
/// `RLIMIT_NOFILE`: 7, or 5 on MIPS, 6 on SPARC.
pub const RLIMIT_NOFILE: u32 = arch::RLIMIT_NOFILE;
/// The signal-set size the kernel insists on in `epoll_pwait`'s sixth argument (`_NSIG / 8`):
/// 8 bytes, or 16 on MIPS.
pub const KERNEL_SIGSET_SIZE: usize = arch::KERNEL_SIGSET_SIZE;
/// Which of `clone(2)`'s arguments holds the flags, the other of the first two being the new
/// stack: 0 everywhere but s390x, where the kernel takes `(stack, flags, ...)`.
pub const CLONE_FLAGS_ARG: usize = arch::CLONE_FLAGS_ARG;
