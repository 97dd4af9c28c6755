//! x86-64: Go `amd64`, Rust `x86_64-unknown-linux-gnu`; and x32, the same instruction set and
//! registers with 32-bit pointers (Rust `x86_64-unknown-linux-gnux32`, no Go port).

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
// x32 (arch/x86/entry/syscall_x32.c, do_syscall_x32): the same registers; the number has
// __X32_SYSCALL_BIT set and picks from the x32 table (the 64-bit entries, but for the x32 ones
// numbered from 512). The kernel reads all 64 bits of every argument register, while a 32-bit
// `usize` operand leaves the upper half of its register undefined: every operand is widened to
// `u64` first (a no-op on x86-64), and the result, in -4095..=-1 for an error as on x86-64, is
// cut back to 32 bits (-errno stays in the same range).
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
    let ret: u64;
    // SAFETY: the registers follow the ABI above; the caller vouches for the call itself.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") num as u64 => ret,
            in("rdi") a1 as u64,
            in("rsi") a2 as u64,
            in("rdx") a3 as u64,
            in("r10") a4 as u64,
            in("r8") a5 as u64,
            in("r9") a6 as u64,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack, preserves_flags),
        );
    }
    // x86-64: the whole register; x32: its low half, where -errno is as negative as in all of it.
    super::split_negated_result(ret as usize)
}

// System-call numbers (arch/x86/entry/syscalls/syscall_64.tbl): x86-64's "common" and "64"
// entries, and on x32 __X32_SYSCALL_BIT plus the "common" and "x32" ones.
#[cfg(target_pointer_width = "64")]
mod numbers {
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
}
#[cfg(target_pointer_width = "32")]
mod numbers {
    /// Marks an x32 call (arch/x86/include/uapi/asm/unistd.h).
    const X32: usize = 0x4000_0000;
    pub(crate) const SYS_READ: usize = X32;
    pub(crate) const SYS_WRITE: usize = X32 + 1;
    pub(crate) const SYS_CLOSE: usize = X32 + 3;
    pub(crate) const SYS_IOCTL: usize = X32 + 514;
    pub(crate) const SYS_GETPID: usize = X32 + 39;
    pub(crate) const SYS_SOCKET: usize = X32 + 41;
    pub(crate) const SYS_CONNECT: usize = X32 + 42;
    pub(crate) const SYS_BIND: usize = X32 + 49;
    pub(crate) const SYS_LISTEN: usize = X32 + 50;
    pub(crate) const SYS_GETSOCKNAME: usize = X32 + 51;
    pub(crate) const SYS_GETSOCKOPT: usize = X32 + 542;
    pub(crate) const SYS_CLONE: usize = X32 + 56;
    pub(crate) const SYS_WAIT4: usize = X32 + 61;
    pub(crate) const SYS_KILL: usize = X32 + 62;
    pub(crate) const SYS_FCNTL: usize = X32 + 72;
    pub(crate) const SYS_REBOOT: usize = X32 + 169;
    pub(crate) const SYS_EXIT_GROUP: usize = X32 + 231;
    pub(crate) const SYS_EPOLL_CTL: usize = X32 + 233;
    pub(crate) const SYS_EPOLL_PWAIT: usize = X32 + 281;
    pub(crate) const SYS_ACCEPT4: usize = X32 + 288;
    pub(crate) const SYS_EVENTFD2: usize = X32 + 290;
    pub(crate) const SYS_EPOLL_CREATE1: usize = X32 + 291;
    pub(crate) const SYS_DUP3: usize = X32 + 292;
    pub(crate) const SYS_PIPE2: usize = X32 + 293;
    pub(crate) const SYS_PRLIMIT64: usize = X32 + 302;
    pub(crate) const SYS_EPOLL_PWAIT2: usize = X32 + 441;
}
pub(crate) use numbers::*;
