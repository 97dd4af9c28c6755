//! The register probe's trap block for x86_64 and x32 (64-bit slots on both): the stub's declared outputs (checked against
//! `arch/x86_64.rs` at compile time), the registers it loads and stores, and the trap itself.

pub const STUB: &str = include_str!("../../../../arch/x86_64.rs");
pub const DECLARED: &[&str] = &["rax", "rcx", "r11"];
pub const SLOTS: usize = 16;
pub const NAMES: [&str; SLOTS] = [
    "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
    "r15", "rflags",
];
pub const NUMBER: usize = 0;
pub const ARGS: [usize; 6] = [5, 4, 3, 9, 7, 8];
/// rflags: CF PF AF ZF SF OF set (bit 1 always reads 1, IF is not the program's).
pub const FIXED: &[(usize, usize, usize)] = &[(15, 0x8d7, 0x8d5)];
pub const ERRORS: super::Errors = super::Errors::Negated { result: 0 };

// SAFETY: every register the block writes is pushed first and popped last; the frame
// is below the stack pointer the compiler gave (no `nostack`), `regs` is valid.
trap! {
    pub fn trap(regs) {
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
        // Zero-extended: on x32 the pointer is 32 bits and the block addresses with all of rax.
        inout("rax") regs as usize as u64 => _,
    }
}
