//! 64-bit MIPS, n64 ABI: Go `mips64` and `mips64le`, Rust `mips64-unknown-linux-gnuabi64` and
//! `mips64el-unknown-linux-gnuabi64`; and MIPS64 release 6, Rust
//! `mipsisa64r6el-unknown-linux-gnuabi64` (`target_arch = "mips64r6"`, no Go port): the same n64
//! entry, registers, numbers and error flag (one scall64-n64.S serves every release), only the
//! instruction encodings differ (see arch/mips.rs on the restart rule there).

use core::arch::asm;

// The values that differ between architectures: MIPS's own (mips_values.rs).
pub(crate) use super::mips_values::*;

// System-call ABI, Linux MIPS n64 (sources: arch/mips/kernel/scall64-n64.S, handle_sys64;
// arch/mips/kernel/entry.S and arch/mips/include/asm/stackframe.h, the return path;
// arch/mips/kernel/signal.c, the restart logic):
// - instruction: `syscall`
// - number: v0 ($2) (scall64-n64.S)
// - arguments: a0-a5 ($4-$9)
// - return: v0 ($2)
// - error: a3 ($7) is non-zero on failure, and then v0 holds the positive errno (scall64-n64.S)
// - clobbered by the kernel: $1 (at), $3 (v1), $7 (a3, the flag), $10-$15, $24, $25, hi and lo
//   (the fast return reloads only what RESTORE_SOME and RESTORE_SP_AND_RET name in stackframe.h)
// - restart: as on o32 (arch/mips.rs), the instruction before `syscall` is not the one that loads
//   v0, and a restarted call relies on signal.c reloading v0 from the saved number, which Linux
//   has done since 2.6.36.
// Rust refuses $1 as an operand or clobber (it is the assembler's), yet LLVM allocates it like any
// temporary and may keep a value in it across the block; so the block opens a 16-byte frame
// (keeping the 16-byte alignment), saves $1 in it, reloads it after the trap and pops the frame,
// under `.set noat`. hi and lo cannot be named in Rust either; LLVM only reads them right after
// the multiply or divide that wrote them. ci/check-mips-clobbers checks both in the built
// binaries.
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
    let error_flag: usize;
    // SAFETY: the registers follow the ABI above and the block restores $sp and $1; the caller
    // vouches for the call itself.
    unsafe {
        asm!(
            ".set noat",
            "daddiu $sp, $sp, -16",
            "sd $1, 0($sp)",
            "syscall",
            "ld $1, 0($sp)",
            "daddiu $sp, $sp, 16",
            ".set at",
            inlateout("$2") num => ret,
            in("$4") a1,
            in("$5") a2,
            in("$6") a3,
            inlateout("$7") a4 => error_flag,
            in("$8") a5,
            in("$9") a6,
            lateout("$3") _,
            lateout("$10") _,
            lateout("$11") _,
            lateout("$12") _,
            lateout("$13") _,
            lateout("$14") _,
            lateout("$15") _,
            lateout("$24") _,
            lateout("$25") _,
            options(preserves_flags),
        );
    }
    super::split_flagged_result(ret, error_flag != 0)
}

// System-call numbers (arch/mips/kernel/syscalls/syscall_n64.tbl, offset 5000).
pub(crate) const SYS_READ: usize = 5000;
pub(crate) const SYS_WRITE: usize = 5001;
pub(crate) const SYS_CLOSE: usize = 5003;
pub(crate) const SYS_IOCTL: usize = 5015;
pub(crate) const SYS_GETPID: usize = 5038;
pub(crate) const SYS_SOCKET: usize = 5040;
pub(crate) const SYS_CONNECT: usize = 5041;
pub(crate) const SYS_BIND: usize = 5048;
pub(crate) const SYS_LISTEN: usize = 5049;
pub(crate) const SYS_GETSOCKNAME: usize = 5050;
pub(crate) const SYS_GETSOCKOPT: usize = 5054;
pub(crate) const SYS_CLONE: usize = 5055;
pub(crate) const SYS_WAIT4: usize = 5059;
pub(crate) const SYS_KILL: usize = 5060;
pub(crate) const SYS_FCNTL: usize = 5070;
pub(crate) const SYS_REBOOT: usize = 5164;
pub(crate) const SYS_EXIT_GROUP: usize = 5205;
pub(crate) const SYS_EPOLL_CTL: usize = 5208;
pub(crate) const SYS_EPOLL_PWAIT: usize = 5272;
pub(crate) const SYS_EVENTFD2: usize = 5284;
pub(crate) const SYS_EPOLL_CREATE1: usize = 5285;
pub(crate) const SYS_DUP3: usize = 5286;
pub(crate) const SYS_PIPE2: usize = 5287;
pub(crate) const SYS_ACCEPT4: usize = 5293;
pub(crate) const SYS_PRLIMIT64: usize = 5297;
pub(crate) const SYS_EPOLL_PWAIT2: usize = 5441;
