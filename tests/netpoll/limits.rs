//! Descriptor exhaustion: `Netpoll::init` must fail cleanly (`EMFILE`, nothing leaked) at
//! every step, and a poller must keep working at a limit with no room left.
//!
//! `RLIMIT_NOFILE` is lowered so that `Netpoll::init` can open exactly 0, then exactly 1 new
//! descriptor: the first step (`epoll_create1`) and then the second (`eventfd`) fail in turn.
//! Each time `init` must return `EMFILE`, leave the number of open descriptors unchanged (the
//! epoll instance of a half-done init is closed) and leave the poller uninitialised, so the same
//! poller initialises once the limit is back. With the limit at exactly what `init` needs, the
//! paths that allocate no descriptor (`open`, `close`, `wake`, `poll`) work while a new
//! `eventfd` gets `EMFILE`.
//!
//! The third step, `epoll_ctl(ADD)` of the eventfd, allocates no descriptor; it can only be made
//! to fail through the system-wide `fs.epoll.max_user_watches` sysctl, which this test sets to 0
//! for a few microseconds when `RAWPOLL_EPOLL_WATCHES_TEST=1` (root, and nothing else of the
//! same user adding epoll watches at that moment: `ci/fuzz` sets it).
//!
//! One test in this file: the limit and the descriptor count are process-wide.

use rawpoll::netpoll::{Netpoll, PollDesc};
use rawpoll::{AsRawFd, Errno, EFD_CLOEXEC, EFD_NONBLOCK};

static PIPE: PollDesc = PollDesc::new();
static EVENT: PollDesc = PollDesc::new();

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

fn is_open(fd: i32) -> bool {
    // SAFETY: F_GETFD reads descriptor flags only.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

/// The `n` lowest descriptor numbers that are free: where the next opens will land.
fn free_numbers(n: usize) -> Vec<i32> {
    (0..65536).filter(|&fd| !is_open(fd)).take(n).collect()
}

fn get_limit() -> libc::rlimit {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    lim
}

/// Sets the soft `RLIMIT_NOFILE`. `rlim_t` is the target's `unsigned long` (32 bits on 32-bit
/// targets), so the limit is given as a descriptor number.
fn set_soft_limit(soft: i32) {
    let soft = soft as libc::rlim_t;
    let mut lim = get_limit();
    lim.rlim_cur = soft;
    // SAFETY: setrlimit reads one rlimit.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
}

fn restore_soft_limit(saved: &libc::rlimit) {
    let mut lim = get_limit();
    lim.rlim_cur = saved.rlim_cur;
    // SAFETY: setrlimit reads one rlimit.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
}

#[test]
fn init_under_descriptor_exhaustion() {
    let saved = get_limit();
    let np = Netpoll::new();
    let steps = ["epoll_create1", "eventfd"];
    for (allowed, step) in steps.iter().enumerate() {
        let before = open_fds();
        let free = free_numbers(2);
        // With the soft limit at the (allowed+1)-th free number, exactly `allowed` opens succeed.
        set_soft_limit(free[allowed]);
        let got = np.init();
        restore_soft_limit(&saved);
        let after = open_fds();
        println!(
            "limits: RLIMIT_NOFILE soft {} (room for {allowed} new fds): init fails at {step}: {got:?}; open fds before {before}, after {after}; fds {free:?} still free: {}",
            free[allowed],
            free.iter().all(|&fd| !is_open(fd))
        );
        assert_eq!(got, Err(Errno::EMFILE), "step {step}");
        assert_eq!(after, before, "step {step}: descriptors leaked");
        assert!(free.iter().all(|&fd| !is_open(fd)), "step {step}");
        assert!(!np.is_initialized());
        assert_eq!(np.raw_wake_fd(), -1);
        assert_eq!(np.raw_epoll_fd(), -1);
        assert_eq!(np.poll(0, |_, _, _| {}), Err(Errno::EBADF));
    }

    if std::env::var("RAWPOLL_EPOLL_WATCHES_TEST").as_deref() == Ok("1") {
        let path = "/proc/sys/fs/epoll/max_user_watches";
        let before = open_fds();
        let old = std::fs::read_to_string(path).expect("read max_user_watches");
        // Restores the sysctl when dropped, even if anything below panics.
        struct Restore<'a>(&'a str, String);
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                let _ = std::fs::write(self.0, self.1.trim());
            }
        }
        let restore = Restore(path, old.clone());
        let got = std::fs::write(path, "0").map(|()| np.init());
        drop(restore);
        let restored = std::fs::read_to_string(path).unwrap_or_default();
        let after = open_fds();
        println!(
            "limits: fs.epoll.max_user_watches 0: init fails at epoll_ctl: {got:?}; open fds before {before}, after {after}; sysctl restored to {}",
            restored.trim()
        );
        assert_eq!(restored.trim(), old.trim());
        assert_eq!(got.expect("sysctl write"), Err(Errno::ENOSPC));
        assert_eq!(after, before);
        assert!(!np.is_initialized());
    } else {
        println!("limits: epoll_ctl step not forced (set RAWPOLL_EPOLL_WATCHES_TEST=1 to lower fs.epoll.max_user_watches)");
    }

    // The same poller initialises once the limit is back.
    assert_eq!(np.init(), Ok(()));
    drop(np);

    // Room for exactly init's two descriptors: init succeeds, nothing else can be opened, and
    // the paths that open nothing are unaffected.
    let before = open_fds();
    let (r, w) = rawpoll::pipe2(rawpoll::EPOLL_CLOEXEC).expect("pipe2");
    let efd = rawpoll::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).expect("eventfd");
    let free = free_numbers(3);
    set_soft_limit(free[2]);
    let np = Netpoll::new();
    let init = np.init();
    let exhausted = rawpoll::eventfd(0, EFD_CLOEXEC).map(|fd| fd.as_raw_fd());
    let opens = (np.open(&r, &PIPE), np.open(&efd, &EVENT));
    let _ = rawpoll::write(&w, b"x");
    let wake = np.wake();
    let mut seen = Vec::new();
    let polled = np.poll(-1, |pd, ready, _| {
        seen.push((std::ptr::eq(pd, &PIPE), ready.readable, ready.writable))
    });
    let quiet = np.poll(0, |_, _, _| {});
    let closes = (np.close(&r), np.close(&efd));
    restore_soft_limit(&saved);
    println!(
        "limits: RLIMIT_NOFILE soft {}: init {init:?}, a new eventfd {exhausted:?}, open {opens:?}, wake {wake:?}, poll(-1) {polled:?} {seen:?}, poll(0) {quiet:?}, close {closes:?}",
        free[2]
    );
    assert_eq!(init, Ok(()));
    assert_eq!(exhausted, Err(Errno::EMFILE));
    assert_eq!(opens, (Ok(()), Ok(())));
    assert_eq!(wake, Ok(()));
    assert_eq!(polled, Ok(2));
    seen.sort();
    assert_eq!(seen, vec![(false, false, true), (true, true, false)]);
    assert_eq!(quiet, Ok(0));
    assert_eq!(closes, (Ok(()), Ok(())));
    drop(np);
    for fd in [r, w, efd] {
        let _ = rawpoll::close(fd);
    }
    let after = open_fds();
    println!("limits: open fds before the exhausted-limit run {before}, after {after}");
    assert_eq!(after, before);
    assert_eq!(get_limit().rlim_cur, saved.rlim_cur);
}
