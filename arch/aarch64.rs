//! 64-bit Arm: Go `arm64`, Rust `aarch64-unknown-linux-gnu`.

use core::arch::asm;

// System-call ABI, Linux AArch64:
// - instruction: `svc #0`
// - number: x8
// - arguments: x0, x1, x2, x3, x4, x5
// - return: x0
// - error: x0 in -4095..=-1 holds -errno
// - clobbered by the kernel: nothing but x0 among the general and FP/SIMD registers; with SVE the
//   bits of z0-z31 above 128, p0-p15 and FFR read as zero afterwards. Rust cannot name SVE
//   registers, and the target as shipped generates no SVE code, so nothing here depends on them.
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
            options(nostack, preserves_flags),
        );
    }
    crate::raw::split_negated_result(ret)
}

// System-call numbers: the asm-generic table (include/uapi/asm-generic/unistd.h).
#[path = "generic/unistd.rs"]
mod unistd;
pub(crate) use unistd::*;

// Values that differ between architectures.
pub(crate) const EFD_NONBLOCK: u32 = 0x800;
pub(crate) const SIGCHLD: u32 = 17;
pub(crate) const RLIMIT_NOFILE: u32 = 7;
pub(crate) const KERNEL_SIGSET_SIZE: usize = 8;
pub(crate) const CLONE_FLAGS_ARG: usize = 0;
pub(crate) const ENOSYS: u16 = 38;
pub(crate) const ELOOP: u16 = 40;
pub(crate) const ETIMEDOUT: u16 = 110;

/// The kernel's `struct epoll_event`: 16 bytes, `data` aligned to 8.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct EpollEvent {
    pub(crate) events: u32,
    pub(crate) data: u64,
}
