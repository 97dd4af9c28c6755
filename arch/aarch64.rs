//! 64-bit Arm: Go `arm64`, Rust `aarch64-unknown-linux-gnu`; and big-endian, Rust
//! `aarch64_be-unknown-linux-gnu` (no Go port): the same registers, trap and numbers, the byte
//! order is only memory's.

use core::arch::asm;

// The values that differ between architectures: as most have them (values.rs).
pub(crate) use super::values::*;

// System-call ABI, Linux AArch64 (sources: arch/arm64/kernel/syscall.c, el0_svc_common and
// invoke_syscall; arch/arm64/kernel/entry.S, kernel_entry/kernel_exit; Documentation/arch/arm64/
// sve.rst, "System call behaviour"):
// - instruction: `svc #0` (entry.S: the EL0 synchronous vector, ESR class SVC64)
// - number: x8 (syscall.c: `regs->regs[8]`)
// - arguments: x0, x1, x2, x3, x4, x5 (syscall.c: `regs->regs[0..5]`)
// - return: x0 (syscall.c: `regs->regs[0] = ret`)
// - error: x0 in -4095..=-1 holds -errno (syscall.c: the handler's negative return)
// - clobbered by the kernel: x0 among the general registers (kernel_exit reloads x1-x30, sp and
//   NZCV from pt_regs); v0-v31 (the FP/SIMD registers, bits 0-127 of z0-z31) survive. With SVE,
//   the bits of z0-z31 above 128, p0-p15 and FFR read as zero afterwards (sve.rst). p0-p15 are
//   declared clobbered below: clobber-only names, accepted without `+sve` and free when the build
//   has no SVE. FFR is not: LLVM reserves it (it never keeps a value there; a first-faulting load
//   writes it and `rdffr` reads it right after), and a clobber of it draws LLVM's "clobber list
//   contains reserved registers: FFR" warning in every `+sve` build. The upper z bits cannot be
//   declared: Rust names only v0-v31, whose clobber would also cost a spill of d8-d15 at every
//   call site for bits the kernel keeps. That is safe because a scalable vector value exists in
//   Rust code only through LLVM's loop vectorizer (no SVE intrinsics on stable), which does not
//   vectorize a loop containing this block and reduces a vector loop's results to scalars before
//   the loop ends, so no z value lives across the trap.
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
            "svc #0",
            in("x8") num,
            inlateout("x0") a1 => ret,
            in("x1") a2,
            in("x2") a3,
            in("x3") a4,
            in("x4") a5,
            in("x5") a6,
            lateout("p0") _,
            lateout("p1") _,
            lateout("p2") _,
            lateout("p3") _,
            lateout("p4") _,
            lateout("p5") _,
            lateout("p6") _,
            lateout("p7") _,
            lateout("p8") _,
            lateout("p9") _,
            lateout("p10") _,
            lateout("p11") _,
            lateout("p12") _,
            lateout("p13") _,
            lateout("p14") _,
            lateout("p15") _,
            options(nostack, preserves_flags),
        );
    }
    super::split_negated_result(ret)
}

// System-call numbers: the asm-generic table (include/uapi/asm-generic/unistd.h).
#[path = "generic/unistd.rs"]
mod unistd;
pub(crate) use unistd::*;
