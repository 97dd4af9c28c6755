//! What every echo server of the benchmark shares, so that the servers differ only in their
//! runtime: the counting global allocator, the listener, the control thread, and the echo
//! buffer's size.
//!
//! A server binds 127.0.0.1 on a port the kernel picks and prints `PORT n` on stdout. A control
//! thread then reads its stdin: each line `stat` is answered with
//! `STAT allocations user_ns system_ns` (the allocations so far on every thread, the process's
//! CPU time from `getrusage`); end of input ends the process. The control thread sleeps in
//! `read` while the load runs, so it adds no system call to a measured window.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{BufRead, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes a server reads at once. Larger than a message, so that a read that returns fewer bytes
/// than this has drained the socket (the servers that use this skip the read that would return
/// `EAGAIN`, as tokio does).
pub const BUF: usize = 4096;

/// Connections the listener's backlog holds (the load generator connects all of them at once).
const BACKLOG: i32 = 1024;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

/// The system allocator, counting every `alloc`, `alloc_zeroed` and `realloc`; every binary of
/// this package uses it.
pub struct Counting;

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Allocations so far, on every thread.
pub fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

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

/// The echo connection of the rawpoll servers, on rawpoll's readiness layer.
pub mod rawpoll_io {
    use super::BUF;
    use core::future::poll_fn;
    use rawpoll::netpoll::{Direction, PollDesc};
    use rawpoll::Errno;
    use std::io::{ErrorKind, Read, Write};
    use std::net::TcpStream;

    /// Waits until `dir` of `pd` is ready (or closing, or expired: an error).
    pub async fn ready(pd: &PollDesc, dir: Direction) -> Result<(), Errno> {
        poll_fn(|cx| pd.poll_ready(dir, cx)).await
    }

    /// Echoes what `stream` (registered with `pd`) reads until end of input or an error, as the
    /// examples do (examples/single_thread/echo.rs, `Conn::io` in
    /// examples/multi_thread/executor.rs): each I/O is tried first, and only an `EAGAIN` clears
    /// the edge and waits. Every message therefore costs a read that returns `EAGAIN`.
    pub async fn echo(stream: &TcpStream, pd: &PollDesc) {
        let mut buf = [0u8; BUF];
        loop {
            match io(pd, Direction::Read, || (&*stream).read(&mut buf)).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if write_all(stream, pd, &buf[..n]).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// The examples' I/O loop: runs `op` until it does not fail with `WouldBlock`, clearing the
    /// edge and waiting for `dir` in between.
    pub async fn io<T>(
        pd: &PollDesc,
        dir: Direction,
        mut op: impl FnMut() -> std::io::Result<T>,
    ) -> std::io::Result<T> {
        poll_fn(|cx| loop {
            match op() {
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    pd.clear_ready(dir);
                    match pd.poll_ready(dir, cx) {
                        core::task::Poll::Ready(Ok(())) => continue,
                        core::task::Poll::Ready(Err(e)) => {
                            return core::task::Poll::Ready(Err(e.into()))
                        }
                        core::task::Poll::Pending => return core::task::Poll::Pending,
                    }
                }
                other => return core::task::Poll::Ready(other),
            }
        })
        .await
    }

    /// Echoes what `stream` (registered with `pd`) reads until end of input or an error, waiting
    /// for readiness before each read; a read that returns fewer bytes than the buffer has
    /// drained the socket, so the edge is cleared without the read that would return `EAGAIN`
    /// (as tokio does). `clear_ready` keeps any edge that arrived after `poll_ready` returned
    /// `Ready`, whatever the order of that edge, the read and the clear, so data that arrives
    /// later is never left waiting for another edge.
    pub async fn echo_short_reads(stream: &TcpStream, pd: &PollDesc) {
        let mut buf = [0u8; BUF];
        loop {
            if ready(pd, Direction::Read).await.is_err() {
                return;
            }
            let n = match (&*stream).read(&mut buf) {
                Ok(0) => return,
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    pd.clear_ready(Direction::Read);
                    continue;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return,
            };
            if n < BUF {
                pd.clear_ready(Direction::Read);
            }
            if write_all(stream, pd, &buf[..n]).await.is_err() {
                return;
            }
        }
    }

    async fn write_all(stream: &TcpStream, pd: &PollDesc, mut data: &[u8]) -> Result<(), Errno> {
        while !data.is_empty() {
            match io(pd, Direction::Write, || (&*stream).write(data)).await {
                Ok(0) | Err(_) => return Err(Errno::EPIPE),
                Ok(n) => data = &data[n..],
            }
        }
        Ok(())
    }
}
