//! Host tests of the typed layer: `Errno` formatting, the `EpollEvent` layout and accessors,
//! `SigSet` (its kernel layout on every word size and byte order), `Timespec`, the wrappers'
//! handling of lengths, the descriptor types (`close(OwnedFd)`, drop, `dup3` keeping the number,
//! `pipe2`'s ends) and, with the `std` feature, std's descriptors and `io::Error` interop.

use crate::common;

use rawpoll::*;
use std::mem::{align_of, size_of};

#[test]
fn errno_prints_name_and_number() {
    assert_eq!(Errno::EBADF.to_string(), "EBADF (9)");
    assert_eq!(format!("{:?}", Errno::EAGAIN), "EAGAIN (11)");
    assert_eq!(Errno::from_raw(9), Errno::EBADF);
    assert_eq!(Errno::from_raw(9).name(), Some("EBADF"));
    assert_eq!(Errno::from_raw(28).to_string(), "ENOSPC (28)");
    assert_eq!(Errno::from_raw(4000).to_string(), "errno 4000");
    assert_eq!(Errno::from_raw(4000).name(), None);
    assert_eq!(
        Errno::ENOSYS.raw(),
        linux_raw_sys::errno::ENOSYS as u16,
        "ENOSYS is the architecture's own value"
    );
    assert_eq!(Errno::result((5, 0)), Ok(5));
    assert_eq!(Errno::result((usize::MAX, 22)), Err(Errno::EINVAL));
}

#[test]
fn epoll_event_has_the_kernel_layout() {
    assert_eq!(
        size_of::<EpollEvent>(),
        size_of::<linux_raw_sys::general::epoll_event>()
    );
    assert_eq!(
        align_of::<EpollEvent>(),
        align_of::<linux_raw_sys::general::epoll_event>()
    );
    #[cfg(target_arch = "x86_64")]
    assert_eq!(size_of::<EpollEvent>(), 12, "packed on x86_64");
    let mut event = EpollEvent::new(EPOLLIN | EPOLLET, u64::MAX - 1);
    assert_eq!(event.events(), EPOLLIN | EPOLLET);
    assert_eq!(event.data(), u64::MAX - 1);
    event.set_data(0x0123_4567_89ab_cdef);
    event.set_events(EPOLLOUT);
    assert_eq!(event, EpollEvent::new(EPOLLOUT, 0x0123_4567_89ab_cdef));
    assert_eq!(EpollEvent::default(), EpollEvent::zeroed());
    assert_eq!(
        format!("{event:?}"),
        "EpollEvent { events: 0x4, data: 0x123456789abcdef }"
    );
}

#[test]
fn sigset_bits_and_bounds() {
    let mut set = SigSet::empty();
    assert_eq!(set.add(0), Err(Errno::EINVAL));
    assert_eq!(
        set.add(raw::KERNEL_SIGSET_SIZE as u32 * 8 + 1),
        Err(Errno::EINVAL)
    );
    assert_eq!(set.add(1), Ok(()));
    assert_eq!(set.add(33), Ok(()));
    assert_eq!(set.add(64), Ok(()));
    assert!(set.contains(1) && set.contains(33) && set.contains(64));
    assert!(!set.contains(2) && !set.contains(0) && !set.contains(32));
    // The kernel reads the first KERNEL_SIGSET_SIZE bytes as an array of unsigned longs in the
    // target's byte order: signal n is bit (n-1) % BITS of word (n-1) / BITS.
    // SAFETY: SigSet is a repr(C) array of 16 bytes with no padding.
    let bytes: [u8; 16] = unsafe { std::mem::transmute(set) };
    let word_bytes = usize::BITS as usize / 8;
    // (signal, byte index, bit) as the kernel's layout puts them.
    let expected: &[(u32, usize, u8)] = match (word_bytes, cfg!(target_endian = "little")) {
        // 64-bit little-endian: one word for 1..=64, its least significant byte first.
        (8, true) => &[(1, 0, 0), (33, 4, 0), (64, 7, 7)],
        // 64-bit big-endian: the least significant byte of the word is its last.
        (8, false) => &[(1, 7, 0), (33, 3, 0), (64, 0, 7)],
        // 32-bit little-endian: signals 1..=32 in word 0, 33..=64 in word 1.
        (4, true) => &[(1, 0, 0), (33, 4, 0), (64, 7, 7)],
        // 32-bit big-endian (mips, powerpc): each word's least significant byte last.
        (4, false) => &[(1, 3, 0), (33, 7, 0), (64, 4, 7)],
        other => panic!("unexpected word layout {other:?}"),
    };
    let mut want = [0u8; 16];
    for &(signal, byte, bit) in expected {
        want[byte] |= 1 << bit;
        assert_eq!(bytes[byte] & (1 << bit), 1 << bit, "signal {signal}");
    }
    assert_eq!(bytes, want, "no other bit is set");
}

#[test]
fn timespec_from_nanos() {
    assert_eq!(
        Timespec::from_nanos(-5),
        Timespec {
            tv_sec: 0,
            tv_nsec: 0
        }
    );
    assert_eq!(
        Timespec::from_nanos(3_000_000_123),
        Timespec {
            tv_sec: 3,
            tv_nsec: 123
        }
    );
}

#[test]
fn wrappers_never_pass_more_than_a_slice_holds() {
    let ep = epoll_create1(EPOLL_CLOEXEC).unwrap();
    let fds: Vec<OwnedFd> = (0..3)
        .map(|_| eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK).unwrap())
        .collect();
    for (i, fd) in fds.iter().enumerate() {
        epoll_ctl(
            &ep,
            EPOLL_CTL_ADD,
            fd,
            Some(&EpollEvent::new(EPOLLIN, i as u64)),
        )
        .unwrap();
    }
    // Three ready, room for two: the kernel fills exactly two and leaves the guard untouched.
    let mut buf = [EpollEvent::new(0xdead, 0xbeef); 3];
    let (room, guard) = buf.split_at_mut(2);
    assert_eq!(epoll_pwait(&ep, room, 0), Ok(2));
    assert_eq!(guard[0], EpollEvent::new(0xdead, 0xbeef));
    // read() into a 3-byte slice of an eventfd: EINVAL (it needs 8), nothing written.
    let mut small = [0xaau8; 3];
    assert_eq!(read(&fds[0], &mut small), Err(Errno::EINVAL));
    assert_eq!(small, [0xaa; 3]);
    for fd in fds {
        close(fd).unwrap();
    }
    close(ep).unwrap();
}

#[test]
fn epoll_pwait2_on_this_kernel() {
    let ep = epoll_create1(EPOLL_CLOEXEC).unwrap();
    let mut events = [EpollEvent::zeroed(); 1];
    let r = epoll_pwait2(&ep, &mut events, Some(&Timespec::from_nanos(0)), None);
    assert_eq!(
        r,
        common::epoll_pwait2_probe(),
        "the same answer as the probe"
    );
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut parts = release
        .trim()
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let version = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    println!("epoll_pwait2 on Linux {}: {r:?}", release.trim());
    // Linux 5.11 added it; qemu-user (7.2, Debian 12) does not implement it whatever the
    // host kernel, and answers ENOSYS (89 on MIPS).
    if common::emulated() {
        assert!(r == Ok(0) || r == Err(Errno::ENOSYS), "{r:?}");
    } else if version >= (5, 11) {
        assert_eq!(r, Ok(0));
    } else {
        assert_eq!(r, Err(Errno::ENOSYS));
    }
    close(ep).unwrap();
}

/// `fcntl(fd, F_GETFD) & FD_CLOEXEC` through the raw layer.
fn cloexec(fd: RawFd) -> bool {
    // SAFETY: F_GETFD reads descriptor flags and touches no memory.
    let r = unsafe { raw::syscall6(raw::SYS_FCNTL, fd as usize, 1, 0, 0, 0, 0) };
    Errno::result(r).expect("F_GETFD") & 1 == 1
}

/// Whether the write end of a pipe is closed, seen from its read end: end of file (0 bytes)
/// rather than EAGAIN. Race-free, unlike asking whether a number is still open: the tests of
/// this file run in threads of one process, and any of them may get a freed number back.
fn writer_closed(read_end: &OwnedFd) -> bool {
    let mut buf = [0u8; 1];
    read(read_end, &mut buf) == Ok(0)
}

#[test]
fn close_takes_an_owned_fd_and_drop_closes_too() {
    // close(OwnedFd) consumes and closes.
    let (r, w) = pipe2(EPOLL_CLOEXEC | EFD_NONBLOCK).unwrap();
    assert!(!writer_closed(&r), "open writer: EAGAIN, not end of file");
    assert_eq!(close(w), Ok(()));
    assert!(writer_closed(&r), "close(OwnedFd) closed the writer");

    // Dropping closes too.
    let (r, w) = pipe2(EPOLL_CLOEXEC | EFD_NONBLOCK).unwrap();
    drop(w);
    assert!(writer_closed(&r), "dropping the OwnedFd closed the writer");

    // into_raw_fd gives the number up without closing it; from_raw_fd takes it back.
    let (r, w) = pipe2(EPOLL_CLOEXEC | EFD_NONBLOCK).unwrap();
    let number = w.into_raw_fd();
    assert!(!writer_closed(&r), "into_raw_fd did not close it");
    // SAFETY: `number` is open and nothing else owns it since into_raw_fd.
    let w = unsafe { OwnedFd::from_raw_fd(number) };
    assert_eq!(write(&w, b"x"), Ok(1));
    assert_eq!(close(w), Ok(()));
    let mut buf = [0u8; 2];
    assert_eq!(read(&r, &mut buf), Ok(1));
    assert!(writer_closed(&r), "the OwnedFd from from_raw_fd closed it");
}

#[test]
fn pipe2_returns_the_read_end_then_the_write_end() {
    let (r, w) = pipe2(EPOLL_CLOEXEC | EFD_NONBLOCK).unwrap();
    assert_ne!(r.as_raw_fd(), w.as_raw_fd());
    assert!(cloexec(r.as_raw_fd()) && cloexec(w.as_raw_fd()));
    assert_eq!(write(&w, b"abc"), Ok(3));
    let mut buf = [0u8; 8];
    assert_eq!(read(&r, &mut buf), Ok(3));
    assert_eq!(&buf[..3], b"abc");
    // Empty and non-blocking: EAGAIN. The read end is not writable, the write end not readable.
    assert_eq!(read(&r, &mut buf), Err(Errno::EAGAIN));
    assert_eq!(write(&r, b"x"), Err(Errno::EBADF));
    assert_eq!(read(&w, &mut buf), Err(Errno::EBADF));
    // The writer gone: the reader sees end of file (0 bytes).
    assert_eq!(close(w), Ok(()));
    assert_eq!(read(&r, &mut buf), Ok(0));
    assert_eq!(
        pipe2(0xdead_0000).err(),
        Some(Errno::EINVAL),
        "unknown flags"
    );
}

#[test]
fn dup3_replaces_what_an_owned_fd_refers_to_and_keeps_its_number() {
    let a = eventfd(5, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
    let mut target = eventfd(0, EFD_NONBLOCK).unwrap();
    let number = target.as_raw_fd();
    assert!(!cloexec(number));
    // From an &OwnedFd.
    assert_eq!(dup3(&a, &mut target, EPOLL_CLOEXEC), Ok(()));
    assert_eq!(target.as_raw_fd(), number, "the number is kept");
    assert!(cloexec(number), "O_CLOEXEC applied to the new copy");
    // The same file now: the counter of `a` is read through `target`.
    assert_eq!(eventfd_read(&target), Ok(5));
    assert_eq!(eventfd_read(&a), Err(Errno::EAGAIN));
    // From a BorrowedFd, without O_CLOEXEC.
    let b = eventfd(7, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
    let borrowed: BorrowedFd<'_> = b.as_fd();
    assert_eq!(dup3(borrowed, &mut target, 0), Ok(()));
    assert_eq!(target.as_raw_fd(), number);
    assert!(!cloexec(number));
    assert_eq!(eventfd_read(&target), Ok(7));
    // Onto itself: EINVAL (dup3, unlike dup2). Unknown flags: EINVAL.
    let same = target.as_raw_fd();
    // SAFETY: `target` owns `same` and stays alive (and unchanged: dup3 fails) during the call.
    let itself = unsafe { BorrowedFd::borrow_raw(same) };
    assert_eq!(dup3(itself, &mut target, 0), Err(Errno::EINVAL));
    assert_eq!(dup3(&a, &mut target, 1), Err(Errno::EINVAL));
    for fd in [a, b, target] {
        assert_eq!(close(fd), Ok(()));
    }
}

#[test]
fn errno_is_an_error() {
    fn as_error(e: &dyn core::error::Error) -> String {
        e.to_string()
    }
    assert_eq!(as_error(&Errno::EBADF), "EBADF (9)");
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(Errno::EAGAIN);
    assert_eq!(boxed.to_string(), "EAGAIN (11)");
}

/// With the `std` feature: std's descriptors go straight in, and `?` turns an `Errno` into an
/// `io::Error` with the same number.
#[cfg(feature = "std")]
mod with_std {
    use rawpoll::netpoll::{Netpoll, PollDesc};
    use rawpoll::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream;

    #[test]
    fn std_descriptors_go_straight_in() {
        let (a, mut b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        b.write_all(b"hi").unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(read(&a, &mut buf), Ok(2), "a UnixStream is AsFd");
        assert_eq!(write(&b, b"!"), Ok(1));

        // A std OwnedFd, and a File made from rawpoll's (they are the same type).
        let efd: std::os::fd::OwnedFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
        let file = std::fs::File::from(efd);
        assert_eq!(eventfd_write(&file, 41), Ok(()));
        assert_eq!(eventfd_write(file.try_clone().unwrap(), 1), Ok(()));
        assert_eq!(eventfd_read(&file), Ok(42));

        static PD: PollDesc = PollDesc::new();
        let np = Netpoll::new();
        np.init().unwrap();
        assert_eq!(np.open(&a, &PD), Ok(()));
        let mut seen = Vec::new();
        assert_eq!(
            np.poll(0, |pd, ready, _| seen
                .push((std::ptr::eq(pd, &PD), ready.readable))),
            Ok(1)
        );
        assert_eq!(seen, [(true, true)]);
        assert_eq!(np.close(&a), Ok(()));
        let std_owned = std::os::fd::OwnedFd::from(a);
        assert_eq!(close(std_owned), Ok(()));
    }

    fn read_empty_eventfd() -> std::io::Result<u64> {
        let efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)?;
        Ok(eventfd_read(&efd)?)
    }

    #[test]
    fn question_mark_turns_errno_into_io_error() {
        let e = read_empty_eventfd().unwrap_err();
        assert_eq!(e.raw_os_error(), Some(Errno::EAGAIN.raw() as i32));
        assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
        for errno in [
            Errno::EBADF,
            Errno::EINVAL,
            Errno::ENOSYS,
            Errno::from_raw(4000),
        ] {
            let io: std::io::Error = errno.into();
            assert_eq!(io.raw_os_error(), Some(errno.raw() as i32), "{errno}");
        }
    }
}
