//! Where the sequence tag stops telling a stale event from a current one.
//!
//! A `PollDesc` reused for another descriptor is bumped (`bump_sequence`) so that events still
//! queued for its old registration are dropped: an event carries the low
//! `rawpoll::netpoll::TAG_BITS` bits of the sequence at registration (13 on 64-bit targets, 32
//! on 32-bit ones), and `poll` reports it only if they equal those bits of the sequence now. So
//! a stale event must be dropped after 1 and after 2^TAG_BITS - 1 bumps, and is reported, as if
//! current, after exactly 2^TAG_BITS bumps: the documented limit, asserted here exactly, from
//! several starting sequences (one of them wrapping `usize`).
//!
//! The event is queued and not yet polled: an eventfd registered (its registration queues a
//! writable event, carrying the sequence of that moment), made readable, then the `PollDesc` is
//! bumped k times and the poller polled once. The test bodies use the public API only.
//!
//! A test binary of its own, as every file of `adversary/` (`ci/soak` runs them one by one);
//! its case could share a process.
#![forbid(unsafe_code)]

use rawpoll::netpoll::{Netpoll, PollDesc, Tag, TAG_BITS};
use rawpoll::{Errno, EFD_CLOEXEC, EFD_NONBLOCK, EPOLLIN, EPOLLOUT};

/// What one poll reported for an event queued at sequence `start` after `k` bumps: the poll's
/// result and, for each callback, `(the PollDesc is ours, events, tag carried, tag now)`.
type Report = (Result<usize, Errno>, Vec<(bool, u32, Tag, Tag)>);

fn stale_event_after(start: usize, k: u64) -> Report {
    let np = Netpoll::new();
    assert_eq!(np.init(), Ok(()));
    let pd: &'static PollDesc = Box::leak(Box::new(PollDesc::new()));
    pd.set_sequence(start);
    let fd = rawpoll::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).expect("eventfd");
    assert_eq!(np.open(&fd, pd), Ok(()));
    assert_eq!(rawpoll::eventfd_write(&fd, 1), Ok(()));
    if k <= 1 << 20 {
        for _ in 0..k {
            pd.bump_sequence();
        }
    } else {
        // 2^32 - 1 bumps on a 32-bit target: the same sequence, set outright.
        pd.set_sequence(start.wrapping_add(k as usize));
    }
    assert_eq!(pd.sequence(), start.wrapping_add(k as usize));
    let mut seen = Vec::new();
    let r = np.poll(0, |p, ready, tag| {
        seen.push((std::ptr::eq(p, pd), ready.events, tag, p.tag()))
    });
    assert_eq!(np.close(&fd), Ok(()));
    (r, seen)
}

#[test]
fn stale_event_looks_current_after_exactly_two_to_the_tag_bits_bumps() {
    let expected_bits = if cfg!(target_pointer_width = "64") {
        13
    } else {
        32
    };
    assert_eq!(TAG_BITS, expected_bits);
    let wrap: u64 = 1 << TAG_BITS;
    let both = EPOLLIN | EPOLLOUT;
    let starts = [0usize, 5, 0x1fff, usize::MAX - 3];
    let mut lines = Vec::new();
    for start in starts {
        // Control: no bump, the event is current.
        assert_eq!(
            stale_event_after(start, 0),
            (Ok(1), vec![(true, both, Tag::of(start), Tag::of(start))]),
            "start {start:#x}, no bump"
        );
        for k in [1, 2, wrap / 2, wrap - 1] {
            assert_eq!(
                stale_event_after(start, k),
                (Ok(0), vec![]),
                "start {start:#x}: a stale event after {k} bumps must be dropped"
            );
        }
        if usize::BITS > TAG_BITS {
            // Exactly 2^TAG_BITS bumps: the old tag equals the new one, the stale event is
            // reported as current (and so after any multiple of it; one more and it is
            // dropped again).
            for k in [wrap, 2 * wrap] {
                let tag = Tag::of(start);
                assert_eq!(
                    stale_event_after(start, k),
                    (Ok(1), vec![(true, both, tag, tag)]),
                    "start {start:#x}: after {k} bumps the stale event is taken for current"
                );
            }
            assert_eq!(stale_event_after(start, wrap + 1), (Ok(0), vec![]));
            lines.push(format!("{start:#x}"));
        } else {
            println!(
                "tag: skipped the {wrap} bumps case from {start:#x}: on a {}-bit target the tag is the whole sequence, which wraps to itself after 2^{TAG_BITS} bumps",
                usize::BITS
            );
        }
    }
    println!(
        "tag: TAG_BITS {TAG_BITS}: a stale event is dropped after 1, 2, {}, {} bumps (starting at {starts:x?}); reported as current after {wrap} and {} bumps: {}",
        wrap / 2,
        wrap - 1,
        2 * wrap,
        if lines.is_empty() {
            "not reachable on this target".to_string()
        } else {
            format!("yes, starting at {}", lines.join(", "))
        }
    );
}
