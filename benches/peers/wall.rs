//! The wall-clock metrics (2, 4, 5, 6), each with its peers interleaved by the harness.

use crate::alloc_count::allocations;
use crate::harness::{measure, peer, timed, Config};
use crate::insns;
use crate::wake::{self, LibcWake};
use rawpoll::netpoll::{Netpoll, PollDesc};
use rawpoll::EpollEvent;
use std::hint::black_box;
use std::mem::MaybeUninit;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs metrics 2, 4, 5 and 6; `smoke` takes few, short samples.
pub fn run(smoke: bool) -> i32 {
    let cfg = Config::unless_smoke(
        smoke,
        Config {
            rounds: 51,
            sample: Duration::from_millis(4),
        },
    );
    println!("CONFIG\trounds={}\tsample={:?}", cfg.rounds, cfg.sample);
    pwait_empty(cfg);
    ready_fds(cfg);
    same_thread_wake(cfg);
    ping_pong(cfg);
    0
}

/// Metric 2: ns per `epoll_pwait(0)` on an empty set, 128-event buffer.
fn pwait_empty(cfg: Config) {
    // SAFETY: plain FFI call.
    let epfd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    assert!(epfd >= 0);
    let mut raw = [EpollEvent::zeroed(); 128];
    let mut raw2 = [EpollEvent::zeroed(); 128];
    let mut raw3 = [EpollEvent::zeroed(); 128];
    let mut lc = [libc::epoll_event { events: 0, u64: 0 }; 128];
    let mut rx = [MaybeUninit::<rustix::event::epoll::Event>::uninit(); 128];
    let peers = vec![
        peer("rawpoll", |k| {
            timed(k, || {
                assert_eq!(insns::ic_epoll_pwait0_rawpoll(black_box(epfd), &mut raw), 0)
            })
        }),
        peer("bare", |k| {
            timed(k, || {
                assert_eq!(insns::ic_epoll_pwait0_bare(black_box(epfd), &mut raw2), 0)
            })
        }),
        peer("glibc", |k| {
            timed(k, || {
                // SAFETY: the kernel writes at most 128 entries into `lc`.
                let n = unsafe { libc::epoll_wait(black_box(epfd), lc.as_mut_ptr(), 128, 0) };
                assert_eq!(n, 0);
            })
        }),
        peer("rustix", |k| {
            timed(k, || {
                assert_eq!(insns::ic_epoll_pwait0_rustix(black_box(epfd), &mut rx), 0)
            })
        }),
        peer("sc", |k| {
            timed(k, || {
                assert_eq!(insns::ic_epoll_pwait0_sc(black_box(epfd), &mut raw3), 0)
            })
        }),
    ];
    measure(
        "m2_pwait0_ns",
        "ns/call",
        1.0,
        cfg,
        peers,
        &[
            ("rawpoll", "glibc"),
            ("rawpoll", "bare"),
            ("rawpoll", "rustix"),
            ("rawpoll", "sc"),
        ],
    );
    // SAFETY: closing our own descriptor.
    unsafe { libc::close(epfd) };
}

const READY_FDS: usize = 1000;

/// Metric 4: 1,000 ready descriptors collected with non-blocking polls of up to 128 events;
/// ns per event, and allocations per poll.
fn ready_fds(cfg: Config) {
    // Shared eventfds, registered edge-triggered in every peer's set. Re-arming (an 8-byte write
    // to each, a new edge everywhere) is done before each collection and not timed.
    let fds: Vec<rawpoll::OwnedFd> = (0..READY_FDS)
        .map(|_| {
            rawpoll::eventfd(0, rawpoll::EFD_CLOEXEC | rawpoll::EFD_NONBLOCK).expect("eventfd")
        })
        .collect();
    let raw: Vec<RawFd> = fds.iter().map(rawpoll::AsRawFd::as_raw_fd).collect();
    let rearm = || {
        for fd in &fds {
            rawpoll::eventfd_write(fd, 1).expect("rearm");
        }
    };

    // rawpoll: Netpoll, Go's netpollopen registration.
    let np = Netpoll::new();
    np.init().expect("init");
    let pds: &'static [PollDesc] = Box::leak((0..READY_FDS).map(|_| PollDesc::new()).collect());
    for (i, (fd, pd)) in fds.iter().zip(pds).enumerate() {
        pd.set_user_data(i);
        np.open(fd, pd).expect("open");
    }
    let mut collect_rawpoll = || {
        let (mut got, mut sum, mut polls) = (0, 0usize, 0);
        loop {
            let n = np
                .poll(0, |pd, _, _| sum = sum.wrapping_add(pd.user_data()))
                .expect("poll");
            polls += 1;
            got += n;
            if n == 0 || got >= READY_FDS {
                break;
            }
        }
        black_box(sum);
        (got, polls)
    };

    // glibc: the same registration, epoll_wait into a 128-event buffer.
    // SAFETY: plain FFI calls, results checked.
    let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    assert!(ep >= 0);
    for (i, &fd) in raw.iter().enumerate() {
        let flags = libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET;
        let mut ev = libc::epoll_event {
            events: flags as u32,
            u64: i as u64,
        };
        // SAFETY: the kernel reads `ev`.
        assert_eq!(
            unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &mut ev) },
            0
        );
    }
    let mut lc = [libc::epoll_event { events: 0, u64: 0 }; 128];
    let mut collect_glibc = || {
        let (mut got, mut sum, mut polls) = (0, 0u64, 0);
        loop {
            // SAFETY: the kernel writes at most 128 entries into `lc`.
            let n = unsafe { libc::epoll_wait(ep, lc.as_mut_ptr(), 128, 0) };
            assert!(n >= 0);
            polls += 1;
            for e in &lc[..n as usize] {
                sum = sum.wrapping_add(e.u64);
            }
            got += n as usize;
            if n == 0 || got >= READY_FDS {
                break;
            }
        }
        black_box(sum);
        (got, polls)
    };

    // mio: Poll::poll with Events::with_capacity(128).
    let mut poll = mio::Poll::new().expect("Poll");
    for (i, fd) in raw.iter().enumerate() {
        poll.registry()
            .register(
                &mut mio::unix::SourceFd(fd),
                mio::Token(i),
                mio::Interest::READABLE | mio::Interest::WRITABLE,
            )
            .expect("register");
    }
    let mut mio_events = mio::Events::with_capacity(128);
    let mut collect_mio = || {
        let (mut got, mut sum, mut polls) = (0, 0usize, 0);
        loop {
            poll.poll(&mut mio_events, Some(Duration::ZERO))
                .expect("poll");
            polls += 1;
            let mut n = 0;
            for e in mio_events.iter() {
                sum = sum.wrapping_add(e.token().0);
                n += 1;
            }
            got += n;
            if n == 0 || got >= READY_FDS {
                break;
            }
        }
        black_box(sum);
        (got, polls)
    };

    // polling: edge-triggered mode (as the others), Events::with_capacity(128).
    let poller = polling::Poller::new().expect("Poller");
    for (i, &fd) in raw.iter().enumerate() {
        // SAFETY: each descriptor stays open, and registered, until after the poller is dropped.
        unsafe { poller.add_with_mode(fd, polling::Event::all(i), polling::PollMode::Edge) }
            .expect("add");
    }
    let mut polling_events = polling::Events::with_capacity(128.try_into().expect("128"));
    let mut collect_polling = || {
        let (mut got, mut sum, mut polls) = (0, 0usize, 0);
        loop {
            polling_events.clear();
            let n = poller
                .wait(&mut polling_events, Some(Duration::ZERO))
                .expect("wait");
            polls += 1;
            for e in polling_events.iter() {
                sum = sum.wrapping_add(e.key);
            }
            got += n;
            if n == 0 || got >= READY_FDS {
                break;
            }
        }
        black_box(sum);
        (got, polls)
    };

    // Allocations per poll, counted around one collection of each peer.
    let mut allocs = Vec::new();
    {
        let mut count = |name: &'static str, collect: &mut dyn FnMut() -> (usize, usize)| {
            rearm();
            let before = allocations();
            let (got, polls) = collect();
            let after = allocations();
            assert_eq!(
                got, READY_FDS,
                "{name} collected {got} of {READY_FDS} ready descriptors"
            );
            allocs.push((name, after - before, polls));
        };
        count("rawpoll", &mut collect_rawpoll);
        count("glibc", &mut collect_glibc);
        count("mio", &mut collect_mio);
        count("polling", &mut collect_polling);
    }
    for (name, a, polls) in allocs {
        println!("ALLOC\tm4_ready_ns_per_event\t{name}\t{a}\t{polls}");
    }

    let time = |collect: &mut dyn FnMut() -> (usize, usize), k: u64| {
        let mut total = Duration::ZERO;
        for _ in 0..k {
            rearm();
            let start = Instant::now();
            let (got, _) = collect();
            total += start.elapsed();
            assert_eq!(got, READY_FDS);
        }
        total
    };
    let peers = vec![
        peer("rawpoll", |k| time(&mut collect_rawpoll, k)),
        peer("glibc", |k| time(&mut collect_glibc, k)),
        peer("mio", |k| time(&mut collect_mio, k)),
        peer("polling", |k| time(&mut collect_polling, k)),
    ];
    measure(
        "m4_ready_ns_per_event",
        "ns/event",
        READY_FDS as f64,
        cfg,
        peers,
        &[
            ("rawpoll", "mio"),
            ("rawpoll", "polling"),
            ("rawpoll", "glibc"),
        ],
    );
    drop(poller);
    drop(poll);
    // SAFETY: closing our own descriptor.
    unsafe { libc::close(ep) };
    drop(np);
    drop(fds);
}

/// Metric 5: one same-thread wake cycle.
fn same_thread_wake(cfg: Config) {
    let peers = wake::PEERS
        .iter()
        .map(|&name| {
            let mut one = wake::cycle(name);
            peer(name, move |k| timed(k, &mut *one))
        })
        .collect();
    measure(
        "m5_wake_cycle_ns",
        "ns/cycle",
        1.0,
        cfg,
        peers,
        &[
            ("rawpoll", "mio"),
            ("rawpoll", "polling"),
            ("rawpoll", "glibc"),
        ],
    );
}

/// Pins the calling thread to one CPU (best effort: on a 1-CPU machine it stays unpinned).
fn pin(cpu: usize) {
    // SAFETY: CPU_SET on a zeroed cpu_set_t, then sched_setaffinity on the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        let _ = libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

type WakeFn = Arc<dyn Fn() + Send + Sync>;
type WaitFn = Box<dyn FnMut() + Send>;

/// One side of a ping-pong: how to wake it, how it waits.
fn side(peer: &str) -> (WakeFn, WaitFn) {
    match peer {
        "rawpoll" => {
            let np = Arc::new(Netpoll::new());
            np.init().expect("init");
            let waiter = Arc::clone(&np);
            (
                Arc::new(move || np.wake().expect("wake")),
                Box::new(move || {
                    waiter.poll(-1, |_, _, _| {}).expect("poll");
                }),
            )
        }
        "glibc" => {
            let w = Arc::new(LibcWake::new());
            let waiter = Arc::clone(&w);
            (Arc::new(move || w.wake()), Box::new(move || waiter.wait()))
        }
        "mio" => {
            let mut poll = mio::Poll::new().expect("Poll");
            let waker = mio::Waker::new(poll.registry(), mio::Token(0)).expect("Waker");
            let mut events = mio::Events::with_capacity(128);
            (
                Arc::new(move || waker.wake().expect("wake")),
                Box::new(move || loop {
                    poll.poll(&mut events, None).expect("poll");
                    if !events.is_empty() {
                        break;
                    }
                }),
            )
        }
        "polling" => {
            let poller = Arc::new(polling::Poller::new().expect("Poller"));
            let waiter = Arc::clone(&poller);
            let mut events = polling::Events::with_capacity(128.try_into().expect("128"));
            (
                Arc::new(move || poller.notify().expect("notify")),
                // A notification is returned as no event: wait() returns 0 after it.
                Box::new(move || {
                    events.clear();
                    waiter.wait(&mut events, None).expect("wait");
                }),
            )
        }
        _ => panic!("unknown peer {peer}"),
    }
}

/// Metric 6: cross-thread ping-pong, this thread on CPU 0 and the other side on CPU 1; one
/// iteration is a round trip (two wakes, two blocking polls).
fn ping_pong(cfg: Config) {
    pin(0);
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    let mut peers = Vec::new();
    for &name in &wake::PEERS {
        let (wake_a, mut wait_a) = side(name);
        let (wake_b, mut wait_b) = side(name);
        let (stop_b, wake_a_b) = (Arc::clone(&stop), Arc::clone(&wake_a));
        threads.push((
            Arc::clone(&wake_b),
            std::thread::spawn(move || {
                pin(1);
                loop {
                    wait_b();
                    if stop_b.load(Ordering::Acquire) {
                        break;
                    }
                    wake_a_b();
                }
            }),
        ));
        peers.push(peer(name, move |k| {
            timed(k, || {
                wake_b();
                wait_a();
            })
        }));
    }
    measure(
        "m6_ping_pong_us",
        "ns/round trip",
        1.0,
        cfg,
        peers,
        &[
            ("rawpoll", "glibc"),
            ("rawpoll", "mio"),
            ("rawpoll", "polling"),
        ],
    );
    stop.store(true, Ordering::Release);
    for (wake_b, t) in threads {
        wake_b();
        t.join().expect("pong thread");
    }
}
