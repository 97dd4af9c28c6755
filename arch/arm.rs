//! 32-bit Arm, EABI: Go `arm`, Rust `armv7-unknown-linux-gnueabihf` (and
//! `thumbv7neon-unknown-linux-gnueabihf`); Go's `GOARM=5` and `GOARM=6`, Rust
//! `armv5te-unknown-linux-gnueabi` and `arm-unknown-linux-gnueabi` (soft float, Arm state). The
//! system-call ABI is the same on all: EABI's `svc 0` and r7 since ARMv4T; floating point is not
//! part of it.

use core::arch::asm;

// The values that differ between architectures: as most have them (values.rs).
pub(crate) use super::values::*;

// System-call ABI, Linux Arm EABI (sources: arch/arm/kernel/entry-common.S, vector_swi and
// ret_fast_syscall; arch/arm/kernel/entry-header.S, restore_user_regs):
// - instruction: `svc 0` (in Arm and in Thumb state; vector_swi, EABI: the immediate is ignored)
// - number: r7 (vector_swi: `scno .req r7`, taken as is under EABI)
// - arguments: r0, r1, r2, r3, r4, r5 (vector_swi pushes r4 and r5 for the table call)
// - return: r0 (ret_fast_syscall stores r0 into pt_regs)
// - error: r0 in -4095..=-1 holds -errno
// - clobbered by the kernel: nothing but r0 (restore_user_regs reloads r1-lr and the CPSR flags)
// In Arm state r7 is an ordinary register, named as the number's operand. In Thumb state r7 is
// the frame pointer and Rust will not take it as an operand: the block parks r7 in a scratch
// output register, loads the number, traps and puts r7 back. Both registers are the compiler's
// choice, and in a function that keeps no frame pointer it may give r7 itself to the scratch
// (the thumbv7neon demo has `mov r7, r7; mov r7, r6; svc #0; mov r7, r7`): the save and restore
// are then no-ops and r7 ends up holding the number, which is right, as the scratch is an output
// the compiler treats as overwritten.
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
    #[cfg(not(any(target_feature = "thumb-mode", rawpoll_thumb)))]
    // SAFETY: the registers follow the ABI above; the caller vouches for the call itself.
    unsafe {
        asm!(
            "svc 0",
            in("r7") num,
            inlateout("r0") a1 => ret,
            in("r1") a2,
            in("r2") a3,
            in("r3") a4,
            in("r4") a5,
            in("r5") a6,
            options(nostack, preserves_flags),
        );
    }
    #[cfg(any(target_feature = "thumb-mode", rawpoll_thumb))]
    // SAFETY: the registers follow the ABI above and r7 is restored before the block ends; the
    // caller vouches for the call itself.
    unsafe {
        asm!(
            "mov {saved_r7}, r7",
            "mov r7, {num}",
            "svc 0",
            "mov r7, {saved_r7}",
            num = in(reg) num,
            saved_r7 = out(reg) _,
            inlateout("r0") a1 => ret,
            in("r1") a2,
            in("r2") a3,
            in("r3") a4,
            in("r4") a5,
            in("r5") a6,
            options(nostack, preserves_flags),
        );
    }
    super::split_negated_result(ret)
}

// System-call numbers (arch/arm/tools/syscall.tbl, EABI).
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
pub(crate) const SYS_EPOLL_CTL: usize = 251;
pub(crate) const SYS_SOCKET: usize = 281;
pub(crate) const SYS_BIND: usize = 282;
pub(crate) const SYS_CONNECT: usize = 283;
pub(crate) const SYS_LISTEN: usize = 284;
pub(crate) const SYS_GETSOCKNAME: usize = 286;
pub(crate) const SYS_GETSOCKOPT: usize = 295;
pub(crate) const SYS_EPOLL_PWAIT: usize = 346;
pub(crate) const SYS_EVENTFD2: usize = 356;
pub(crate) const SYS_EPOLL_CREATE1: usize = 357;
pub(crate) const SYS_DUP3: usize = 358;
pub(crate) const SYS_PIPE2: usize = 359;
pub(crate) const SYS_ACCEPT4: usize = 366;
pub(crate) const SYS_PRLIMIT64: usize = 369;
pub(crate) const SYS_EPOLL_PWAIT2: usize = 441;
