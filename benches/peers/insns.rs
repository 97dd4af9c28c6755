//! Metric 1: one system call through each peer, each in its own `#[inline(never)]`,
//! `#[no_mangle]` function `ic_<op>_<peer>` so that callgrind can count it alone
//! (`--toggle-collect=ic_<op>_<peer>`: only instructions executed while that function is on the
//! stack count, the peer's own callees included, the kernel's excluded).
//!
//! Every function does the same work: the system call, and the error test that turns its result
//! into success or failure.

use crate::bare;
use rawpoll::EpollEvent;
use std::hint::black_box;
use std::mem::MaybeUninit;
use std::os::fd::BorrowedFd;

/// The events buffer length of every `epoll_pwait` here, as Go's netpoll uses.
const EVENTS: usize = 128;

type RustixEvent = rustix::event::epoll::Event;

/// Everything the calls need, made once with rawpoll (how is not measured).
struct Fds {
    /// A non-blocking eventfd for writes (its counter grows by one per call).
    write_fd: i32,
    /// A non-blocking semaphore eventfd with a large counter: every read returns 1.
    read_fd: i32,
    /// An epoll set holding `write_fd`, for `EPOLL_CTL_MOD`.
    ctl_epfd: i32,
    /// An empty epoll set.
    empty_epfd: i32,
}

fn fds() -> Fds {
    use rawpoll::*;
    let write_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC).expect("eventfd");
    let read_fd = eventfd(u32::MAX, EFD_NONBLOCK | EFD_SEMAPHORE | EFD_CLOEXEC).expect("eventfd");
    let ctl_epfd = epoll_create1(EPOLL_CLOEXEC).expect("epoll_create1");
    epoll_ctl(
        &ctl_epfd,
        EPOLL_CTL_ADD,
        &write_fd,
        Some(&EpollEvent::new(EPOLLIN, 7)),
    )
    .expect("add");
    let empty_epfd = epoll_create1(EPOLL_CLOEXEC).expect("epoll_create1");
    // Kept open (as bare numbers) until the process exits.
    Fds {
        write_fd: write_fd.into_raw_fd(),
        read_fd: read_fd.into_raw_fd(),
        ctl_epfd: ctl_epfd.into_raw_fd(),
        empty_epfd: empty_epfd.into_raw_fd(),
    }
}

/// A descriptor of `Fds` as std's `BorrowedFd`, for rustix.
fn borrow(fd: i32) -> BorrowedFd<'static> {
    // SAFETY: the descriptors of `Fds` stay open until the process exits.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

/// A descriptor of `Fds` as rawpoll's `BorrowedFd` (std's with the `std` feature); free at run
/// time, so the measured functions count the same work as the other peers'.
#[inline(always)]
fn ours(fd: i32) -> rawpoll::BorrowedFd<'static> {
    // SAFETY: the descriptors of `Fds` stay open until the process exits.
    unsafe { rawpoll::BorrowedFd::borrow_raw(fd) }
}

// eventfd write: an 8-byte write of 1.

#[no_mangle]
#[inline(never)]
pub fn ic_eventfd_write_rawpoll(fd: i32) -> bool {
    rawpoll::eventfd_write(ours(fd), 1).is_ok()
}

#[no_mangle]
#[inline(never)]
pub fn ic_eventfd_write_bare(fd: i32) -> bool {
    let one = 1u64;
    // SAFETY: the kernel reads 8 bytes from `one`.
    unsafe { bare::syscall3(bare::WRITE, fd as usize, &one as *const u64 as usize, 8) }.is_ok()
}

#[no_mangle]
#[inline(never)]
pub fn ic_eventfd_write_glibc(fd: i32) -> bool {
    // SAFETY: plain FFI call with an open descriptor.
    unsafe { libc::eventfd_write(fd, 1) == 0 }
}

#[no_mangle]
#[inline(never)]
pub fn ic_eventfd_write_rustix(fd: i32) -> bool {
    rustix::io::write(borrow(fd), &1u64.to_ne_bytes()).is_ok()
}

#[no_mangle]
#[inline(never)]
pub fn ic_eventfd_write_sc(fd: i32) -> bool {
    let one = 1u64;
    // SAFETY: the kernel reads 8 bytes from `one`.
    let ret = unsafe { sc::syscall!(WRITE, fd as usize, &one as *const u64 as usize, 8) };
    ret <= usize::MAX - 4095
}

// eventfd read: an 8-byte read.

#[no_mangle]
#[inline(never)]
pub fn ic_eventfd_read_rawpoll(fd: i32) -> bool {
    rawpoll::eventfd_read(ours(fd)).is_ok()
}

#[no_mangle]
#[inline(never)]
pub fn ic_eventfd_read_bare(fd: i32) -> bool {
    let mut value = MaybeUninit::<u64>::uninit();
    // SAFETY: the kernel writes 8 bytes into `value`.
    unsafe { bare::syscall3(bare::READ, fd as usize, value.as_mut_ptr() as usize, 8) }.is_ok()
}

#[no_mangle]
#[inline(never)]
pub fn ic_eventfd_read_glibc(fd: i32) -> bool {
    let mut value = 0;
    // SAFETY: plain FFI call; glibc writes 8 bytes into `value`.
    unsafe { libc::eventfd_read(fd, &mut value) == 0 }
}

#[no_mangle]
#[inline(never)]
pub fn ic_eventfd_read_rustix(fd: i32) -> bool {
    let mut value = [0u8; 8];
    rustix::io::read(borrow(fd), &mut value).is_ok()
}

#[no_mangle]
#[inline(never)]
pub fn ic_eventfd_read_sc(fd: i32) -> bool {
    let mut value = MaybeUninit::<u64>::uninit();
    // SAFETY: the kernel writes 8 bytes into `value`.
    let ret = unsafe { sc::syscall!(READ, fd as usize, value.as_mut_ptr() as usize, 8) };
    ret <= usize::MAX - 4095
}

// epoll_ctl: EPOLL_CTL_MOD of a registered descriptor to EPOLLIN.

#[no_mangle]
#[inline(never)]
pub fn ic_epoll_ctl_rawpoll(epfd: i32, fd: i32) -> bool {
    let event = EpollEvent::new(rawpoll::EPOLLIN, 7);
    rawpoll::epoll_ctl(ours(epfd), rawpoll::EPOLL_CTL_MOD, ours(fd), Some(&event)).is_ok()
}

#[no_mangle]
#[inline(never)]
pub fn ic_epoll_ctl_bare(epfd: i32, fd: i32) -> bool {
    let event = EpollEvent::new(rawpoll::EPOLLIN, 7);
    // SAFETY: the kernel reads one epoll_event.
    unsafe {
        bare::syscall4(
            bare::EPOLL_CTL,
            epfd as usize,
            rawpoll::EPOLL_CTL_MOD as usize,
            fd as usize,
            &event as *const EpollEvent as usize,
        )
    }
    .is_ok()
}

#[no_mangle]
#[inline(never)]
pub fn ic_epoll_ctl_glibc(epfd: i32, fd: i32) -> bool {
    let mut event = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: 7,
    };
    // SAFETY: plain FFI call; the kernel reads `event`.
    unsafe { libc::epoll_ctl(epfd, libc::EPOLL_CTL_MOD, fd, &mut event) == 0 }
}

#[no_mangle]
#[inline(never)]
pub fn ic_epoll_ctl_rustix(epfd: i32, fd: i32) -> bool {
    use rustix::event::epoll;
    epoll::modify(
        borrow(epfd),
        borrow(fd),
        epoll::EventData::new_u64(7),
        epoll::EventFlags::IN,
    )
    .is_ok()
}

#[no_mangle]
#[inline(never)]
pub fn ic_epoll_ctl_sc(epfd: i32, fd: i32) -> bool {
    let event = EpollEvent::new(rawpoll::EPOLLIN, 7);
    // SAFETY: the kernel reads one epoll_event.
    let ret = unsafe {
        sc::syscall!(
            EPOLL_CTL,
            epfd as usize,
            rawpoll::EPOLL_CTL_MOD as usize,
            fd as usize,
            &event as *const EpollEvent as usize
        )
    };
    ret <= usize::MAX - 4095
}

// epoll_pwait with timeout 0 on an empty set, into a 128-event buffer, no signal mask.

#[no_mangle]
#[inline(never)]
pub fn ic_epoll_pwait0_rawpoll(epfd: i32, events: &mut [EpollEvent; EVENTS]) -> usize {
    rawpoll::epoll_pwait(ours(epfd), events, 0).unwrap_or(usize::MAX)
}

#[no_mangle]
#[inline(never)]
pub fn ic_epoll_pwait0_bare(epfd: i32, events: &mut [EpollEvent; EVENTS]) -> usize {
    // SAFETY: the kernel writes at most EVENTS entries into `events`.
    unsafe {
        bare::syscall5(
            bare::EPOLL_PWAIT,
            epfd as usize,
            events.as_mut_ptr() as usize,
            EVENTS,
            0,
            0,
        )
    }
    .unwrap_or(usize::MAX)
}

#[no_mangle]
#[inline(never)]
pub fn ic_epoll_pwait0_glibc(epfd: i32, events: &mut [libc::epoll_event; EVENTS]) -> usize {
    // SAFETY: the kernel writes at most EVENTS entries into `events`.
    let n = unsafe {
        libc::epoll_pwait(
            epfd,
            events.as_mut_ptr(),
            EVENTS as i32,
            0,
            std::ptr::null(),
        )
    };
    if n < 0 {
        usize::MAX
    } else {
        n as usize
    }
}

#[no_mangle]
#[inline(never)]
pub fn ic_epoll_pwait0_rustix(epfd: i32, events: &mut [MaybeUninit<RustixEvent>; EVENTS]) -> usize {
    let zero = rustix::event::Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    match rustix::event::epoll::wait(borrow(epfd), &mut events[..], Some(&zero)) {
        Ok((ready, _)) => ready.len(),
        Err(_) => usize::MAX,
    }
}

#[no_mangle]
#[inline(never)]
pub fn ic_epoll_pwait0_sc(epfd: i32, events: &mut [EpollEvent; EVENTS]) -> usize {
    // SAFETY: the kernel writes at most EVENTS entries into `events`.
    let ret = unsafe {
        sc::syscall!(
            EPOLL_PWAIT,
            epfd as usize,
            events.as_mut_ptr() as usize,
            EVENTS,
            0,
            0
        )
    };
    if ret <= usize::MAX - 4095 {
        ret
    } else {
        usize::MAX
    }
}

/// Operations, in table order.
pub const OPS: [&str; 4] = ["eventfd_write", "eventfd_read", "epoll_ctl", "epoll_pwait0"];
/// Peers of metric 1, in table order.
pub const PEERS: [&str; 5] = ["rawpoll", "bare", "glibc", "rustix", "sc"];

/// Prints every function name, one a line.
pub fn list() -> i32 {
    for op in OPS {
        for peer in PEERS {
            println!("ic_{op}_{peer}");
        }
    }
    0
}

/// Calls `name` `n` times; fails if a call fails.
pub fn run(name: &str, n: &str) -> i32 {
    let Ok(n) = n.parse::<u64>() else {
        eprintln!("insns: bad count {n}");
        return 2;
    };
    let f = fds();
    let mut raw_events = [EpollEvent::zeroed(); EVENTS];
    let mut libc_events = [libc::epoll_event { events: 0, u64: 0 }; EVENTS];
    let mut rustix_events = [MaybeUninit::<RustixEvent>::uninit(); EVENTS];
    let mut ok = 0u64;
    macro_rules! repeat {
        ($call:expr) => {
            for _ in 0..n {
                ok += u64::from(black_box($call));
            }
        };
    }
    match name {
        "ic_eventfd_write_rawpoll" => repeat!(ic_eventfd_write_rawpoll(black_box(f.write_fd))),
        "ic_eventfd_write_bare" => repeat!(ic_eventfd_write_bare(black_box(f.write_fd))),
        "ic_eventfd_write_glibc" => repeat!(ic_eventfd_write_glibc(black_box(f.write_fd))),
        "ic_eventfd_write_rustix" => repeat!(ic_eventfd_write_rustix(black_box(f.write_fd))),
        "ic_eventfd_write_sc" => repeat!(ic_eventfd_write_sc(black_box(f.write_fd))),
        "ic_eventfd_read_rawpoll" => repeat!(ic_eventfd_read_rawpoll(black_box(f.read_fd))),
        "ic_eventfd_read_bare" => repeat!(ic_eventfd_read_bare(black_box(f.read_fd))),
        "ic_eventfd_read_glibc" => repeat!(ic_eventfd_read_glibc(black_box(f.read_fd))),
        "ic_eventfd_read_rustix" => repeat!(ic_eventfd_read_rustix(black_box(f.read_fd))),
        "ic_eventfd_read_sc" => repeat!(ic_eventfd_read_sc(black_box(f.read_fd))),
        "ic_epoll_ctl_rawpoll" => {
            repeat!(ic_epoll_ctl_rawpoll(
                black_box(f.ctl_epfd),
                black_box(f.write_fd)
            ))
        }
        "ic_epoll_ctl_bare" => repeat!(ic_epoll_ctl_bare(
            black_box(f.ctl_epfd),
            black_box(f.write_fd)
        )),
        "ic_epoll_ctl_glibc" => {
            repeat!(ic_epoll_ctl_glibc(
                black_box(f.ctl_epfd),
                black_box(f.write_fd)
            ))
        }
        "ic_epoll_ctl_rustix" => {
            repeat!(ic_epoll_ctl_rustix(
                black_box(f.ctl_epfd),
                black_box(f.write_fd)
            ))
        }
        "ic_epoll_ctl_sc" => repeat!(ic_epoll_ctl_sc(
            black_box(f.ctl_epfd),
            black_box(f.write_fd)
        )),
        // An empty set returns 0 events, so success counts as "no event": count calls instead.
        "ic_epoll_pwait0_rawpoll" => {
            repeat!(ic_epoll_pwait0_rawpoll(black_box(f.empty_epfd), &mut raw_events) == 0)
        }
        "ic_epoll_pwait0_bare" => {
            repeat!(ic_epoll_pwait0_bare(black_box(f.empty_epfd), &mut raw_events) == 0)
        }
        "ic_epoll_pwait0_glibc" => {
            repeat!(ic_epoll_pwait0_glibc(black_box(f.empty_epfd), &mut libc_events) == 0)
        }
        "ic_epoll_pwait0_rustix" => {
            repeat!(ic_epoll_pwait0_rustix(black_box(f.empty_epfd), &mut rustix_events) == 0)
        }
        "ic_epoll_pwait0_sc" => {
            repeat!(ic_epoll_pwait0_sc(black_box(f.empty_epfd), &mut raw_events) == 0)
        }
        _ => {
            eprintln!("insns: unknown function {name} (see `insns list`)");
            return 2;
        }
    }
    if ok != n {
        eprintln!("insns: {name}: {} of {n} calls failed", n - ok);
        return 1;
    }
    0
}
