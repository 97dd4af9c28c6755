//! Helpers shared by the host test files.

/// An eventfd's counter, read without consuming it (`/proc/self/fdinfo` prints it in hex).
pub fn eventfd_count(fd: i32) -> u64 {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap();
    let line = info
        .lines()
        .find(|l| l.starts_with("eventfd-count:"))
        .unwrap();
    u64::from_str_radix(line["eventfd-count:".len()..].trim(), 16).unwrap()
}
