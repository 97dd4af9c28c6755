//! LoongArch64: Go `loong64`, Rust `loongarch64-unknown-linux-gnu`.

use core::arch::asm;

// The values that differ between architectures: as most have them (values.rs).
pub(crate) use super::values::*;

// System-call ABI, Linux LoongArch64 (sources: arch/loongarch/kernel/entry.S, handle_syscall;
// arch/loongarch/kernel/syscall.c, do_syscall):
// - instruction: `syscall 0` (entry.S: handle_syscall is the SYSCALL exception's handler)
// - number: a7 ($r11) (syscall.c: `regs->regs[11]`)
// - arguments: a0, a1, a2, a3, a4, a5 ($r4-$r9) (syscall.c: `regs->orig_a0`, `regs->regs[5..9]`)
// - return: a0 (syscall.c: `regs->regs[4] = ret`)
// - error: a0 in -4095..=-1 holds -errno
// - clobbered by the kernel: a0 and the temporaries t0-t8 ($r12-$r20): handle_syscall uses t0-t2
//   itself before saving anything and never stores t0-t8 into pt_regs, so RESTORE_ALL_AND_RET
//   hands back whatever those slots hold; the other registers are saved on entry and reloaded
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
            "syscall 0",
            in("$a7") num,
            inlateout("$a0") a1 => ret,
            in("$a1") a2,
            in("$a2") a3,
            in("$a3") a4,
            in("$a4") a5,
            in("$a5") a6,
            lateout("$t0") _,
            lateout("$t1") _,
            lateout("$t2") _,
            lateout("$t3") _,
            lateout("$t4") _,
            lateout("$t5") _,
            lateout("$t6") _,
            lateout("$t7") _,
            lateout("$t8") _,
            options(nostack, preserves_flags),
        );
    }
    super::split_negated_result(ret)
}

// System-call numbers: the asm-generic table (include/uapi/asm-generic/unistd.h).
#[path = "generic/unistd.rs"]
mod unistd;
pub(crate) use unistd::*;
