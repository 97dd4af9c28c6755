//! Interest: `Interest` bits, readable-only and writable-only registrations, one-shot re-armed
//! by `modify`, and level-triggered registrations: a descriptor reports only what it asked for.

use super::*;

#[test]
fn interest_bits() {
    assert_eq!(Interest::READABLE.bits(), EPOLLIN | EPOLLRDHUP | EPOLLET);
    assert_eq!(Interest::WRITABLE.bits(), EPOLLOUT | EPOLLET);
    assert_eq!(
        Interest::GO.bits(),
        EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET
    );
    assert_eq!(Interest::READABLE | Interest::WRITABLE, Interest::GO);
    assert_eq!(Interest::WRITABLE.and(Interest::READABLE), Interest::GO);
    assert_eq!(
        Interest::READABLE.oneshot().bits(),
        EPOLLIN | EPOLLRDHUP | EPOLLET | EPOLLONESHOT
    );
    assert_eq!(Interest::WRITABLE.level_triggered().bits(), EPOLLOUT);
    assert_eq!(
        Interest::GO.level_triggered().oneshot().bits(),
        EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLONESHOT
    );
}

#[test]
fn readable_interest_gets_no_writable_only_events() {
    let _serial = serial();
    let np = ready_netpoll();
    let (a, b) = registered_pair(&np, Interest::READABLE);
    const ROUNDS: usize = 20;
    let (mut writable_only, mut readable, mut other) = (0, 0, 0);
    let mut tally = |events: Vec<u32>| {
        for e in events {
            match e {
                EPOLLOUT => writable_only += 1,
                EPOLLIN => readable += 1,
                _ => other += 1,
            }
        }
    };
    // A socket is writable from the start: a GO registration reports that, this one must not.
    tally(events_of(&np));
    let mut buf = [0u8; 64];
    for _ in 0..ROUNDS {
        // `a` sends and the peer drains: each drain frees room in `a`'s send path, an EPOLLOUT
        // wake-up for `a` that a READABLE registration must not report.
        assert_eq!(write(fd_of(&a), b"ping"), Ok(4));
        assert_eq!(read(fd_of(&b), &mut buf), Ok(4));
        tally(events_of(&np));
        // The peer sends: exactly one readable report, with EPOLLIN alone (no EPOLLOUT).
        assert_eq!(write(fd_of(&b), b"x"), Ok(1));
        tally(events_of(&np));
        assert_eq!(read(fd_of(&a), &mut buf), Ok(1));
    }
    println!("READABLE on a socketpair, {ROUNDS} rounds: {readable} EPOLLIN, {writable_only} EPOLLOUT-only, {other} other reports");
    assert_eq!(writable_only, 0);
    assert_eq!(other, 0);
    assert_eq!(readable, ROUNDS);
    // RDHUP is part of READABLE: the peer's shutdown is reported, still without EPOLLOUT.
    b.shutdown(std::net::Shutdown::Write).unwrap();
    let only = only_report(&np);
    assert_eq!(only, Ready::from_events(EPOLLIN | EPOLLRDHUP));
    assert!(only.read_closed && !only.writable);
    np.close(fd_of(&a)).unwrap();
}

#[test]
fn writable_interest_gets_no_readable_events() {
    let _serial = serial();
    let np = ready_netpoll();
    let (a, b) = registered_pair(&np, Interest::WRITABLE);
    assert_eq!(
        events_of(&np),
        [EPOLLOUT],
        "writable at once, reported once"
    );
    // The peer sends: readable, which this registration does not ask about.
    assert_eq!(write(fd_of(&b), b"data"), Ok(4));
    assert_eq!(events_of(&np), Vec::<u32>::new());
    // Fill `a`'s send path until EAGAIN, then let the peer drain it: writable again, once.
    let chunk = [7u8; 4096];
    let mut sent = 0;
    while let Ok(n) = write(fd_of(&a), &chunk) {
        sent += n;
    }
    assert_eq!(write(fd_of(&a), &chunk), Err(Errno::EAGAIN));
    assert_eq!(events_of(&np), Vec::<u32>::new(), "full: not writable");
    let mut buf = vec![0u8; sent + 4096];
    let mut drained = 0;
    while let Ok(n) = read(fd_of(&b), &mut buf) {
        drained += n;
    }
    assert_eq!(drained, sent);
    assert_eq!(
        events_of(&np),
        [EPOLLOUT],
        "writable again after {sent} bytes drained"
    );
    assert_eq!(events_of(&np), Vec::<u32>::new(), "edge-triggered");
    // A hang-up is reported whatever the interest.
    drop(b);
    let only = only_report(&np);
    assert!(only.hang_up && only.read_closed, "{:?}", only);
    assert_eq!(
        only.events & (EPOLLIN | EPOLLRDHUP),
        0,
        "nothing of READABLE: {:?}",
        only
    );
    np.close(fd_of(&a)).unwrap();
}

#[test]
fn oneshot_reports_once_until_modify_rearms_it() {
    let _serial = serial();
    let np = ready_netpoll();
    let efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
    let pd = leak_pd();
    pd.set_user_data(11);
    np.open_with(&efd, pd, Interest::READABLE.oneshot())
        .unwrap();
    assert_eq!(events_of(&np), Vec::<u32>::new(), "not readable yet");
    eventfd_write(&efd, 1).unwrap();
    assert_eq!(events_of(&np), [EPOLLIN]);
    // Disabled now: new edges are not reported.
    for _ in 0..3 {
        eventfd_write(&efd, 1).unwrap();
        assert_eq!(
            events_of(&np),
            Vec::<u32>::new(),
            "oneshot: disabled after one report"
        );
    }
    // Re-armed: still readable, so reported once more, then disabled again.
    np.modify(&efd, pd, Interest::READABLE.oneshot()).unwrap();
    assert_eq!(events_of(&np), [EPOLLIN], "re-armed by modify");
    assert_eq!(events_of(&np), Vec::<u32>::new());
    eventfd_write(&efd, 1).unwrap();
    assert_eq!(events_of(&np), Vec::<u32>::new());
    // Re-armed with another interest: writable (the counter is below its maximum).
    np.modify(&efd, pd, Interest::WRITABLE.oneshot()).unwrap();
    assert_eq!(events_of(&np), [EPOLLOUT]);
    assert_eq!(events_of(&np), Vec::<u32>::new());
    // Modify to a plain registration: reported on every new edge.
    np.modify(&efd, pd, Interest::READABLE).unwrap();
    assert_eq!(
        events_of(&np),
        [EPOLLIN],
        "the MOD itself re-queues a ready descriptor"
    );
    for _ in 0..3 {
        eventfd_write(&efd, 1).unwrap();
        assert_eq!(events_of(&np), [EPOLLIN]);
    }
    assert_eq!(np.modify(&efd, pd, Interest::GO), Ok(()));
    assert_eq!(np.close(&efd), Ok(()));
    assert_eq!(
        np.modify(&efd, pd, Interest::GO),
        Err(Errno::ENOENT),
        "modify after close"
    );
}

#[test]
fn level_triggered_reports_on_every_poll() {
    let _serial = serial();
    let np = ready_netpoll();
    let efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
    let pd = leak_pd();
    np.open_with(&efd, pd, Interest::READABLE.level_triggered())
        .unwrap();
    const POLLS: usize = 5;
    let reports: usize = (0..POLLS).map(|_| events_of(&np).len()).sum();
    assert_eq!(
        reports, POLLS,
        "readable on every poll while the counter is non-zero"
    );
    // Edge-triggered for comparison, on the same kind of file: once.
    let efd2 = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
    np.open_with(&efd2, leak_pd(), Interest::READABLE).unwrap();
    let reports: Vec<usize> = (0..POLLS).map(|_| events_of(&np).len()).collect();
    assert_eq!(
        reports,
        [2, 1, 1, 1, 1],
        "the edge-triggered one only in the first poll"
    );
    // Drained: the level is gone, and so are the reports.
    assert_eq!(eventfd_read(&efd), Ok(1));
    assert_eq!(eventfd_read(&efd2), Ok(1));
    assert_eq!(events_of(&np), Vec::<u32>::new());
    // A blocking poll returns at once for a level that holds.
    eventfd_write(&efd, 5).unwrap();
    let np = Arc::new(np);
    let np2 = Arc::clone(&np);
    assert_eq!(
        bounded("poll(-1) on a level", move || np2.poll(-1, |_, _, _| {})),
        Ok(1)
    );
    assert_eq!(events_of(&np), [EPOLLIN]);
}
