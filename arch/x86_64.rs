//! x86-64: Go `amd64`, Rust `x86_64-unknown-linux-gnu`.

use core::arch::asm;

// The values that differ between architectures: as most have them (values.rs).
pub(crate) use super::values::*;

// System-call ABI, Linux x86-64 (sources: arch/x86/entry/entry_64.S, entry_SYSCALL_64 and its
// "Registers on entry" comment; arch/x86/entry/syscall_64.c, do_syscall_64):
// - instruction: `syscall`
// - number: rax (entry_64.S: `orig_ax`)
// - arguments: rdi, rsi, rdx, r10, r8, r9 (r10, not rcx, for the fourth; entry_64.S)
// - return: rax (do_syscall_64: `regs->ax`)
// - error: rax in -4095..=-1 holds -errno
// - clobbered by the kernel: rcx (user rip) and r11 (user rflags), which the `syscall`
//   instruction itself overwrites; rflags itself is restored from r11 by `sysret` (or from
//   pt_regs by `iret`), and every other register is reloaded from pt_regs (POP_REGS)
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
            "syscall",
            inlateout("rax") num => ret,
            in("rdi") a1,
            in("rsi") a2,
            in("rdx") a3,
            in("r10") a4,
            in("r8") a5,
            in("r9") a6,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack, preserves_flags),
        );
    }
    super::split_negated_result(ret)
}

// System-call numbers (arch/x86/entry/syscalls/syscall_64.tbl).
pub(crate) const SYS_READ: usize = 0;
pub(crate) const SYS_WRITE: usize = 1;
pub(crate) const SYS_CLOSE: usize = 3;
pub(crate) const SYS_IOCTL: usize = 16;
pub(crate) const SYS_GETPID: usize = 39;
pub(crate) const SYS_SOCKET: usize = 41;
pub(crate) const SYS_CONNECT: usize = 42;
pub(crate) const SYS_BIND: usize = 49;
pub(crate) const SYS_LISTEN: usize = 50;
pub(crate) const SYS_GETSOCKNAME: usize = 51;
pub(crate) const SYS_GETSOCKOPT: usize = 55;
pub(crate) const SYS_CLONE: usize = 56;
pub(crate) const SYS_WAIT4: usize = 61;
pub(crate) const SYS_KILL: usize = 62;
pub(crate) const SYS_FCNTL: usize = 72;
pub(crate) const SYS_REBOOT: usize = 169;
pub(crate) const SYS_EXIT_GROUP: usize = 231;
pub(crate) const SYS_EPOLL_CTL: usize = 233;
pub(crate) const SYS_EPOLL_PWAIT: usize = 281;
pub(crate) const SYS_ACCEPT4: usize = 288;
pub(crate) const SYS_EVENTFD2: usize = 290;
pub(crate) const SYS_EPOLL_CREATE1: usize = 291;
pub(crate) const SYS_DUP3: usize = 292;
pub(crate) const SYS_PIPE2: usize = 293;
pub(crate) const SYS_PRLIMIT64: usize = 302;
pub(crate) const SYS_EPOLL_PWAIT2: usize = 441;
