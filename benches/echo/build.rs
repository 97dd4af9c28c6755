//! Copies the single-threaded example (examples/single_thread/executor.rs and echo.rs) into
//! OUT_DIR, the executor with room for 1024 tasks (the example holds 256; its comment says to
//! edit the constant to taste), so that the benchmark runs the files a user copies, with the one
//! edit a user serving 512 connections makes.

fn main() {
    let executor = copy("executor.rs");
    let from = "pub const MAX_TASKS: usize = 256;";
    assert!(
        executor.contains(from),
        "executor.rs no longer says `{from}`"
    );
    write(
        "st_executor.rs",
        executor.replace(from, "pub const MAX_TASKS: usize = 1024;"),
    );
    write("st_echo.rs", copy("echo.rs"));
}

/// The text of examples/single_thread/`name`, with its inner doc comments made plain (included
/// with include!, where they cannot stand).
fn copy(name: &str) -> String {
    let src = format!("../../examples/single_thread/{name}");
    println!("cargo:rerun-if-changed={src}");
    let text = std::fs::read_to_string(&src).unwrap_or_else(|e| panic!("{src}: {e}"));
    text.lines()
        .map(|l| {
            l.strip_prefix("//!")
                .map_or(l.to_string(), |r| format!("//{r}"))
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn write(name: &str, text: String) {
    let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join(name);
    std::fs::write(&out, text).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
}
