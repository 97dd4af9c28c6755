//! The register probe's trap block for s390x: the stub's declared outputs (checked against
//! `arch/s390x.rs` at compile time), the registers it loads and stores, and the trap itself.

pub const STUB: &str = include_str!("../../../../arch/s390x.rs");
pub const DECLARED: &[&str] = &["r2"];
pub const SLOTS: usize = 17;
/// r0-r15 by number (r15, the stack pointer, not probed), then the condition code with the
/// program mask as `ipm` reads them.
pub const NAMES: [&str; SLOTS] = [
    "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
    "", "cc",
];
pub const NUMBER: usize = 1;
pub const ARGS: [usize; 6] = [2, 3, 4, 5, 6, 7];
/// Condition code 2, program mask 0 (`spm` takes them from bits 34-39).
pub const FIXED: &[(usize, usize, usize)] = &[(16, 0x2000_0000, 0x3f00_0000)];
pub const ERRORS: super::Errors = super::Errors::Negated { result: 2 };

// SAFETY: every register the block writes is stored in its own frame (above the 160-byte
// save area) first and reloaded last; `regs` is valid.
trap! {
    pub fn trap(regs) {
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
    }
}
