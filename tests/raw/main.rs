//! Host tests of the system-call layer and the typed API over it: the typed wrappers and
//! descriptor types (`api`), the raw layer's error paths (`errors`, whose table of raw cases,
//! `common/raw_cases.rs`, the freestanding runner shares), and the `sc` crate as an oracle for
//! numbers and results (`oracle_sc`). `vsyscall.rs` in this folder is a test binary
//! of its own (Cargo.toml): it checks how the first system call of a process enters the kernel,
//! which no other test may make first.

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/raw_cases.rs"]
mod raw_cases;

mod api;
mod errors;
mod oracle_sc;
