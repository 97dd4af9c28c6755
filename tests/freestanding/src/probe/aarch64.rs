//! The register probe's trap block for aarch64: the stub's declared outputs (checked against
//! `arch/aarch64.rs` at compile time), the registers it loads and stores, and the trap itself.

pub const STUB: &str = include_str!("../../../../arch/aarch64.rs");
pub const DECLARED: &[&str] = &[
    "x0", "p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10", "p11", "p12", "p13",
    "p14", "p15",
];
pub const SLOTS: usize = 49;
/// x0-x30 and NZCV; then, where the CPU has SVE, p0-p15, each set all-true before the trap
/// and counted (`cntp`, byte elements) after it; slot 48 is the vector length in bytes, 0
/// without SVE, which also tells the block whether to touch SVE at all.
pub const NAMES: [&str; SLOTS] = [
    "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14",
    "x15", "x16", "x17", "x18", "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27",
    "x28", "x29", "x30", "nzcv", "p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10",
    "p11", "p12", "p13", "p14", "p15", "",
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

// SAFETY: every register the block writes is stored in its own frame first and reloaded
// last; `regs` is valid. The SVE predicates are declared as the stub declares them, and
// touched only when `prepare` found SVE.
trap! {
    pub fn trap(regs) {
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
    }
}
