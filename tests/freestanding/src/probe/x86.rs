//! The register probe's trap block for 32-bit x86 (int $0x80, and the vDSO's `__kernel_vsyscall`):
//! the stub's declared outputs (checked against `arch/x86.rs` at compile time), the registers it
//! loads and stores, and the trap itself.

pub const STUB: &str = include_str!("../../../../arch/x86.rs");
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

// SAFETY: every register the block writes is pushed first and popped last; the frame
// is below the stack pointer the compiler gave (no `nostack`), `regs` is valid.
trap! {
    /// The trap as the stub makes it without a vDSO: `int $0x80`.
    ///
    /// # Safety
    /// As [`trap`]'s.
    fn trap_through_int80(regs) {
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
    }
}

// SAFETY: as in `trap_through_int80`; the pushed address is dropped before the
// registers are stored, so the frame is the same.
trap! {
    /// The trap as the stub makes it with a vDSO: `call` to __kernel_vsyscall, whose address
    /// is in `stack[0]`, pushed and called through memory as the stub does (`lea` drops it
    /// again without touching the flags).
    ///
    /// # Safety
    /// As [`trap`]'s, and `stack[0]` must be __kernel_vsyscall.
    fn trap_through_vdso(regs) {
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
    }
}
