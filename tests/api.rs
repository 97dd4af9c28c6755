//! Host tests of the typed layer: `Errno` formatting, the `EpollEvent` layout and accessors,
//! `SigSet`, `Timespec`, and the wrappers' handling of lengths.

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
    assert_eq!(set.add(64), Ok(()));
    assert!(set.contains(1) && set.contains(64) && !set.contains(2) && !set.contains(0));
    // The kernel reads the first KERNEL_SIGSET_SIZE bytes as unsigned longs: on this (64-bit
    // little-endian) host, signal 1 is bit 0 of byte 0 and signal 64 bit 7 of byte 7.
    // SAFETY: SigSet is a repr(C) array of 16 bytes with no padding.
    let bytes: [u8; 16] = unsafe { std::mem::transmute(set) };
    assert_eq!(bytes[0], 1);
    assert_eq!(bytes[7], 0x80);
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
    let fds: Vec<i32> = (0..3)
        .map(|_| eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK).unwrap())
        .collect();
    for (i, fd) in fds.iter().enumerate() {
        epoll_ctl(
            ep,
            EPOLL_CTL_ADD,
            *fd,
            Some(&EpollEvent::new(EPOLLIN, i as u64)),
        )
        .unwrap();
    }
    // Three ready, room for two: the kernel fills exactly two and leaves the guard untouched.
    let mut buf = [EpollEvent::new(0xdead, 0xbeef); 3];
    let (room, guard) = buf.split_at_mut(2);
    assert_eq!(epoll_pwait(ep, room, 0), Ok(2));
    assert_eq!(guard[0], EpollEvent::new(0xdead, 0xbeef));
    // read() into a 3-byte slice of an eventfd: EINVAL (it needs 8), nothing written.
    let mut small = [0xaau8; 3];
    assert_eq!(read(fds[0], &mut small), Err(Errno::EINVAL));
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
    let r = epoll_pwait2(ep, &mut events, Some(&Timespec::from_nanos(0)), None);
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut parts = release
        .trim()
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let version = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    println!("epoll_pwait2 on Linux {}: {r:?}", release.trim());
    // Linux 5.11 added it.
    if version >= (5, 11) {
        assert_eq!(r, Ok(0));
    } else {
        assert_eq!(r, Err(Errno::ENOSYS));
    }
    close(ep).unwrap();
}
