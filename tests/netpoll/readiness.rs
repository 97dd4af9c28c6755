//! Readiness as the poller reports it: epoll's bits mapped to `Ready` as Go maps them, socket
//! pairs with hang-ups and `EPOLLRDHUP`, an error alone, and a thousand descriptors ready at once,
//! each reported once: what a runtime reads from `poll` must be what the kernel said.

use super::*;

#[test]
fn ready_maps_events_as_go_does() {
    #[allow(clippy::fn_params_excessive_bools)]
    fn r(
        readable: bool,
        writable: bool,
        error: bool,
        read_closed: bool,
        hang_up: bool,
        events: u32,
    ) -> Ready {
        Ready {
            readable,
            writable,
            error,
            read_closed,
            hang_up,
            events,
        }
    }
    let cases = [
        (EPOLLIN, r(true, false, false, false, false, EPOLLIN)),
        (EPOLLRDHUP, r(true, false, false, true, false, EPOLLRDHUP)),
        (EPOLLOUT, r(false, true, false, false, false, EPOLLOUT)),
        (EPOLLHUP, r(true, true, false, true, true, EPOLLHUP)),
        (EPOLLERR, r(true, true, true, false, false, EPOLLERR)),
        (
            EPOLLERR | EPOLLOUT,
            r(true, true, false, false, false, EPOLLERR | EPOLLOUT),
        ),
        (
            EPOLLIN | EPOLLRDHUP | EPOLLHUP,
            r(
                true,
                true,
                false,
                true,
                true,
                EPOLLIN | EPOLLRDHUP | EPOLLHUP,
            ),
        ),
        (
            EPOLLIN | EPOLLOUT | EPOLLRDHUP,
            r(
                true,
                true,
                false,
                true,
                false,
                EPOLLIN | EPOLLOUT | EPOLLRDHUP,
            ),
        ),
        (EPOLLPRI, r(false, false, false, false, false, EPOLLPRI)),
        (0, Ready::default()),
    ];
    for (events, want) in cases {
        assert_eq!(Ready::from_events(events), want, "events {events:#x}");
    }
    assert!(Ready::from_events(EPOLLPRI).is_empty());
    assert!(Ready::from_events(EPOLLRDHUP).read_closed && !Ready::from_events(EPOLLRDHUP).hang_up);
    assert!(!Ready::from_events(EPOLLOUT | EPOLLIN).is_empty());
}

#[test]
fn socketpair_readiness_and_rdhup() {
    let _serial = serial();
    let np = ready_netpoll();
    let (a, mut b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    let pd = leak_pd();
    pd.set_user_data(77);
    np.open(fd_of(&a), pd).unwrap();
    let writable = Ready::from_events(EPOLLOUT);
    let both = Ready::from_events(EPOLLIN | EPOLLOUT);
    assert_eq!(collect(&np, 0), (1, vec![(77, writable)]));
    assert_eq!(
        collect(&np, 0),
        (0, vec![]),
        "edge-triggered: reported once"
    );
    b.write_all(b"x").unwrap();
    assert_eq!(collect(&np, 0), (1, vec![(77, both)]));
    b.shutdown(std::net::Shutdown::Write).unwrap();
    let rdhup = only_report(&np);
    assert_eq!(
        rdhup,
        Ready::from_events(EPOLLIN | EPOLLOUT | EPOLLRDHUP),
        "RDHUP makes it readable"
    );
    assert!(
        rdhup.readable && rdhup.writable && rdhup.read_closed && !rdhup.hang_up && !rdhup.error
    );
    drop(b);
    let hup = only_report(&np);
    assert_eq!(
        hup,
        Ready::from_events(EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP),
        "HUP"
    );
    assert!(hup.readable && hup.writable && hup.read_closed && hup.hang_up && !hup.error);
    assert_eq!(np.close(fd_of(&a)), Ok(()));
    assert_eq!(np.close(fd_of(&a)), Err(Errno::ENOENT));
}

#[test]
fn epollerr_alone_is_reported_as_an_error() {
    let _serial = serial();
    let np = ready_netpoll();
    let (r, w) = pipe2(EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
    // Fill the pipe so the write end is not writable.
    let chunk = [0u8; 4096];
    let mut filled = 0;
    while let Ok(n) = write(&w, &chunk) {
        filled += n;
    }
    let pd = leak_pd();
    pd.set_user_data(5);
    np.open(&w, pd).unwrap();
    assert_eq!(
        collect(&np, 0),
        (0, vec![]),
        "a full pipe's write end is not ready"
    );
    close(r).unwrap();
    let error = Ready {
        readable: true,
        writable: true,
        error: true,
        read_closed: false,
        hang_up: false,
        events: EPOLLERR,
    };
    assert_eq!(
        collect(&np, 0),
        (1, vec![(5, error)]),
        "after filling {filled} bytes"
    );
    close(w).unwrap();
}

#[test]
fn a_thousand_ready_fds_are_each_reported_once() {
    let _serial = serial();
    raise_nofile_limit(4096);
    let np = ready_netpoll();
    let fds: Vec<OwnedFd> = (0..1000)
        .map(|i| {
            let fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
            let pd = leak_pd();
            pd.set_user_data(i);
            np.open(&fd, pd).unwrap();
            fd
        })
        .collect();
    let mut batches = Vec::new();
    let mut seen = Vec::new();
    loop {
        let (n, got) = collect(&np, 0);
        batches.push(n);
        seen.extend(got.into_iter().map(|(i, ready)| {
            assert_eq!(ready, Ready::from_events(EPOLLIN | EPOLLOUT));
            i
        }));
        if n == 0 {
            break;
        }
    }
    println!("1000 ready eventfds reported in batches {batches:?}");
    assert_eq!(batches, [128, 128, 128, 128, 128, 128, 128, 104, 0]);
    assert_eq!(EVENTS_PER_POLL, 128);
    seen.sort_unstable();
    assert_eq!(
        seen,
        (0..1000).collect::<Vec<_>>(),
        "none lost, none doubled"
    );
    for fd in fds {
        close(fd).unwrap();
    }
}
