//! Register-preservation probe: does the kernel keep every register the stub tells the compiler
//! it keeps?
//!
//! For each architecture an `asm!` block saves every general-purpose register (and the flags or
//! condition register where there is one) on the stack, loads a distinct value into each, traps
//! with the stub's instruction, stores every register to memory, and restores the originals. The
//! registers the stub declares as outputs (`out`, `lateout`, `inout`, `inlateout` with an explicit
//! register in `arch/<arch>.rs`) may change; every other one must come back with the value it had.
//!
//! qemu-user writes back only the result registers, so there a missing clobber always passes; on
//! a real kernel the probe is what catches it. The declared list is not a second hand-written copy:
//! each architecture's list below is checked at compile time against the asm text of the stub
//! (`include_str!` of its arch file), in both directions.
//!
//! Four calls: `getpid`, `close(-1)` (fails with EBADF), `epoll_pwait` with a real signal mask and
//! a ready eventfd, and an `epoll_pwait` that blocks with SIGCHLD unblocked only by its mask until
//! a child's exit interrupts it (EINTR, a real handler: a process that is PID 1 on a real kernel
//! never receives a default-disposition SIGCHLD).

use crate::check::Checker;
use crate::{exit, fork, print, print_hex, print_u64, wait};
use core::sync::atomic::{AtomicUsize, Ordering};
use linux_raw_sys::general as k;
use rawpoll::raw::{self, syscall6};
use rawpoll::Errno;

/// One register's value per slot, indexed as the architecture's [`arch::NAMES`]; `stack` holds
/// arguments five and six where the ABI passes them on the stack (MIPS o32).
#[repr(C)]
struct Registers {
    slots: [usize; arch::SLOTS],
    stack: [usize; 2],
}

// ---------------------------------------------------------------------------------------------
// The declared list, checked against the stub's asm text at compile time.

/// Where `needle` starts in `hay` at or after `from`, or `hay.len()`.
const fn find(hay: &[u8], needle: &[u8], from: usize) -> usize {
    let mut i = from;
    while i + needle.len() <= hay.len() {
        let mut j = 0;
        while j < needle.len() && hay[i + j] == needle[j] {
            j += 1;
        }
        if j == needle.len() {
            return i;
        }
        i += 1;
    }
    hay.len()
}

/// Does `hay[at..]` start with `name` followed by `"`?
const fn names_at(hay: &[u8], at: usize, name: &[u8]) -> bool {
    if at + name.len() >= hay.len() {
        return false;
    }
    let mut j = 0;
    while j < name.len() {
        if hay[at + j] != name[j] {
            return false;
        }
        j += 1;
    }
    hay[at + name.len()] == b'"'
}

/// Checks every `asm!(` block of `stub` (from `fn syscall6` on): each declares exactly the
/// registers of `declared` as outputs (`out("…")` in any of its spellings).
const fn stub_agrees(stub: &str, declared: &[&str]) -> bool {
    let text = stub.as_bytes();
    let mut at = find(text, b"fn syscall6", 0);
    let mut blocks = 0;
    loop {
        let start = find(text, b"asm!(", at);
        if start == text.len() {
            return blocks > 0;
        }
        // The block's operands end at its `options(`, or at its closing `);` if it has none.
        let options = find(text, b"options(", start);
        let close = find(text, b");", start);
        let end = if options < close { options } else { close };
        if end == text.len() {
            return false;
        }
        // Every explicit-register output is in `declared`...
        let mut outputs = 0;
        let mut pos = find(text, b"out(\"", start);
        while pos < end {
            let mut known = false;
            let mut d = 0;
            while d < declared.len() {
                known = known || names_at(text, pos + 5, declared[d].as_bytes());
                d += 1;
            }
            if !known {
                return false;
            }
            outputs += 1;
            pos = find(text, b"out(\"", pos + 5);
        }
        // ...and as many as `declared` lists (the names are distinct), so the sets are equal.
        if outputs != declared.len() {
            return false;
        }
        blocks += 1;
        at = end;
    }
}

const _: () = assert!(
    stub_agrees(arch::STUB, arch::DECLARED),
    "tests/freestanding/src/probe.rs: the declared-clobber list disagrees with the stub's asm"
);

/// May the register of slot `name` change across the trap (the stub declares it)?
fn may_change(name: &str) -> bool {
    arch::DECLARED.contains(&name) || flags_not_promised(name)
}

/// On x86 the vDSO's entry does not promise eflags (the stub's block for it does not claim
/// `preserves_flags`); `int $0x80` does.
#[cfg(target_arch = "x86")]
fn flags_not_promised(name: &str) -> bool {
    name == "eflags" && raw::vsyscall_entry().is_some()
}

#[cfg(not(target_arch = "x86"))]
fn flags_not_promised(_: &str) -> bool {
    false
}

// ---------------------------------------------------------------------------------------------
// Per-architecture trap blocks. Each saves every register it loads in a stack frame of its own,
// so the compiler sees one operand (the pointer, clobbered) and no other change; flags are not
// declared preserved. The values go in from `slots` and come back into `slots`.

/// A value no register holds by chance: distinct per slot, with high bits set on 64-bit
/// targets.
fn sentinel(slot: usize) -> usize {
    (0xa5c3_0000_5e00_0000u64 | ((slot as u64) << 40) | ((slot as u64) << 8) | 0x5a) as usize
}

#[cfg(target_arch = "x86_64")]
mod arch {
    pub const STUB: &str = include_str!("../../../arch/x86_64.rs");
    pub const DECLARED: &[&str] = &["rax", "rcx", "r11"];
    pub const SLOTS: usize = 16;
    pub const NAMES: [&str; SLOTS] = [
        "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11", "r12", "r13",
        "r14", "r15", "rflags",
    ];
    pub const NUMBER: usize = 0;
    pub const ARGS: [usize; 6] = [5, 4, 3, 9, 7, 8];
    /// rflags: CF PF AF ZF SF OF set (bit 1 always reads 1, IF is not the program's).
    pub const FIXED: &[(usize, usize, usize)] = &[(15, 0x8d7, 0x8d5)];
    pub const ERRORS: super::Errors = super::Errors::Negated { result: 0 };

    /// # Safety
    /// `regs` must make a system call the kernel may perform.
    pub unsafe fn trap(regs: *mut super::Registers) {
        // SAFETY: every register the block writes is pushed first and popped last; the frame
        // is below the stack pointer the compiler gave (no `nostack`), `regs` is valid.
        unsafe {
            core::arch::asm!(
                ".irp r, rax,rbx,rcx,rdx,rsi,rdi,rbp,r8,r9,r10,r11,r12,r13,r14,r15",
                r"push \r",
                ".endr",
                "push qword ptr [rax + 8*15]",
                "popfq",
                "mov rbx, [rax + 8*1]",
                "mov rcx, [rax + 8*2]",
                "mov rdx, [rax + 8*3]",
                "mov rsi, [rax + 8*4]",
                "mov rdi, [rax + 8*5]",
                "mov rbp, [rax + 8*6]",
                "mov r8, [rax + 8*7]",
                "mov r9, [rax + 8*8]",
                "mov r10, [rax + 8*9]",
                "mov r11, [rax + 8*10]",
                "mov r12, [rax + 8*11]",
                "mov r13, [rax + 8*12]",
                "mov r14, [rax + 8*13]",
                "mov r15, [rax + 8*14]",
                "mov rax, [rax]",
                "syscall",
                "pushfq",
                ".irp r, r15,r14,r13,r12,r11,r10,r9,r8,rbp,rdi,rsi,rdx,rcx,rbx,rax",
                r"push \r",
                ".endr",
                // The pointer: the first register saved, under the 16 values just pushed.
                "mov rax, [rsp + 8*16 + 8*14]",
                ".irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15",
                r"pop qword ptr [rax + 8*\i]",
                ".endr",
                ".irp r, r15,r14,r13,r12,r11,r10,r9,r8,rbp,rdi,rsi,rdx,rcx,rbx,rax",
                r"pop \r",
                ".endr",
                inout("rax") regs => _,
            );
        }
    }
}

#[cfg(target_arch = "x86")]
mod arch {
    pub const STUB: &str = include_str!("../../../arch/x86.rs");
    pub const DECLARED: &[&str] = &["eax"];
    pub const SLOTS: usize = 8;
    pub const NAMES: [&str; SLOTS] = ["eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "eflags"];
    pub const NUMBER: usize = 0;
    pub const ARGS: [usize; 6] = [1, 2, 3, 4, 5, 6];
    /// eflags: CF PF AF ZF SF OF set (bit 1 always reads 1, IF is not the program's).
    pub const FIXED: &[(usize, usize, usize)] = &[(7, 0x8d7, 0x8d5)];
    pub const ERRORS: super::Errors = super::Errors::Negated { result: 0 };

    /// # Safety
    /// `regs` must make a system call the kernel may perform.
    pub unsafe fn trap(regs: *mut super::Registers) {
        match rawpoll::raw::vsyscall_entry() {
            // SAFETY: as this function's; `entry` is __kernel_vsyscall, as the stub uses it.
            Some(entry) => unsafe {
                (*regs).stack[0] = entry;
                trap_through_vdso(regs)
            },
            // SAFETY: as this function's.
            None => unsafe { trap_through_int80(regs) },
        }
    }

    /// The trap as the stub makes it without a vDSO: `int $0x80`.
    ///
    /// # Safety
    /// As [`trap`]'s.
    unsafe fn trap_through_int80(regs: *mut super::Registers) {
        // SAFETY: every register the block writes is pushed first and popped last; the frame
        // is below the stack pointer the compiler gave (no `nostack`), `regs` is valid.
        unsafe {
            core::arch::asm!(
                ".irp r, eax,ebx,ecx,edx,esi,edi,ebp",
                r"push \r",
                ".endr",
                "push dword ptr [eax + 4*7]",
                "popfd",
                "mov ebx, [eax + 4*1]",
                "mov ecx, [eax + 4*2]",
                "mov edx, [eax + 4*3]",
                "mov esi, [eax + 4*4]",
                "mov edi, [eax + 4*5]",
                "mov ebp, [eax + 4*6]",
                "mov eax, [eax]",
                "int 0x80",
                "pushfd",
                ".irp r, ebp,edi,esi,edx,ecx,ebx,eax",
                r"push \r",
                ".endr",
                "mov eax, [esp + 4*8 + 4*6]",
                ".irp i, 0,1,2,3,4,5,6,7",
                r"pop dword ptr [eax + 4*\i]",
                ".endr",
                ".irp r, ebp,edi,esi,edx,ecx,ebx,eax",
                r"pop \r",
                ".endr",
                inout("eax") regs => _,
            );
        }
    }

    /// The trap as the stub makes it with a vDSO: `call` to __kernel_vsyscall, whose address
    /// is in `stack[0]`, pushed and called through memory as the stub does (`lea` drops it
    /// again without touching the flags).
    ///
    /// # Safety
    /// As [`trap`]'s, and `stack[0]` must be __kernel_vsyscall.
    unsafe fn trap_through_vdso(regs: *mut super::Registers) {
        // SAFETY: as in `trap_through_int80`; the pushed address is dropped before the
        // registers are stored, so the frame is the same.
        unsafe {
            core::arch::asm!(
                ".irp r, eax,ebx,ecx,edx,esi,edi,ebp",
                r"push \r",
                ".endr",
                "push dword ptr [eax + 4*7]",
                "popfd",
                "push dword ptr [eax + 4*8]",
                "mov ebx, [eax + 4*1]",
                "mov ecx, [eax + 4*2]",
                "mov edx, [eax + 4*3]",
                "mov esi, [eax + 4*4]",
                "mov edi, [eax + 4*5]",
                "mov ebp, [eax + 4*6]",
                "mov eax, [eax]",
                "call dword ptr [esp]",
                "lea esp, [esp + 4]",
                "pushfd",
                ".irp r, ebp,edi,esi,edx,ecx,ebx,eax",
                r"push \r",
                ".endr",
                "mov eax, [esp + 4*8 + 4*6]",
                ".irp i, 0,1,2,3,4,5,6,7",
                r"pop dword ptr [eax + 4*\i]",
                ".endr",
                ".irp r, ebp,edi,esi,edx,ecx,ebx,eax",
                r"pop \r",
                ".endr",
                inout("eax") regs => _,
            );
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod arch {
    pub const STUB: &str = include_str!("../../../arch/aarch64.rs");
    pub const DECLARED: &[&str] = &[
        "x0", "p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10", "p11", "p12",
        "p13", "p14", "p15",
    ];
    pub const SLOTS: usize = 49;
    /// x0-x30 and NZCV; then, where the CPU has SVE, p0-p15, each set all-true before the trap
    /// and counted (`cntp`, byte elements) after it; slot 48 is the vector length in bytes, 0
    /// without SVE, which also tells the block whether to touch SVE at all.
    pub const NAMES: [&str; SLOTS] = [
        "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13",
        "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26",
        "x27", "x28", "x29", "x30", "nzcv", "p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8",
        "p9", "p10", "p11", "p12", "p13", "p14", "p15", "",
    ];
    const VECTOR_BYTES: usize = 48;
    pub const NUMBER: usize = 8;
    pub const ARGS: [usize; 6] = [0, 1, 2, 3, 4, 5];
    /// NZCV: N and C set.
    pub const FIXED: &[(usize, usize, usize)] = &[(31, 0xa000_0000, 0xf000_0000)];
    pub const ERRORS: super::Errors = super::Errors::Negated { result: 0 };

    /// The SVE vector length in bytes (`prctl(PR_SVE_GET_VL)`), 0 if the CPU or kernel has no
    /// SVE; an all-true predicate has that many byte elements.
    pub fn prepare(slots: &mut [usize; SLOTS]) {
        const PR_SVE_GET_VL: usize = 51;
        const PR_SVE_VL_LEN_MASK: usize = 0xffff;
        let vl = super::call(
            linux_raw_sys::general::__NR_prctl as usize,
            [PR_SVE_GET_VL, 0, 0, 0, 0, 0],
        )
        .map_or(0, |v| v & PR_SVE_VL_LEN_MASK);
        for slot in &mut slots[32..] {
            *slot = vl;
        }
        slots[VECTOR_BYTES] = vl;
    }

    /// # Safety
    /// `regs` must make a system call the kernel may perform.
    pub unsafe fn trap(regs: *mut super::Registers) {
        // SAFETY: every register the block writes is stored in its own frame first and reloaded
        // last; `regs` is valid. The SVE predicates are declared as the stub declares them, and
        // touched only when `prepare` found SVE.
        unsafe {
            core::arch::asm!(
                ".arch_extension sve",
                "sub sp, sp, #512",
                ".irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30",
                r"str x\i, [sp, #8*\i]",
                ".endr",
                "ldr x1, [x0, #8*48]",
                "cbz x1, 1f",
                ".irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15",
                r"ptrue p\i\().b",
                ".endr",
                "1:",
                "ldr x1, [x0, #8*31]",
                "msr nzcv, x1",
                ".irp i, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30",
                r"ldr x\i, [x0, #8*\i]",
                ".endr",
                "ldr x0, [x0]",
                "svc #0",
                ".irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30",
                r"str x\i, [sp, #256 + 8*\i]",
                ".endr",
                "mrs x0, nzcv",
                "str x0, [sp, #256 + 8*31]",
                "ldr x0, [sp]",
                ".irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
                r"ldr x1, [sp, #256 + 8*\i]",
                r"str x1, [x0, #8*\i]",
                ".endr",
                "ldr x1, [x0, #8*48]",
                "cbz x1, 2f",
                ".irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15",
                r"cntp x1, p\i, p\i\().b",
                r"str x1, [x0, #8*(32 + \i)]",
                ".endr",
                "2:",
                ".irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30",
                r"ldr x\i, [sp, #8*\i]",
                ".endr",
                "add sp, sp, #512",
                inout("x0") regs => _,
                out("p0") _, out("p1") _, out("p2") _, out("p3") _,
                out("p4") _, out("p5") _, out("p6") _, out("p7") _,
                out("p8") _, out("p9") _, out("p10") _, out("p11") _,
                out("p12") _, out("p13") _, out("p14") _, out("p15") _,
            );
        }
    }
}

#[cfg(target_arch = "arm")]
mod arch {
    pub const STUB: &str = include_str!("../../../arch/arm.rs");
    pub const DECLARED: &[&str] = &["r0"];
    pub const SLOTS: usize = 16;
    /// r13 (sp) and r15 (pc) are not probed; slot 15 holds the APSR.
    pub const NAMES: [&str; SLOTS] = [
        "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "", "lr",
        "apsr",
    ];
    pub const NUMBER: usize = 7;
    pub const ARGS: [usize; 6] = [0, 1, 2, 3, 4, 5];
    /// APSR: N and C set (N Z C V Q compared).
    pub const FIXED: &[(usize, usize, usize)] = &[(15, 0xa000_0000, 0xf800_0000)];
    pub const ERRORS: super::Errors = super::Errors::Negated { result: 0 };

    /// # Safety
    /// `regs` must make a system call the kernel may perform.
    pub unsafe fn trap(regs: *mut super::Registers) {
        // SAFETY: every register the block writes is stored in its own frame first and reloaded
        // last (r7 included, the Thumb frame pointer); `regs` is valid.
        unsafe {
            core::arch::asm!(
                "sub sp, sp, #128",
                ".irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,14",
                r"str r\i, [sp, #4*\i]",
                ".endr",
                "ldr r1, [r0, #4*15]",
                "msr APSR_nzcvq, r1",
                ".irp i, 1,2,3,4,5,6,7,8,9,10,11,12,14",
                r"ldr r\i, [r0, #4*\i]",
                ".endr",
                "ldr r0, [r0]",
                "svc 0",
                ".irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,14",
                r"str r\i, [sp, #64 + 4*\i]",
                ".endr",
                "mrs r0, APSR",
                "str r0, [sp, #64 + 4*15]",
                "ldr r0, [sp]",
                ".irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,14,15",
                r"ldr r1, [sp, #64 + 4*\i]",
                r"str r1, [r0, #4*\i]",
                ".endr",
                ".irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,14",
                r"ldr r\i, [sp, #4*\i]",
                ".endr",
                "add sp, sp, #128",
                inout("r0") regs => _,
            );
        }
    }
}

#[cfg(target_arch = "loongarch64")]
mod arch {
    pub const STUB: &str = include_str!("../../../arch/loongarch64.rs");
    pub const DECLARED: &[&str] = &[
        "$a0", "$t0", "$t1", "$t2", "$t3", "$t4", "$t5", "$t6", "$t7", "$t8",
    ];
    pub const SLOTS: usize = 32;
    /// Indexed by register number; $zero and $sp are not probed.
    pub const NAMES: [&str; SLOTS] = [
        "", "$ra", "$tp", "", "$a0", "$a1", "$a2", "$a3", "$a4", "$a5", "$a6", "$a7", "$t0", "$t1",
        "$t2", "$t3", "$t4", "$t5", "$t6", "$t7", "$t8", "$r21", "$fp", "$s0", "$s1", "$s2", "$s3",
        "$s4", "$s5", "$s6", "$s7", "$s8",
    ];
    pub const NUMBER: usize = 11;
    pub const ARGS: [usize; 6] = [4, 5, 6, 7, 8, 9];
    pub const FIXED: &[(usize, usize, usize)] = &[];
    pub const ERRORS: super::Errors = super::Errors::Negated { result: 4 };

    /// # Safety
    /// `regs` must make a system call the kernel may perform.
    pub unsafe fn trap(regs: *mut super::Registers) {
        // SAFETY: every register the block writes is stored in its own frame first and reloaded
        // last; `regs` is valid.
        unsafe {
            core::arch::asm!(
                "addi.d $sp, $sp, -512",
                ".irp i, 1,2,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
                r"st.d $r\i, $sp, 8*\i",
                ".endr",
                ".irp i, 1,2,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
                r"ld.d $r\i, $r4, 8*\i",
                ".endr",
                "ld.d $r4, $r4, 8*4",
                "syscall 0",
                ".irp i, 1,2,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
                r"st.d $r\i, $sp, 256 + 8*\i",
                ".endr",
                "ld.d $r4, $sp, 8*4",
                ".irp i, 1,2,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
                r"ld.d $r5, $sp, 256 + 8*\i",
                r"st.d $r5, $r4, 8*\i",
                ".endr",
                ".irp i, 1,2,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
                r"ld.d $r\i, $sp, 8*\i",
                ".endr",
                "addi.d $sp, $sp, 512",
                inout("$a0") regs => _,
            );
        }
    }
}

#[cfg(target_arch = "mips")]
mod arch {
    pub const STUB: &str = include_str!("../../../arch/mips.rs");
    pub const DECLARED: &[&str] = &[
        "$2", "$7", "$3", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15", "$24", "$25",
    ];
    pub const SLOTS: usize = 32;
    pub const NAMES: [&str; SLOTS] = super::MIPS_NAMES;
    pub const NUMBER: usize = 2;
    /// Arguments five and six go on the stack (`usize::MAX`: not a register).
    pub const ARGS: [usize; 6] = [4, 5, 6, 7, usize::MAX, usize::MAX];
    pub const FIXED: &[(usize, usize, usize)] = &[];
    pub const ERRORS: super::Errors = super::MIPS_ERRORS;

    /// # Safety
    /// `regs` must make a system call the kernel may perform.
    pub unsafe fn trap(regs: *mut super::Registers) {
        // SAFETY: every register the block writes is stored in its own frame first and reloaded
        // last; arguments five and six sit at 16($sp) and 20($sp) as o32 wants; `regs` is valid.
        unsafe {
            core::arch::asm!(
                ".set noat",
                "addiu $sp, $sp, -288",
                ".irp i, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,28,30,31",
                r"sw $\i, 32 + 4*\i($sp)",
                ".endr",
                "lw $1, 4*32($4)",
                "sw $1, 16($sp)",
                "lw $1, 4*33($4)",
                "sw $1, 20($sp)",
                ".irp i, 2,3,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,28,30,31",
                r"lw $\i, 4*\i($4)",
                ".endr",
                "lw $4, 4*4($4)",
                "syscall",
                ".irp i, 2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,28,30,31",
                r"sw $\i, 160 + 4*\i($sp)",
                ".endr",
                "lw $4, 32 + 4*4($sp)",
                ".irp i, 2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,28,30,31",
                r"lw $1, 160 + 4*\i($sp)",
                r"sw $1, 4*\i($4)",
                ".endr",
                ".irp i, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,28,30,31",
                r"lw $\i, 32 + 4*\i($sp)",
                ".endr",
                "addiu $sp, $sp, 288",
                ".set at",
                inout("$4") regs => _,
            );
        }
    }
}

#[cfg(target_arch = "mips64")]
mod arch {
    pub const STUB: &str = include_str!("../../../arch/mips64.rs");
    pub const DECLARED: &[&str] = &[
        "$2", "$7", "$3", "$10", "$11", "$12", "$13", "$14", "$15", "$24", "$25",
    ];
    pub const SLOTS: usize = 32;
    pub const NAMES: [&str; SLOTS] = super::MIPS_NAMES;
    pub const NUMBER: usize = 2;
    pub const ARGS: [usize; 6] = [4, 5, 6, 7, 8, 9];
    pub const FIXED: &[(usize, usize, usize)] = &[];
    pub const ERRORS: super::Errors = super::MIPS_ERRORS;

    /// # Safety
    /// `regs` must make a system call the kernel may perform.
    pub unsafe fn trap(regs: *mut super::Registers) {
        // SAFETY: every register the block writes is stored in its own frame first and reloaded
        // last; `regs` is valid.
        unsafe {
            core::arch::asm!(
                ".set noat",
                "daddiu $sp, $sp, -512",
                ".irp i, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,28,30,31",
                r"sd $\i, 8*\i($sp)",
                ".endr",
                ".irp i, 2,3,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,28,30,31",
                r"ld $\i, 8*\i($4)",
                ".endr",
                "ld $4, 8*4($4)",
                "syscall",
                ".irp i, 2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,28,30,31",
                r"sd $\i, 256 + 8*\i($sp)",
                ".endr",
                "ld $4, 8*4($sp)",
                ".irp i, 2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,28,30,31",
                r"ld $1, 256 + 8*\i($sp)",
                r"sd $1, 8*\i($4)",
                ".endr",
                ".irp i, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,28,30,31",
                r"ld $\i, 8*\i($sp)",
                ".endr",
                "daddiu $sp, $sp, 512",
                ".set at",
                inout("$4") regs => _,
            );
        }
    }
}

#[cfg(target_arch = "powerpc64")]
mod arch {
    pub const STUB: &str = include_str!("../../../arch/powerpc64.rs");
    pub const DECLARED: &[&str] = &[
        "r0", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "ctr", "xer", "cr0",
    ];
    pub const SLOTS: usize = 42;
    /// r0-r31 by number (r1, the stack pointer, not probed), then lr, ctr and the condition
    /// register, stored whole in slot 34 and compared per field in slots 34-41 (cr0-cr7).
    pub const NAMES: [&str; SLOTS] = [
        "r0", "", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "r13",
        "r14", "r15", "r16", "r17", "r18", "r19", "r20", "r21", "r22", "r23", "r24", "r25", "r26",
        "r27", "r28", "r29", "r30", "r31", "lr", "ctr", "cr0", "cr1", "cr2", "cr3", "cr4", "cr5",
        "cr6", "cr7",
    ];
    pub const NUMBER: usize = 0;
    pub const ARGS: [usize; 6] = [3, 4, 5, 6, 7, 8];
    /// The condition register: a different, unlikely value in each field.
    pub const FIXED: &[(usize, usize, usize)] = &[(34, 0x9bd7_53ed, 0xffff_ffff)];
    /// cr0.SO (0x1000_0000 of the condition register) set on failure.
    pub const ERRORS: super::Errors = super::Errors::Flagged {
        result: 3,
        flag: 34,
        mask: 0x1000_0000,
    };
    /// Spreads the condition register of slot 34 over slots 34-41, one field each.
    pub fn fields(slots: &mut [usize; SLOTS]) {
        let cr = slots[34];
        for (i, slot) in slots[34..].iter_mut().enumerate() {
            *slot = (cr >> (28 - 4 * i)) & 0xf;
        }
    }

    /// # Safety
    /// `regs` must make a system call the kernel may perform.
    pub unsafe fn trap(regs: *mut super::Registers) {
        // SAFETY: every register the block writes (lr, ctr and the whole condition register
        // included) is stored in its own frame first and reloaded last; the frame keeps the
        // back chain and the 16-byte alignment; `regs` is valid.
        unsafe {
            core::arch::asm!(
                "stdu 1, -640(1)",
                ".irp i, 0,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
                r"std \i, 64 + 8*\i(1)",
                ".endr",
                "mflr 0",
                "std 0, 64 + 8*32(1)",
                "mfctr 0",
                "std 0, 64 + 8*33(1)",
                "mfcr 0",
                "std 0, 64 + 8*34(1)",
                "ld 0, 8*32(3)",
                "mtlr 0",
                "ld 0, 8*33(3)",
                "mtctr 0",
                "ld 0, 8*34(3)",
                "mtcr 0",
                ".irp i, 0,2,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
                r"ld \i, 8*\i(3)",
                ".endr",
                "ld 3, 8*3(3)",
                "sc",
                ".irp i, 0,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
                r"std \i, 344 + 8*\i(1)",
                ".endr",
                "mfcr 0",
                "std 0, 344 + 8*34(1)",
                "mflr 0",
                "std 0, 344 + 8*32(1)",
                "mfctr 0",
                "std 0, 344 + 8*33(1)",
                "ld 3, 64 + 8*3(1)",
                ".irp i, 0,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34",
                r"ld 0, 344 + 8*\i(1)",
                r"std 0, 8*\i(3)",
                ".endr",
                "ld 0, 64 + 8*32(1)",
                "mtlr 0",
                "ld 0, 64 + 8*33(1)",
                "mtctr 0",
                "ld 0, 64 + 8*34(1)",
                "mtcr 0",
                ".irp i, 0,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
                r"ld \i, 64 + 8*\i(1)",
                ".endr",
                "addi 1, 1, 640",
                inout("r3") regs => _,
            );
        }
    }
}

#[cfg(target_arch = "riscv64")]
mod arch {
    pub const STUB: &str = include_str!("../../../arch/riscv64.rs");
    pub const DECLARED: &[&str] = &[
        "a0", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12",
        "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25",
        "v26", "v27", "v28", "v29", "v30", "v31",
    ];
    pub const SLOTS: usize = 32;
    /// Indexed by register number (x0-x31); zero and sp are not probed.
    pub const NAMES: [&str; SLOTS] = [
        "", "ra", "", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
        "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5",
        "t6",
    ];
    pub const NUMBER: usize = 17;
    pub const ARGS: [usize; 6] = [10, 11, 12, 13, 14, 15];
    pub const FIXED: &[(usize, usize, usize)] = &[];
    pub const ERRORS: super::Errors = super::Errors::Negated { result: 10 };

    /// # Safety
    /// `regs` must make a system call the kernel may perform.
    pub unsafe fn trap(regs: *mut super::Registers) {
        // SAFETY: every register the block writes is stored in its own frame first and reloaded
        // last; `regs` is valid.
        unsafe {
            core::arch::asm!(
                "addi sp, sp, -512",
                ".irp i, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
                r"sd x\i, 8*\i(sp)",
                ".endr",
                ".irp i, 1,3,4,5,6,7,8,9,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
                r"ld x\i, 8*\i(x10)",
                ".endr",
                "ld x10, 8*10(x10)",
                "ecall",
                ".irp i, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
                r"sd x\i, 256 + 8*\i(sp)",
                ".endr",
                "ld x10, 8*10(sp)",
                ".irp i, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
                r"ld x5, 256 + 8*\i(sp)",
                r"sd x5, 8*\i(x10)",
                ".endr",
                ".irp i, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
                r"ld x\i, 8*\i(sp)",
                ".endr",
                "addi sp, sp, 512",
                inout("a0") regs => _,
            );
        }
    }
}

#[cfg(target_arch = "s390x")]
mod arch {
    pub const STUB: &str = include_str!("../../../arch/s390x.rs");
    pub const DECLARED: &[&str] = &["r2"];
    pub const SLOTS: usize = 17;
    /// r0-r15 by number (r15, the stack pointer, not probed), then the condition code with the
    /// program mask as `ipm` reads them.
    pub const NAMES: [&str; SLOTS] = [
        "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "r13",
        "r14", "", "cc",
    ];
    pub const NUMBER: usize = 1;
    pub const ARGS: [usize; 6] = [2, 3, 4, 5, 6, 7];
    /// Condition code 2, program mask 0 (`spm` takes them from bits 34-39).
    pub const FIXED: &[(usize, usize, usize)] = &[(16, 0x2000_0000, 0x3f00_0000)];
    pub const ERRORS: super::Errors = super::Errors::Negated { result: 2 };

    /// # Safety
    /// `regs` must make a system call the kernel may perform.
    pub unsafe fn trap(regs: *mut super::Registers) {
        // SAFETY: every register the block writes is stored in its own frame (above the 160-byte
        // save area) first and reloaded last; `regs` is valid.
        unsafe {
            core::arch::asm!(
                "aghi %r15, -432",
                "stmg %r0, %r14, 160(%r15)",
                "lg %r1, 8*16(%r2)",
                "spm %r1",
                "lmg %r0, %r14, 0(%r2)",
                "svc 0",
                "stmg %r0, %r14, 296(%r15)",
                "lghi %r0, 0",
                "ipm %r0",
                "stg %r0, 296 + 8*16(%r15)",
                "lg %r2, 160 + 8*2(%r15)",
                ".irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,16",
                r"lg %r0, 296 + 8*\i(%r15)",
                r"stg %r0, 8*\i(%r2)",
                ".endr",
                "lmg %r0, %r14, 160(%r15)",
                "aghi %r15, 432",
                inout("r2") regs => _,
            );
        }
    }
}

/// The MIPS registers by number; $zero, k0/k1 (the kernel's) and $sp are not probed, nor $1:
/// storing it after the trap is the read ci/check-mips-clobbers forbids (the kernel returns junk
/// there and the stub reloads it), and that check covers it.
#[cfg(any(target_arch = "mips", target_arch = "mips64"))]
const MIPS_NAMES: [&str; 32] = [
    "", "", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13", "$14",
    "$15", "$16", "$17", "$18", "$19", "$20", "$21", "$22", "$23", "$24", "$25", "", "", "$28", "",
    "$30", "$31",
];

/// MIPS (o32 and n64) reports failure the same way: a3 ($7) non-zero, v0 ($2) the errno.
#[cfg(any(target_arch = "mips", target_arch = "mips64"))]
const MIPS_ERRORS: Errors = Errors::Flagged {
    result: 2,
    flag: 7,
    mask: usize::MAX,
};

/// How an architecture reports failure, read from the registers the probe stored.
enum Errors {
    /// Slot `result` holds -errno in -4095..=-1.
    #[cfg_attr(
        any(
            target_arch = "mips",
            target_arch = "mips64",
            target_arch = "powerpc64"
        ),
        allow(dead_code)
    )]
    Negated { result: usize },
    /// Slot `flag` has a bit of `mask` set on failure, and slot `result` holds the errno.
    #[cfg_attr(
        not(any(
            target_arch = "mips",
            target_arch = "mips64",
            target_arch = "powerpc64"
        )),
        allow(dead_code)
    )]
    Flagged {
        result: usize,
        flag: usize,
        mask: usize,
    },
}

/// `(result, 0)` or `(usize::MAX, errno)`, as `syscall6` returns them.
fn split(slots: &[usize; arch::SLOTS]) -> (usize, usize) {
    match arch::ERRORS {
        Errors::Negated { result } if slots[result] > usize::MAX - 4095 => {
            (usize::MAX, slots[result].wrapping_neg())
        }
        Errors::Flagged { result, flag, mask } if slots[flag] & mask != 0 => {
            (usize::MAX, slots[result])
        }
        Errors::Negated { result } | Errors::Flagged { result, .. } => (slots[result], 0),
    }
}

// ---------------------------------------------------------------------------------------------
// One probed call and its check.

/// What the probe found over all calls: the declared registers some call did change.
struct Tally {
    calls: u64,
    changed: [bool; arch::SLOTS],
}

/// Makes system call `num(args)` through the architecture's probe block and checks its result
/// against `want` and every register the stub does not declare against the value it went in
/// with.
fn probe(
    c: &mut Checker,
    tally: &mut Tally,
    name: &str,
    num: usize,
    args: [usize; 6],
    want: (usize, usize),
) {
    let mut regs = Registers {
        slots: [0; arch::SLOTS],
        stack: [0; 2],
    };
    for (i, slot) in regs.slots.iter_mut().enumerate() {
        *slot = sentinel(i);
    }
    for &(slot, value, _) in arch::FIXED {
        regs.slots[slot] = value;
    }
    regs.slots[arch::NUMBER] = num;
    let mut stack_args = 0;
    for (&slot, &arg) in arch::ARGS.iter().zip(&args) {
        if slot == usize::MAX {
            regs.stack[stack_args] = arg;
            stack_args += 1;
        } else {
            regs.slots[slot] = arg;
        }
    }
    #[cfg(target_arch = "aarch64")]
    arch::prepare(&mut regs.slots);
    let mut before = regs.slots;
    // SAFETY: the callers pass system calls whose pointers are valid for them.
    unsafe { arch::trap(&mut regs) };
    let mut after = regs.slots;
    let result = split(&after);
    for &(slot, _, mask) in arch::FIXED {
        before[slot] &= mask;
        after[slot] &= mask;
    }
    #[cfg(target_arch = "powerpc64")]
    {
        arch::fields(&mut before);
        arch::fields(&mut after);
    }
    tally.calls += 1;
    c.eq(name, result, want);
    let mut bad = 0;
    for (i, reg) in arch::NAMES.iter().enumerate() {
        if reg.is_empty() || before[i] == after[i] {
            continue;
        }
        if may_change(reg) {
            tally.changed[i] = true;
            continue;
        }
        bad += 1;
        print("    ");
        print(reg);
        print(" changed: ");
        print_hex(before[i] as u64);
        print(" -> ");
        print_hex(after[i] as u64);
        print("\n");
    }
    c.that(
        "  every undeclared register preserved",
        bad == 0,
        bad as u64,
    );
}

/// The slots the probe compares (named, not declared by the stub).
fn preserved_count() -> u64 {
    arch::NAMES
        .iter()
        .filter(|r| !r.is_empty() && !may_change(r))
        .count() as u64
}

// ---------------------------------------------------------------------------------------------
// Signals, for the interrupted call: a SIGCHLD handler and the kernel's `sigaction`.

/// The kernel's signal set as `rt_sigaction` and `epoll_pwait` read it.
type SigWords = [usize; raw::KERNEL_SIGSET_SIZE / core::mem::size_of::<usize>()];

/// The empty signal set.
const NO_SIGNALS: SigWords = [0; raw::KERNEL_SIGSET_SIZE / core::mem::size_of::<usize>()];

/// The set of `signal` alone.
fn sigset_with(signal: u32) -> SigWords {
    let mut set = NO_SIGNALS;
    let bit = signal as usize - 1;
    set[bit / usize::BITS as usize] |= 1 << (bit % usize::BITS as usize);
    set
}

/// The kernel's `struct sigaction` for `rt_sigaction` (handler, flags, restorer, mask).
#[cfg(not(any(target_arch = "mips", target_arch = "mips64")))]
#[repr(C)]
struct KernelSigaction {
    handler: usize,
    flags: usize,
    restorer: usize,
    mask: SigWords,
}

/// MIPS puts the flags first, as an `unsigned int`, and has no restorer.
#[cfg(any(target_arch = "mips", target_arch = "mips64"))]
#[repr(C)]
struct KernelSigaction {
    flags: u32,
    handler: usize,
    mask: SigWords,
}

impl KernelSigaction {
    fn new(handler: usize) -> KernelSigaction {
        KernelSigaction {
            handler,
            #[cfg(not(any(target_arch = "mips", target_arch = "mips64")))]
            flags: k::SA_SIGINFO as usize | restorer().0,
            #[cfg(not(any(target_arch = "mips", target_arch = "mips64")))]
            restorer: restorer().1,
            #[cfg(any(target_arch = "mips", target_arch = "mips64"))]
            flags: k::SA_SIGINFO,
            mask: NO_SIGNALS,
        }
    }
}

// The handler is installed with SA_SIGINFO, which makes every architecture build the same
// (rt) signal frame; i386 builds an older frame without it, which `rt_sigreturn` cannot undo. x86
// and x86-64 return from a handler through a restorer the program supplies (x86-64 requires one);
// everywhere else the kernel's vDSO or signal page provides it.
#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".pushsection .text.rawpoll_probe_restorer, \"ax\", @progbits",
    ".globl rawpoll_probe_restorer",
    "rawpoll_probe_restorer:",
    "mov eax, {nr}",
    "syscall",
    "ud2",
    ".popsection",
    nr = const k::__NR_rt_sigreturn,
);

#[cfg(target_arch = "x86")]
core::arch::global_asm!(
    ".pushsection .text.rawpoll_probe_restorer, \"ax\", @progbits",
    ".globl rawpoll_probe_restorer",
    "rawpoll_probe_restorer:",
    "mov eax, {nr}",
    "int 0x80",
    "ud2",
    ".popsection",
    nr = const k::__NR_rt_sigreturn,
);

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
extern "C" {
    fn rawpoll_probe_restorer();
}

/// The SA_RESTORER flag and the `sa_restorer` to pass, where the architecture wants one.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
fn restorer() -> (usize, usize) {
    (
        k::SA_RESTORER as usize,
        rawpoll_probe_restorer as *const () as usize,
    )
}

#[cfg(not(any(
    target_arch = "x86",
    target_arch = "x86_64",
    target_arch = "mips",
    target_arch = "mips64"
)))]
fn restorer() -> (usize, usize) {
    (0, 0)
}

static SIGCHLD_HANDLED: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_sigchld(_signal: i32) {
    SIGCHLD_HANDLED.fetch_add(1, Ordering::SeqCst);
}

/// `rt_sigaction(signal, new, old)`.
fn sigaction(
    signal: u32,
    new: &KernelSigaction,
    old: &mut KernelSigaction,
) -> Result<usize, Errno> {
    // SAFETY: both point to live `struct sigaction`s of the kernel's layout and size.
    Errno::result(unsafe {
        syscall6(
            k::__NR_rt_sigaction as usize,
            signal as usize,
            new as *const KernelSigaction as usize,
            old as *mut KernelSigaction as usize,
            raw::KERNEL_SIGSET_SIZE,
            0,
            0,
        )
    })
}

/// `rt_sigprocmask(how, set, old)`.
fn sigprocmask(how: u32, set: &SigWords, old: &mut SigWords) -> Result<usize, Errno> {
    // SAFETY: both point to live signal sets of the kernel's size.
    Errno::result(unsafe {
        syscall6(
            k::__NR_rt_sigprocmask as usize,
            how as usize,
            set.as_ptr() as usize,
            old.as_mut_ptr() as usize,
            raw::KERNEL_SIGSET_SIZE,
            0,
            0,
        )
    })
}

/// What `syscall6` returns for a failure with `errno`.
fn failed(errno: Errno) -> (usize, usize) {
    (usize::MAX, errno.raw() as usize)
}

/// `syscall6` returning the result or the errno.
fn call(num: usize, args: [usize; 6]) -> Result<usize, Errno> {
    // SAFETY: the callers pass calls that take integers or pointers to live buffers.
    Errno::result(unsafe { syscall6(num, args[0], args[1], args[2], args[3], args[4], args[5]) })
}

/// Runs the probe's four calls, one `ok`/`FAIL` line each plus one for the registers, then the
/// summary line `probe: 4 calls x N registers preserved (...)`.
pub fn run(c: &mut Checker) {
    let mut tally = Tally {
        calls: 0,
        changed: [false; arch::SLOTS],
    };
    let pid = call(raw::SYS_GETPID, [0; 6]).unwrap_or(0);
    probe(
        c,
        &mut tally,
        "probe getpid -> own pid",
        raw::SYS_GETPID,
        [0; 6],
        (pid, 0),
    );

    probe(
        c,
        &mut tally,
        "probe close(-1) -> EBADF",
        raw::SYS_CLOSE,
        [usize::MAX, 0, 0, 0, 0, 0],
        failed(Errno::EBADF),
    );

    // A ready eventfd in an epoll set; `struct epoll_event` is `events` then `data` on every
    // architecture, and only `events` matters here.
    let cloexec = k::EPOLL_CLOEXEC as usize;
    let ep = call(raw::SYS_EPOLL_CREATE1, [cloexec, 0, 0, 0, 0, 0]).unwrap_or(usize::MAX);
    let efd =
        call(raw::SYS_EVENTFD2, [1, k::EFD_CLOEXEC as usize, 0, 0, 0, 0]).unwrap_or(usize::MAX);
    let event: [u32; 4] = [k::EPOLLIN, 0, 0, 0];
    let _ = call(
        raw::SYS_EPOLL_CTL,
        [
            ep,
            k::EPOLL_CTL_ADD as usize,
            efd,
            event.as_ptr() as usize,
            0,
            0,
        ],
    );
    let mut events = [0u64; 4];
    // Any real mask will do (signal 10 blocked, as in the conformance runner's own case).
    let mask = sigset_with(10);
    probe(
        c,
        &mut tally,
        "probe epoll_pwait(ready, sigmask) -> 1",
        raw::SYS_EPOLL_PWAIT,
        [
            ep,
            events.as_mut_ptr() as usize,
            1,
            0,
            mask.as_ptr() as usize,
            raw::KERNEL_SIGSET_SIZE,
        ],
        (1, 0),
    );
    let _ = call(raw::SYS_CLOSE, [efd, 0, 0, 0, 0, 0]);
    let _ = call(raw::SYS_CLOSE, [ep, 0, 0, 0, 0, 0]);

    interrupted(c, &mut tally);
    #[cfg(target_arch = "x86")]
    int80_too(c, &mut tally);

    print("probe: ");
    print_u64(tally.calls);
    print(" calls x ");
    print_u64(preserved_count());
    print(" registers preserved (clobbered as declared:");
    for reg in arch::NAMES
        .iter()
        .filter(|r| !r.is_empty() && may_change(r))
    {
        print(" ");
        print(reg);
    }
    print("; changed in these calls:");
    let changed = arch::NAMES.iter().zip(&tally.changed).filter(|(_, &c)| c);
    let mut none = true;
    for (reg, _) in changed {
        print(" ");
        print(reg);
        none = false;
    }
    if none {
        print(" none");
    }
    print(")\n");
}

/// On x86 with a vDSO, the calls above entered through it; the stub's other path, `int $0x80`,
/// is probed too, with the entry switched off for two calls (eflags are promised there).
#[cfg(target_arch = "x86")]
fn int80_too(c: &mut Checker, tally: &mut Tally) {
    let Some(entry) = raw::vsyscall_entry() else {
        return;
    };
    // SAFETY: `None` makes every call use `int $0x80`; `entry` is what the lookup found.
    unsafe { raw::set_vsyscall_entry(None) };
    let pid = call(raw::SYS_GETPID, [0; 6]).unwrap_or(0);
    probe(
        c,
        tally,
        "probe getpid through int $0x80 -> own pid",
        raw::SYS_GETPID,
        [0; 6],
        (pid, 0),
    );
    probe(
        c,
        tally,
        "probe close(-1) through int $0x80 -> EBADF",
        raw::SYS_CLOSE,
        [usize::MAX, 0, 0, 0, 0, 0],
        failed(Errno::EBADF),
    );
    // SAFETY: as above: the entry the lookup found.
    unsafe { raw::set_vsyscall_entry(Some(entry)) };
}

/// An `epoll_pwait` on an empty set that blocks with SIGCHLD unblocked by its mask alone, until a
/// child's exit delivers SIGCHLD to a handler: EINTR, and the handler ran once. (If SIGCHLD comes
/// before the call, it waits pending and interrupts the call at once: the same result.)
fn interrupted(c: &mut Checker, tally: &mut Tally) {
    let handler = KernelSigaction::new(on_sigchld as *const () as usize);
    let mut old_action = KernelSigaction::new(0);
    let installed = sigaction(raw::SIGCHLD, &handler, &mut old_action);
    c.eq("probe setup: SIGCHLD handler installed", installed, Ok(0));
    let mut old_mask = NO_SIGNALS;
    let blocked = sigprocmask(k::SIG_BLOCK, &sigset_with(raw::SIGCHLD), &mut old_mask);
    c.eq("probe setup: SIGCHLD blocked", blocked, Ok(0));
    let cloexec = k::EPOLL_CLOEXEC as usize;
    let ep = call(raw::SYS_EPOLL_CREATE1, [cloexec, 0, 0, 0, 0, 0]).unwrap_or(usize::MAX);
    let mut events = [0u64; 4];
    SIGCHLD_HANDLED.store(0, Ordering::SeqCst);
    match fork() {
        Ok(0) => {
            // Give the parent time to block (not needed for the result, see above).
            let _ = call(
                raw::SYS_EPOLL_PWAIT,
                [ep, events.as_mut_ptr() as usize, 1, 50, 0, 0],
            );
            exit(0)
        }
        Ok(child) => {
            // A bound in case SIGCHLD never comes (the case then fails with a result of 0).
            const TIMEOUT_MS: usize = 20_000;
            probe(
                c,
                tally,
                "probe epoll_pwait(empty, sigmask) interrupted by SIGCHLD -> EINTR",
                raw::SYS_EPOLL_PWAIT,
                [
                    ep,
                    events.as_mut_ptr() as usize,
                    1,
                    TIMEOUT_MS,
                    NO_SIGNALS.as_ptr() as usize,
                    raw::KERNEL_SIGSET_SIZE,
                ],
                failed(Errno::EINTR),
            );
            c.eq(
                "  the handler ran once",
                SIGCHLD_HANDLED.load(Ordering::SeqCst),
                1,
            );
            c.eq(
                "  the child exited 0",
                wait(child).map(crate::exit_code),
                Ok(Some(0)),
            );
        }
        Err(e) => {
            c.eq("probe setup: fork", Err(e), Ok(0));
        }
    }
    let _ = call(raw::SYS_CLOSE, [ep, 0, 0, 0, 0, 0]);
    let mut ignored = NO_SIGNALS;
    let _ = sigprocmask(k::SIG_SETMASK, &old_mask, &mut ignored);
    let mut ignored = KernelSigaction::new(0);
    let _ = sigaction(raw::SIGCHLD, &old_action, &mut ignored);
}
