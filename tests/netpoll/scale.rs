//! Scale: 10,000 registered descriptors, all ready at once, each delivered exactly
//! once.
//!
//! 10,000 eventfds (counter 1: readable and writable) are registered, each with its own
//! `PollDesc`. Non-blocking polls (at most 128 events each) must then report every descriptor
//! exactly once, with the right readiness, and nothing more (edge-triggered: no second report
//! without a new edge). A second round writes to every eventfd again and must again see each
//! exactly once, this time through blocking polls with a wake pending (a flag
//! alone, nobody being asleep: the first blocking poll waits with timeout 0). The descriptor count is the same before and after. One test in this file (it raises
//! `RLIMIT_NOFILE` and counts descriptors).

use rawpoll::netpoll::{Netpoll, PollDesc, Ready, EVENTS_PER_POLL};
use rawpoll::{OwnedFd, EFD_CLOEXEC, EFD_NONBLOCK, EPOLLIN, EPOLLOUT};
use std::time::{Duration, Instant};

const FDS: usize = 10_000;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

/// Raises the soft (and if need be the hard) `RLIMIT_NOFILE` to `want`. `rlim_t` is the
/// target's `unsigned long`: 32 bits on 32-bit targets.
fn raise_limit(want: libc::rlim_t) -> libc::rlim_t {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write one rlimit.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        if lim.rlim_cur < want {
            lim.rlim_cur = want;
            lim.rlim_max = lim.rlim_max.max(want);
            assert_eq!(
                libc::setrlimit(libc::RLIMIT_NOFILE, &lim),
                0,
                "raise RLIMIT_NOFILE"
            );
        }
    }
    lim.rlim_cur
}

/// Polls until a poll reports nothing; returns how often each descriptor was reported, the
/// readiness seen, and the number of polls.
fn drain(
    np: &Netpoll,
    pds: &'static [PollDesc],
    delay: i64,
) -> (Vec<u32>, Vec<Ready>, usize, usize) {
    let base = pds.as_ptr() as usize;
    let mut counts = vec![0u32; pds.len()];
    let mut readiness = vec![Ready::default(); pds.len()];
    let mut stray = 0;
    let mut polls = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        polls += 1;
        let n = np
            .poll(delay, |pd, ready, _| {
                let i = (pd as *const PollDesc as usize - base) / std::mem::size_of::<PollDesc>();
                match counts.get_mut(i) {
                    Some(c) if std::ptr::eq(pd, &pds[i]) => {
                        *c += 1;
                        readiness[i] = ready;
                    }
                    _ => stray += 1,
                }
            })
            .expect("poll");
        assert!(n <= EVENTS_PER_POLL);
        if n == 0 || Instant::now() > deadline {
            break;
        }
        // A blocking round ends when everything has been seen; the next poll would block.
        if delay != 0 && counts.iter().all(|&c| c > 0) {
            break;
        }
    }
    (counts, readiness, stray, polls)
}

#[test]
fn ten_thousand_ready_descriptors() {
    let limit = raise_limit(FDS as libc::rlim_t + 64);
    let before = open_fds();
    let np = Netpoll::new();
    np.init().expect("init");
    let pds: &'static [PollDesc] = Box::leak((0..FDS).map(|_| PollDesc::new()).collect());
    let fds: Vec<OwnedFd> = (0..FDS)
        .map(|_| rawpoll::eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK).expect("eventfd"))
        .collect();
    let start = Instant::now();
    for (fd, pd) in fds.iter().zip(pds) {
        np.open(fd, pd).expect("open");
    }
    let registered = start.elapsed();
    let both = Ready::from_events(EPOLLIN | EPOLLOUT);

    // Round 1: non-blocking polls.
    let t = Instant::now();
    let (counts, readiness, stray, polls) = drain(&np, pds, 0);
    let round1 = t.elapsed();
    let once = counts.iter().filter(|&&c| c == 1).count();
    let right = readiness.iter().filter(|&&r| r == both).count();
    let again = np.poll(0, |_, _, _| {});
    println!(
        "scale: {FDS} eventfds registered in {registered:?} (RLIMIT_NOFILE {limit}); poll(0) x {polls}: {once} reported exactly once, \
         {} never, {} more than once, {right} readable+writable, {stray} strays; next poll(0) {again:?}; {round1:?}",
        counts.iter().filter(|&&c| c == 0).count(),
        counts.iter().filter(|&&c| c > 1).count(),
    );
    assert_eq!(once, FDS);
    assert_eq!(right, FDS);
    assert_eq!(stray, 0);
    assert_eq!(polls, FDS.div_ceil(EVENTS_PER_POLL) + 1);
    assert_eq!(again, Ok(0));

    // Round 2: a new edge on every eventfd, a wake pending, blocking polls.
    for fd in &fds {
        rawpoll::eventfd_write(fd, 1).expect("eventfd write");
    }
    np.wake().expect("wake");
    let t = Instant::now();
    let (counts, _, stray, polls) = drain(&np, pds, -1);
    let round2 = t.elapsed();
    let once = counts.iter().filter(|&&c| c == 1).count();
    let again = np.poll(0, |_, _, _| {});
    println!(
        "scale: after one write to each and a wake: poll(-1) x {polls}: {once} reported exactly once, {stray} strays; next poll(0) {again:?}; {round2:?}"
    );
    assert_eq!(once, FDS);
    assert_eq!(stray, 0);
    assert_eq!(again, Ok(0));

    for fd in fds {
        np.close(&fd).expect("close");
        rawpoll::close(fd).expect("close fd");
    }
    drop(np);
    let after = open_fds();
    println!("scale: open fds before {before}, after {after}");
    assert_eq!(after, before);
}
