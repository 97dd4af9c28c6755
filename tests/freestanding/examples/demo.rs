//! rawpoll's demo: the Go runtime's netpoller in a freestanding static binary (no std, no libc,
//! its own `_start`).
//!
//! It initialises a `Netpoll` in memory shared with the child it forks (so the child shares it
//! as another thread would: it sees the parent asleep in it, and its `wake` writes for that
//! sleeper), registers the read ends of two pipes, and forks a child that writes to the first
//! pipe, wakes the poller, writes to the second and exits. The parent polls until both pipes
//! reach end-of-file, printing a trace of every poll, then a summary; it exits 0 only if it read
//! exactly what the child sent and the child exited 0 (which it does only if its `wake`
//! succeeded).
//!
//! Build and run it with `ci/demo` (host) or `ci/matrix demo` (every target under qemu).
#![no_std]
#![no_main]

use rawpoll::netpoll::{Netpoll, PollDesc};
use rawpoll::{pipe2, read, write, Errno, OwnedFd, EFD_CLOEXEC, EFD_NONBLOCK};
use rawpoll_freestanding::{
    entry, exit, fork, print, print_bytes, print_u64, share, sleep_ms, wait,
};

entry!(main);

static PIPES: [PollDesc; 2] = [PollDesc::new(), PollDesc::new()];
const MESSAGES: [&[u8]; 2] = [b"hello", b"world!"];

/// Reports a failed call (by errno number: the name table would double the binary's data) and
/// exits 1 (the kernel closes the descriptors).
fn fail(what: &str, errno: Errno) -> ! {
    print("demo: ");
    print(what);
    print(" failed: errno ");
    print_u64(errno.raw() as u64);
    print("\n");
    exit(1)
}

fn child(poller: &Netpoll, first: OwnedFd, second: OwnedFd) -> ! {
    let _ = sleep_ms(20);
    let _ = write(&first, MESSAGES[0]);
    drop(first);
    let _ = sleep_ms(20);
    let woke = poller.wake().is_ok();
    let _ = sleep_ms(20);
    let _ = write(&second, MESSAGES[1]);
    drop(second);
    exit(if woke { 0 } else { 1 })
}

/// A non-blocking pipe whose read end is registered with `poller` under `PIPES[i]`.
fn registered_pipe(poller: &Netpoll, i: usize) -> (OwnedFd, OwnedFd) {
    let (r, w) = pipe2(EFD_CLOEXEC | EFD_NONBLOCK).unwrap_or_else(|e| fail("pipe2", e));
    let pd = &PIPES[i];
    pd.set_user_data(i);
    if let Err(e) = poller.open(&r, pd) {
        fail("open", e)
    }
    (r, w)
}

fn main() -> i32 {
    print("rawpoll demo: Go's netpoller, no std\n");
    let poller = match share(Netpoll::new()) {
        Ok(poller) => poller,
        Err(e) => fail("mmap", e),
    };
    if let Err(e) = poller.init() {
        fail("init", e);
    }
    let (r0, w0) = registered_pipe(poller, 0);
    let (r1, w1) = registered_pipe(poller, 1);
    let pid = match fork() {
        Ok(0) => child(poller, w0, w1),
        Ok(pid) => pid,
        Err(e) => fail("fork", e),
    };
    drop((w0, w1));
    let read_ends = [r0, r1];

    let (mut polls, mut events, mut wakes, mut bytes) = (0u64, 0u64, 0u64, 0u64);
    let mut open_pipes = 2;
    let mut ok = true;
    while open_pipes > 0 {
        polls += 1;
        let mut ready = [false; 2];
        let n = poller.poll(-1, |pd, r, _| {
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
            Err(e) => fail("poll", e),
        }
        // Edge-triggered: drain each ready pipe until it would block or reaches end-of-file.
        // A pipe at end-of-file is deregistered, so it is not reported (nor read) again.
        for (i, fd) in read_ends.iter().enumerate() {
            while ready[i] {
                let mut buf = [0u8; 16];
                print("  pipe ");
                print_u64(i as u64);
                match read(fd, &mut buf) {
                    Ok(0) => {
                        print(": end of file\n");
                        let _ = poller.close(fd);
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
                    Err(e) => fail("read", e),
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
