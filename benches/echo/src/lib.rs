//! What every echo server of the benchmark shares, so that the servers differ only in their
//! runtime: the counting global allocator, the listener, the control thread, and the echo
//! buffer's size.
//!
//! A server binds 127.0.0.1 on a port the kernel picks and prints `PORT n` on stdout. A control
//! thread then reads its stdin: each line `stat` is answered with
//! `STAT allocations user_ns system_ns` (the allocations so far on every thread, the process's
//! CPU time from `getrusage`); end of input ends the process. The control thread sleeps in
//! `read` while the load runs, so it adds no system call to a measured window.

use std::io::{BufRead, Write};
use std::net::TcpListener;

/// Bytes a server reads at once. Larger than a message, so that a read that returns fewer bytes
/// than this has drained the socket (rawpoll's examples then skip the read that would return
/// `EAGAIN`, as tokio does).
pub const BUF: usize = 4096;

/// Connections the listener's backlog holds (the load generator connects all of them at once).
const BACKLOG: i32 = 1024;

/// The counting allocator of `benches/peers` (the system allocator, counting every `alloc`,
/// `alloc_zeroed` and `realloc`); every binary of this package uses it.
#[path = "../../peers/alloc_count.rs"]
mod alloc_count;
pub use alloc_count::{allocations, Counting};

#[global_allocator]
static ALLOC: Counting = Counting;

/// User and system CPU time of the whole process (every thread), in nanoseconds.
pub fn cpu_ns() -> (u64, u64) {
    // SAFETY: an all-zero rusage is a valid value; getrusage only writes it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: ru is a valid, writable rusage.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return (0, 0);
    }
    let ns = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1000;
    (ns(ru.ru_utime), ns(ru.ru_stime))
}

/// Binds the listener (non-blocking), prints its port, and starts the control thread.
pub fn listen() -> TcpListener {
    let listener = bind().unwrap_or_else(|e| {
        eprintln!("echo server: cannot listen on 127.0.0.1: {e}");
        std::process::exit(1);
    });
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "PORT {port}");
    let _ = out.flush();
    drop(out);
    std::thread::spawn(control);
    listener
}

/// A listener with a backlog for every connection of the load (std's is 128).
fn bind() -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    // SAFETY: listen on a descriptor the listener owns and keeps open.
    if unsafe { libc::listen(std::os::fd::AsRawFd::as_raw_fd(&listener), BACKLOG) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Answers `stat` lines on stdin; exits the process at the end of input.
fn control() {
    let stdin = std::io::stdin();
    let mut line = String::with_capacity(64);
    loop {
        line.clear();
        match stdin.lock().read_line(&mut line) {
            Ok(0) | Err(_) => std::process::exit(0),
            Ok(_) => {}
        }
        if line.trim() == "stat" {
            let allocations = allocations();
            let (user, system) = cpu_ns();
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "STAT {allocations} {user} {system}");
            let _ = out.flush();
        }
    }
}

pub mod st;
pub mod tokio_server;
