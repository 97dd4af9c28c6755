//! Copies the single-threaded example's executor (examples/single_thread/executor.rs) into
//! OUT_DIR with room for 1024 tasks (the example holds 256; its comment says to edit the
//! constant to taste), so that the benchmark measures the file a user copies, with the one edit
//! a user serving 512 connections makes.

fn main() {
    let src = "../../examples/single_thread/executor.rs";
    println!("cargo:rerun-if-changed={src}");
    let text = std::fs::read_to_string(src).expect("examples/single_thread/executor.rs");
    let from = "pub const MAX_TASKS: usize = 256;";
    assert!(text.contains(from), "{src} no longer says `{from}`");
    let text = text.replace(from, "pub const MAX_TASKS: usize = 1024;");
    // Included with include!, where inner doc comments cannot stand.
    let text: String = text
        .lines()
        .map(|l| {
            l.strip_prefix("//!")
                .map_or(l.to_string(), |r| format!("//{r}"))
        })
        .collect::<Vec<_>>()
        .join("\n");
    let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("st_executor.rs");
    std::fs::write(out, text + "\n").expect("write OUT_DIR/st_executor.rs");
}
