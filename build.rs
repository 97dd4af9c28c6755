//! Tells `arch/arm.rs` that the target compiles to Thumb code, where r7 is the frame pointer and
//! `asm!` refuses it as an operand.
//!
//! rustc knows this as `target_feature = "thumb-mode"`, but stable Rust hides unstable target
//! features from `cfg` (`rustc --print cfg --target thumbv7neon-unknown-linux-gnueabihf` lists
//! none on stable), and the build script's `CARGO_CFG_TARGET_FEATURE` comes from the same query,
//! so asking rustc here would not help either. What stable does show is the target's name: every
//! Rust target whose code is Thumb by default is named `thumb*`. `arch/arm.rs` takes the Thumb
//! stub for `any(target_feature = "thumb-mode", rawpoll_thumb)`, so a nightly build that turns
//! Thumb on for an `armv7` target (`-C target-feature=+thumb-mode`) is still covered; the Thumb
//! stub is also right in Arm state, so the converse case costs two moves, never correctness.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=TARGET");
    println!("cargo:rustc-check-cfg=cfg(rawpoll_thumb)");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.starts_with("thumb") {
        println!("cargo:rustc-cfg=rawpoll_thumb");
    }
}
