//! The register probe's trap block for 32-bit ARM: the stub's declared outputs (checked against
//! `arch/arm.rs` at compile time), the registers it loads and stores, and the trap itself.

pub const STUB: &str = include_str!("../../../../arch/arm.rs");
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

// SAFETY: every register the block writes is stored in its own frame first and reloaded
// last (r7 included, the Thumb frame pointer); `regs` is valid.
trap! {
    pub fn trap(regs) {
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
    }
}
