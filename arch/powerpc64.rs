//! PowerPC: Go `ppc64` and `ppc64le`, Rust `powerpc64-unknown-linux-gnu` (big-endian, ELFv1) and
//! `powerpc64le-unknown-linux-gnu` (little-endian, ELFv2); and 32-bit PowerPC, Rust
//! `powerpc-unknown-linux-gnu` (big-endian, hard float; Go has no 32-bit PowerPC port). The 32-
//! and 64-bit kernels enter and leave a system call through different code, whose rules agree on
//! every point below but the registers' width (`usize` here); the sources of each are given.

use core::arch::asm;

// The values that differ between architectures: as most have them (values.rs).
pub(crate) use super::values::*;

// System-call ABI, Linux PowerPC64 (`sc`, not the newer `scv`; sources: Documentation/arch/
// powerpc/syscall64-abi.rst; arch/powerpc/kernel/interrupt_64.S, system_call_common and its exit;
// arch/powerpc/kernel/interrupt.c, syscall_exit_prepare). 32-bit kernels have no `scv` and the
// same rules, 32 bits wide (arch/powerpc/kernel/head_32.h (Book3S) and head_booke.h (Book-E,
// e500), SYSCALL_ENTRY, which clears cr0.SO in the saved CR; entry_32.S, transfer_to_syscall,
// which hands r0 on as the number and saves r3-r8 as the arguments, and ret_from_syscall, whose
// common return reloads only r1, r2, r3, lr and the whole CR, leaving r0 and r4-r12, ctr and xer
// as the kernel's C code left them; the same syscall_exit_prepare sets SO for an error):
// - instruction: `sc` (syscall64-abi.rst, "Invocation")
// - number: r0 (syscall64-abi.rst, "Parameters and return value")
// - arguments: r3, r4, r5, r6, r7, r8 (same section)
// - return: r3 (same section)
// - error: the summary-overflow bit of cr0 (cr0.SO) is set on failure, and then r3 holds the
//   positive errno (same section; syscall_exit_prepare in interrupt.c sets SO for an error)
// - clobbered by the kernel: r0, r4-r12, ctr, xer and cr0; r3 carries the result. cr1-cr7, lr,
//   and all floating-point and vector registers survive (syscall64-abi.rst, "Register
//   preservation rules": cr1 and cr5-cr7 are volatile in the function ABI but nonvolatile
//   across `sc`; the exit path reloads the whole CR from pt_regs, and only cr0 is changed)
// The block copies the condition register into r12, already given up to the kernel, right after
// the trap (a compiler-chosen register would be a callee-saved one, saved and reloaded around
// the block); cr0.SO is its bit 3 counting from the most significant end, mask 0x1000_0000.
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
    let condition_register: usize;
    // SAFETY: the registers follow the ABI above; the caller vouches for the call itself.
    unsafe {
        asm!(
            "sc",
            "mfcr 12",
            inlateout("r0") num => _,
            inlateout("r3") a1 => ret,
            inlateout("r4") a2 => _,
            inlateout("r5") a3 => _,
            inlateout("r6") a4 => _,
            inlateout("r7") a5 => _,
            inlateout("r8") a6 => _,
            lateout("r9") _,
            lateout("r10") _,
            lateout("r11") _,
            lateout("r12") condition_register,
            lateout("ctr") _,
            lateout("xer") _,
            lateout("cr0") _,
            options(nostack),
        );
    }
    const CR0_SUMMARY_OVERFLOW: usize = 0x1000_0000;
    super::split_flagged_result(ret, condition_register & CR0_SUMMARY_OVERFLOW != 0)
}

// System-call numbers (arch/powerpc/kernel/syscalls/syscall.tbl): each is a `common` or `nospu`
// entry, which 32-bit kernels take as 64-bit ones do (none of the `32`- or `64`-only entries).
// The socket calls are the direct ones (326..), not socketcall(102), which multiplexes them
// through one number.
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
pub(crate) const SYS_EXIT_GROUP: usize = 234;
pub(crate) const SYS_EPOLL_CTL: usize = 237;
pub(crate) const SYS_EPOLL_PWAIT: usize = 303;
pub(crate) const SYS_EVENTFD2: usize = 314;
pub(crate) const SYS_EPOLL_CREATE1: usize = 315;
pub(crate) const SYS_DUP3: usize = 316;
pub(crate) const SYS_PIPE2: usize = 317;
pub(crate) const SYS_PRLIMIT64: usize = 325;
pub(crate) const SYS_SOCKET: usize = 326;
pub(crate) const SYS_BIND: usize = 327;
pub(crate) const SYS_CONNECT: usize = 328;
pub(crate) const SYS_LISTEN: usize = 329;
pub(crate) const SYS_GETSOCKNAME: usize = 331;
pub(crate) const SYS_GETSOCKOPT: usize = 340;
pub(crate) const SYS_ACCEPT4: usize = 344;
pub(crate) const SYS_EPOLL_PWAIT2: usize = 441;
