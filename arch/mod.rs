//! The architecture layer: the file of the target's system-call ABI (its stub, registers, error
//! rule and numbers), and what every ABI shares: the two error rules and the values most of them
//! agree on (`values.rs`, which MIPS and s390x override).
//!
//! `crate::raw` is the documented public view of what this exports.

cfg_if::cfg_if! {
    if #[cfg(not(target_os = "linux"))] {
        compile_error!("rawpoll talks to the Linux kernel and builds only for target_os = \"linux\"");
    } else if #[cfg(target_arch = "x86")] {
        #[path = "x86.rs"]
        mod abi;
    } else if #[cfg(target_arch = "x86_64")] {
        #[path = "x86_64.rs"]
        mod abi;
    } else if #[cfg(target_arch = "arm")] {
        #[path = "arm.rs"]
        mod abi;
    } else if #[cfg(target_arch = "aarch64")] {
        #[path = "aarch64.rs"]
        mod abi;
    } else if #[cfg(target_arch = "loongarch64")] {
        #[path = "loongarch64.rs"]
        mod abi;
    } else if #[cfg(any(target_arch = "mips", target_arch = "mips32r6"))] {
        #[path = "mips.rs"]
        mod abi;
    } else if #[cfg(any(target_arch = "mips64", target_arch = "mips64r6"))] {
        #[path = "mips64.rs"]
        mod abi;
    } else if #[cfg(any(target_arch = "powerpc", target_arch = "powerpc64"))] {
        #[path = "powerpc64.rs"]
        mod abi;
    } else if #[cfg(any(target_arch = "riscv32", target_arch = "riscv64"))] {
        #[path = "riscv64.rs"]
        mod abi;
    } else if #[cfg(target_arch = "s390x")] {
        #[path = "s390x.rs"]
        mod abi;
    } else if #[cfg(target_arch = "sparc64")] {
        #[path = "sparc64.rs"]
        mod abi;
    } else {
        compile_error!(
            "rawpoll talks to the Linux kernel on the architectures Go supports (x86, x86_64, \
             arm, aarch64, loongarch64, mips, mips64, powerpc64, riscv64, s390x) and on \
             mips32r6, mips64r6, powerpc, riscv32 and sparc64; not m68k, whose LLVM backend \
             miscompiles it today (README, Targets)"
        );
    }
}
pub(crate) use abi::*;

// The values that differ between architectures: MIPS's own, and the ones the others share. Where
// an architecture overrides one (MIPS most, s390x one), the shared one is unused; SPARC has its
// own whole set (sparc64.rs).
#[cfg(any(
    target_arch = "mips",
    target_arch = "mips32r6",
    target_arch = "mips64",
    target_arch = "mips64r6"
))]
mod mips_values;
#[cfg_attr(
    any(
        target_arch = "mips",
        target_arch = "mips32r6",
        target_arch = "mips64",
        target_arch = "mips64r6",
        target_arch = "s390x",
        target_arch = "sparc64"
    ),
    allow(dead_code)
)]
mod values;

/// Go's rule for the architectures whose kernel returns `-errno` in the result register: a
/// result in `-4095..=-1` is an error.
#[cfg(not(any(
    target_arch = "mips",
    target_arch = "mips32r6",
    target_arch = "mips64",
    target_arch = "mips64r6",
    target_arch = "powerpc",
    target_arch = "powerpc64",
    target_arch = "sparc64"
)))]
#[inline(always)]
fn split_negated_result(ret: usize) -> (usize, usize) {
    const MAX_ERRNO: usize = 4095;
    if ret > usize::MAX - MAX_ERRNO {
        (usize::MAX, ret.wrapping_neg())
    } else {
        (ret, 0)
    }
}

/// The rule for the architectures that flag an error out of band (MIPS `a3`, PowerPC `cr0.SO`,
/// SPARC the carry flag) and then return the positive errno in the result register.
#[cfg(any(
    target_arch = "mips",
    target_arch = "mips32r6",
    target_arch = "mips64",
    target_arch = "mips64r6",
    target_arch = "powerpc",
    target_arch = "powerpc64",
    target_arch = "sparc64"
))]
#[inline(always)]
fn split_flagged_result(ret: usize, failed: bool) -> (usize, usize) {
    if failed {
        (usize::MAX, ret)
    } else {
        (ret, 0)
    }
}

/// The architectures whose only way into the kernel is their trap instruction: there is no entry
/// to look up or choose (32-bit x86 has one, `x86/vdso.rs`).
#[cfg(not(target_arch = "x86"))]
mod trap_only {
    #[inline(always)]
    pub(crate) unsafe fn init_from_stack(_: *const usize) {}
    #[inline(always)]
    pub(crate) unsafe fn use_auxv(_: *const usize) {}
    #[inline(always)]
    pub(crate) fn vsyscall_entry() -> Option<usize> {
        None
    }
    #[inline(always)]
    pub(crate) unsafe fn set_vsyscall_entry(_: Option<usize>) {}
}
#[cfg(not(target_arch = "x86"))]
pub(crate) use trap_only::*;
