//! rawpoll's demo: the Go runtime's netpoller in a freestanding static binary (no std, no libc,
//! its own `_start`).
//!
//! It initialises a `Netpoll`, registers the read ends of two pipes, and forks a child that
//! writes to the first pipe, wakes the poller, writes to the second and exits. The parent
//! polls until both pipes reach end-of-file, printing a trace of every poll, then a summary;
//! it exits 0 only if it read exactly what the child sent and the child exited 0 (which it does
//! only if its `wake` succeeded).
//!
//! Build and run it with `ci/demo` (host) or `ci/matrix demo` (every target under qemu).
#![no_std]
#![no_main]

use rawpoll::netpoll::{Netpoll, PollDesc};
use rawpoll::{
    close, epoll_create1, epoll_pwait, pipe2, read, write, EpollEvent, Errno, EFD_CLOEXEC,
    EFD_NONBLOCK,
};
use rawpoll_freestanding::{entry, exit, fork, print, print_bytes, print_u64, wait};

entry!(main);

static POLLER: Netpoll = Netpoll::new();
static PIPES: [PollDesc; 2] = [PollDesc::new(), PollDesc::new()];
const MESSAGES: [&[u8]; 2] = [b"hello", b"world!"];

/// Reports a failed call (by errno number: the name table would double the binary's data).
fn fail(what: &str, errno: Errno) -> i32 {
    print("demo: ");
    print(what);
    print(" failed: errno ");
    print_u64(errno.raw() as u64);
    print("\n");
    1
}

/// Sleeps about `ms` milliseconds (an `epoll_pwait` on an empty set of its own).
fn sleep_ms(ms: i32) {
    if let Ok(ep) = epoll_create1(EFD_CLOEXEC) {
        let _ = epoll_pwait(ep, &mut [EpollEvent::zeroed()], ms);
        let _ = close(ep);
    }
}

fn child(write_ends: [i32; 2]) -> ! {
    sleep_ms(20);
    let _ = write(write_ends[0], MESSAGES[0]);
    let _ = close(write_ends[0]);
    sleep_ms(20);
    let woke = POLLER.wake().is_ok();
    sleep_ms(20);
    let _ = write(write_ends[1], MESSAGES[1]);
    let _ = close(write_ends[1]);
    exit(if woke { 0 } else { 1 })
}

fn main() -> i32 {
    print("rawpoll demo: Go's netpoller, no std\n");
    if let Err(e) = POLLER.init() {
        return fail("init", e);
    }
    let mut read_ends = [-1; 2];
    let mut write_ends = [-1; 2];
    for (i, pd) in PIPES.iter().enumerate() {
        let [r, w] = match pipe2(EFD_CLOEXEC | EFD_NONBLOCK) {
            Ok(fds) => fds,
            Err(e) => return fail("pipe2", e),
        };
        pd.set_user_data(i);
        if let Err(e) = POLLER.open(r, pd) {
            return fail("open", e);
        }
        read_ends[i] = r;
        write_ends[i] = w;
    }
    let pid = match fork() {
        Ok(0) => child(write_ends),
        Ok(pid) => pid,
        Err(e) => return fail("fork", e),
    };
    for w in write_ends {
        let _ = close(w);
    }

    let (mut polls, mut events, mut wakes, mut bytes) = (0u64, 0u64, 0u64, 0u64);
    let mut open_pipes = 2;
    let mut ok = true;
    while open_pipes > 0 {
        polls += 1;
        let mut ready = [false; 2];
        let n = POLLER.poll(-1, |pd, r| {
            if let Some(slot) = ready.get_mut(pd.user_data()) {
                *slot = r.readable;
            }
        });
        print("poll(-1) #");
        print_u64(polls);
        match n {
            Ok(0) => {
                wakes += 1;
                print(": woken by wake()\n");
            }
            Ok(n) => {
                events += n as u64;
                print(": ");
                print_u64(n as u64);
                print(" fd(s) ready\n");
            }
            Err(e) => return fail("poll", e),
        }
        // Edge-triggered: drain each ready pipe until it would block or reaches end-of-file.
        for (i, fd) in read_ends.into_iter().enumerate() {
            while ready[i] {
                let mut buf = [0u8; 16];
                print("  pipe ");
                print_u64(i as u64);
                match read(fd, &mut buf) {
                    Ok(0) => {
                        print(": end of file\n");
                        let _ = POLLER.close(fd);
                        let _ = close(fd);
                        open_pipes -= 1;
                        ready[i] = false;
                    }
                    Ok(n) => {
                        print(": read \"");
                        let got = buf.get(..n).unwrap_or(&[]);
                        print_bytes(got);
                        print("\"\n");
                        let want = MESSAGES[i];
                        ok &= got.len() == want.len() && got.iter().zip(want).all(|(a, b)| a == b);
                        bytes += n as u64;
                    }
                    Err(e) if e == Errno::EAGAIN => {
                        print(": drained\n");
                        ready[i] = false;
                    }
                    Err(e) => return fail("read", e),
                }
            }
        }
    }
    let status = wait(pid).ok().and_then(rawpoll_freestanding::exit_code);
    // A wake that arrives in the same poll as a pipe event is consumed there without a poll of
    // its own, so the number of wake-only polls depends on timing and is reported, not checked.
    ok &= status == Some(0) && bytes == 11;
    print("summary: ");
    print_u64(polls);
    print(" polls, ");
    print_u64(events);
    print(" fd events, ");
    print_u64(wakes);
    print(" woken, ");
    print_u64(bytes);
    print(" bytes, child exit ");
    print_u64(status.map_or(255, |s| s as u64));
    print(if ok { " -- ok\n" } else { " -- FAILED\n" });
    if ok {
        0
    } else {
        1
    }
}
