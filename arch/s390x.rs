//! IBM Z: Go `s390x`, Rust `s390x-unknown-linux-gnu`.

use core::arch::asm;

// The values that differ between architectures: as most have them (values.rs), but for
// `CLONE_FLAGS_ARG` (at the end).
pub(crate) use super::values::*;

// System-call ABI, Linux s390x (sources: arch/s390/kernel/entry.S, system_call; arch/s390/
// kernel/syscall.c, __do_syscall):
// - instruction: `svc 0` (the number is then taken from r1, which works for every number;
//   `svc N` with the number in the instruction only reaches numbers below 256; syscall.c: a zero
//   immediate makes __do_syscall take the number from r1)
// - number: r1
// - arguments: r2, r3, r4, r5, r6, r7 (syscall.c: `regs->orig_gpr2`, `regs->gprs[3..7]`)
// - return: r2 (syscall.c: `regs->gprs[2] = ret`)
// - error: r2 in -4095..=-1 holds -errno
// - clobbered by the kernel: nothing but r2 (entry.S reloads r0-r15 from pt_regs on return);
//   the condition code comes back with the user PSW, which the return reloads whole
// Contract: see `crate::raw::syscall6`.
#[inline(always)]
pub(crate) unsafe fn syscall6(
    num: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
    a6: usize,
) -> (usize, usize) {
    let ret: usize;
    // SAFETY: the registers follow the ABI above; the caller vouches for the call itself.
    unsafe {
        asm!(
            "svc 0",
            in("r1") num,
            inlateout("r2") a1 => ret,
            in("r3") a2,
            in("r4") a3,
            in("r5") a4,
            in("r6") a5,
            in("r7") a6,
            options(nostack, preserves_flags),
        );
    }
    super::split_negated_result(ret)
}

// System-call numbers (arch/s390/kernel/syscalls/syscall.tbl, 64-bit entries).
// The socket calls are the direct ones Linux 4.3 added (359..373), not socketcall(102), which
// multiplexes them through one number.
pub(crate) const SYS_READ: usize = 3;
pub(crate) const SYS_WRITE: usize = 4;
pub(crate) const SYS_CLOSE: usize = 6;
pub(crate) const SYS_GETPID: usize = 20;
pub(crate) const SYS_KILL: usize = 37;
pub(crate) const SYS_IOCTL: usize = 54;
pub(crate) const SYS_FCNTL: usize = 55;
pub(crate) const SYS_REBOOT: usize = 88;
pub(crate) const SYS_WAIT4: usize = 114;
pub(crate) const SYS_CLONE: usize = 120;
pub(crate) const SYS_EXIT_GROUP: usize = 248;
pub(crate) const SYS_EPOLL_CTL: usize = 250;
pub(crate) const SYS_EPOLL_PWAIT: usize = 312;
pub(crate) const SYS_EVENTFD2: usize = 323;
pub(crate) const SYS_PIPE2: usize = 325;
pub(crate) const SYS_DUP3: usize = 326;
pub(crate) const SYS_EPOLL_CREATE1: usize = 327;
pub(crate) const SYS_PRLIMIT64: usize = 334;
pub(crate) const SYS_SOCKET: usize = 359;
pub(crate) const SYS_BIND: usize = 361;
pub(crate) const SYS_CONNECT: usize = 362;
pub(crate) const SYS_LISTEN: usize = 363;
pub(crate) const SYS_ACCEPT4: usize = 364;
pub(crate) const SYS_GETSOCKOPT: usize = 365;
pub(crate) const SYS_GETSOCKNAME: usize = 367;
pub(crate) const SYS_EPOLL_PWAIT2: usize = 441;

/// `clone`'s argument order, unlike values.rs: s390 is CLONE_BACKWARDS2, clone(stack, flags,
/// parent_tid, child_tid, tls).
pub(crate) const CLONE_FLAGS_ARG: usize = 1;
