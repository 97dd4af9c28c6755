//! A poller's life: bad input answered with an errno, `drop` closing the poller's descriptors,
//! and a poller and descriptor in statics: nothing crashes and nothing leaks.

use super::*;

#[test]
fn bad_input_gets_an_errno() {
    let _serial = serial();
    let np = Netpoll::new();
    let pd = leak_pd();
    let efd = eventfd(0, EFD_CLOEXEC).unwrap();
    assert!(!np.is_initialized());
    assert_eq!(np.raw_epoll_fd(), -1);
    assert_eq!(np.raw_wake_fd(), -1);
    assert!(!np.has_sleeper());
    assert_eq!(np.open(&efd, pd), Err(Errno::EBADF), "open before init");
    assert_eq!(
        np.open_with(&efd, pd, Interest::READABLE),
        Err(Errno::EBADF),
        "open_with before init"
    );
    assert_eq!(
        np.modify(&efd, pd, Interest::WRITABLE),
        Err(Errno::EBADF),
        "modify before init"
    );
    assert_eq!(np.close(&efd), Err(Errno::EBADF), "close before init");
    assert_eq!(np.wake(), Err(Errno::EBADF), "wake before init");
    assert_eq!(
        np.wake(),
        Err(Errno::EBADF),
        "the failed wake left no wake pending"
    );
    assert_eq!(
        np.poll(0, |_, _, _| {}),
        Err(Errno::EBADF),
        "poll before init"
    );
    assert!(!np.is_poll_descriptor(-1));
    assert_eq!(np.init(), Ok(()));
    assert_eq!(np.init(), Err(Errno::EBUSY), "second init");
    assert!(np.is_poll_descriptor(np.raw_wake_fd()));
    assert!(np.is_poll_descriptor(np.raw_epoll_fd()));
    assert!(!np.is_poll_descriptor(efd.as_raw_fd()));
    assert_eq!(np.open(&efd, pd), Ok(()));
    assert_eq!(np.open(&efd, pd), Err(Errno::EEXIST), "double open");
    let other = eventfd(0, EFD_CLOEXEC).unwrap();
    assert_eq!(
        np.close(&other),
        Err(Errno::ENOENT),
        "close of an unregistered fd"
    );
    assert_eq!(
        np.modify(&other, pd, Interest::GO),
        Err(Errno::ENOENT),
        "modify of an unregistered fd"
    );
    // Safe code can no longer hand `open` a closed descriptor (it needs an `AsFd`); what the
    // kernel answers the ADD it would make is checked through the raw layer instead, on the
    // poller's own epoll instance: EBADF.
    let closed = other.as_raw_fd();
    close(other).unwrap();
    let event = EpollEvent::new(EPOLLIN, 1);
    // SAFETY: epoll_ctl reads one live EpollEvent; the ADD of a closed number fails and leaves
    // the poller's epoll set unchanged.
    let r = unsafe {
        raw::syscall6(
            raw::SYS_EPOLL_CTL,
            np.raw_epoll_fd() as usize,
            EPOLL_CTL_ADD as usize,
            closed as usize,
            &event as *const EpollEvent as usize,
            0,
            0,
        )
    };
    assert_eq!(Errno::result(r), Err(Errno::EBADF), "open of a closed fd");
    close(efd).unwrap();
}

#[test]
fn drop_closes_the_pollers_fds() {
    let _serial = serial();
    let np = ready_netpoll();
    let (wake_fd, epoll_fd) = (np.raw_wake_fd(), np.raw_epoll_fd());
    assert_eq!(eventfd_count(wake_fd), 0);
    assert!(fd_is_open(wake_fd) && fd_is_open(epoll_fd));
    drop(np);
    assert!(!fd_is_open(wake_fd), "drop closed the wake eventfd");
    assert!(!fd_is_open(epoll_fd), "drop closed the epoll instance");
}

static STATIC_POLLER: Netpoll = Netpoll::new();
static STATIC_PD: PollDesc = PollDesc::new();

#[test]
fn a_static_poller_and_descriptor() {
    let _serial = serial();
    STATIC_POLLER.init().unwrap();
    let efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
    STATIC_PD.set_user_data(9);
    STATIC_POLLER.open(&efd, &STATIC_PD).unwrap();
    let mut seen = Vec::new();
    assert_eq!(
        STATIC_POLLER.poll(0, |pd, _, _| seen.push(std::ptr::eq(pd, &STATIC_PD))),
        Ok(1)
    );
    assert_eq!(seen, [true]);
    close(efd).unwrap();
}
