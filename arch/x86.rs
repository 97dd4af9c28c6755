//! 32-bit x86: Go `386`, Rust `i686-unknown-linux-gnu`.

use core::arch::asm;

// System-call ABI, Linux i386:
// - instruction: `int $0x80`
// - number: eax
// - arguments: ebx, ecx, edx, esi, edi, ebp
// - return: eax
// - error: eax in -4095..=-1 holds -errno
// - clobbered by the kernel: nothing but eax
// Rust reserves ebx, esi and ebp (LLVM's base and frame pointers), so they cannot be named as
// operands: the block saves them on the stack, loads a1, a4, a6 and the number from a small array
// whose address comes in eax, and restores them after the trap. The pushes make it a `stack` asm.
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
    let in_memory: [usize; 4] = [a1, a4, a6, num];
    let ret: usize;
    // SAFETY: the registers follow the ABI above, ebx/esi/ebp are restored before the block ends,
    // and `in_memory` outlives the block; the caller vouches for the call itself.
    unsafe {
        asm!(
            "push ebp",
            "push esi",
            "push ebx",
            "mov ebx, [eax]",
            "mov esi, [eax + 4]",
            "mov ebp, [eax + 8]",
            "mov eax, [eax + 12]",
            "int 0x80",
            "pop ebx",
            "pop esi",
            "pop ebp",
            inlateout("eax") in_memory.as_ptr() => ret,
            in("ecx") a2,
            in("edx") a3,
            in("edi") a5,
            options(preserves_flags),
        );
    }
    crate::raw::split_negated_result(ret)
}

// System-call numbers (arch/x86/entry/syscalls/syscall_32.tbl).
pub(crate) const SYS_READ: usize = 3;
pub(crate) const SYS_WRITE: usize = 4;
pub(crate) const SYS_CLOSE: usize = 6;
pub(crate) const SYS_GETPID: usize = 20;
pub(crate) const SYS_KILL: usize = 37;
pub(crate) const SYS_FCNTL: usize = 55;
pub(crate) const SYS_REBOOT: usize = 88;
pub(crate) const SYS_WAIT4: usize = 114;
pub(crate) const SYS_CLONE: usize = 120;
pub(crate) const SYS_EXIT_GROUP: usize = 252;
pub(crate) const SYS_EPOLL_CTL: usize = 255;
pub(crate) const SYS_EPOLL_PWAIT: usize = 319;
pub(crate) const SYS_EVENTFD2: usize = 328;
pub(crate) const SYS_EPOLL_CREATE1: usize = 329;
pub(crate) const SYS_DUP3: usize = 330;
pub(crate) const SYS_PIPE2: usize = 331;
pub(crate) const SYS_PRLIMIT64: usize = 340;
pub(crate) const SYS_EPOLL_PWAIT2: usize = 441;

// Values that differ between architectures.
pub(crate) const EFD_NONBLOCK: u32 = 0x800;
pub(crate) const SIGCHLD: u32 = 17;
pub(crate) const RLIMIT_NOFILE: u32 = 7;
pub(crate) const KERNEL_SIGSET_SIZE: usize = 8;
pub(crate) const CLONE_FLAGS_ARG: usize = 0;
pub(crate) const ENOSYS: u16 = 38;
pub(crate) const ELOOP: u16 = 40;
pub(crate) const ETIMEDOUT: u16 = 110;

/// The kernel's `struct epoll_event`: 12 bytes, since i386 aligns `u64` to 4.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct EpollEvent {
    pub(crate) events: u32,
    pub(crate) data: u64,
}
