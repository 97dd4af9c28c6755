//! The baseline: the least inline `asm!` that makes each system call on x86_64 (only the
//! argument registers the call reads, the trap, and Go's `-4095..=-1` error test), written here
//! and nowhere else.

use std::arch::asm;

/// Go's error rule: a result in `-4095..=-1` is `-errno`.
#[inline(always)]
fn ok(ret: usize) -> Result<usize, usize> {
    if ret > usize::MAX - 4095 {
        Err(ret.wrapping_neg())
    } else {
        Ok(ret)
    }
}

/// A three-argument system call.
///
/// # Safety
/// The call must be one the kernel may perform with these arguments.
#[inline(always)]
pub unsafe fn syscall3(num: usize, a1: usize, a2: usize, a3: usize) -> Result<usize, usize> {
    let ret: usize;
    // SAFETY: x86_64 system-call ABI; the caller vouches for the call.
    unsafe {
        asm!("syscall", inlateout("rax") num => ret, in("rdi") a1, in("rsi") a2, in("rdx") a3,
            lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags));
    }
    ok(ret)
}

/// A four-argument system call.
///
/// # Safety
/// The call must be one the kernel may perform with these arguments.
#[inline(always)]
pub unsafe fn syscall4(
    num: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
) -> Result<usize, usize> {
    let ret: usize;
    // SAFETY: x86_64 system-call ABI; the caller vouches for the call.
    unsafe {
        asm!("syscall", inlateout("rax") num => ret, in("rdi") a1, in("rsi") a2, in("rdx") a3,
            in("r10") a4, lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags));
    }
    ok(ret)
}

/// A five-argument system call.
///
/// # Safety
/// The call must be one the kernel may perform with these arguments.
#[inline(always)]
pub unsafe fn syscall5(
    num: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> Result<usize, usize> {
    let ret: usize;
    // SAFETY: x86_64 system-call ABI; the caller vouches for the call.
    unsafe {
        asm!("syscall", inlateout("rax") num => ret, in("rdi") a1, in("rsi") a2, in("rdx") a3,
            in("r10") a4, in("r8") a5, lateout("rcx") _, lateout("r11") _,
            options(nostack, preserves_flags));
    }
    ok(ret)
}

/// x86_64 system-call numbers the baseline uses.
pub const READ: usize = 0;
/// `write`.
pub const WRITE: usize = 1;
/// `epoll_ctl`.
pub const EPOLL_CTL: usize = 233;
/// `epoll_pwait`.
pub const EPOLL_PWAIT: usize = 281;
