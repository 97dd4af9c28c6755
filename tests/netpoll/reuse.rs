//! Descriptor reuse and the sequence tag: a stale event for a reused descriptor is dropped, no
//! sequence makes a descriptor look like the wake eventfd, and the callback gets the event's tag:
//! an event is delivered only for the registration it was made for.

use super::*;

#[test]
fn stale_event_after_fd_reuse_is_dropped() {
    let _serial = serial();
    let np = ready_netpoll();
    let pd = leak_pd();
    pd.set_user_data(1);
    // The old registration: fd `a` at sequence 0. A duplicate keeps its file open after `a` is
    // closed, so the kernel keeps the registration (and its old data) alive.
    let a = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
    let a_number = a.as_raw_fd();
    np.open(&a, pd).unwrap();
    assert_eq!(collect(&np, 0).0, 1, "initially writable");
    // The duplicate: dup3 onto a descriptor this test owns (a spare eventfd), keeping its number.
    let mut keep = eventfd(0, EFD_CLOEXEC).unwrap();
    dup3(&a, &mut keep, 0).unwrap();
    close(a).unwrap();
    // The runtime reuses the descriptor for a new fd, which gets the same number.
    assert_eq!(pd.bump_sequence(), 1);
    pd.set_user_data(2);
    let b = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
    assert_eq!(b.as_raw_fd(), a_number, "the fd number is reused");
    np.open(&b, pd).unwrap();
    assert_eq!(
        collect(&np, 0),
        (1, vec![(2, Ready::from_events(EPOLLOUT))])
    );
    // The old file becomes readable: the kernel reports it with the old data (sequence 0),
    // which must be dropped.
    eventfd_write(&keep, 1).unwrap();
    assert_eq!(collect(&np, 0), (0, vec![]), "stale event dropped");
    // The new one still works.
    eventfd_write(&b, 1).unwrap();
    let both = Ready::from_events(EPOLLIN | EPOLLOUT);
    assert_eq!(collect(&np, 0), (1, vec![(2, both)]));
    close(keep).unwrap();
    close(b).unwrap();
}

#[test]
fn no_sequence_makes_a_descriptor_look_like_the_wake_eventfd() {
    let _serial = serial();
    let np = ready_netpoll();
    assert_eq!(np.wake(), Ok(()));
    let wake_fd = np.raw_wake_fd() as usize;
    // Values that would collide with the wake marker under a packing that compares only one
    // pointer-sized half of the data word (Go bug #72900 on 32-bit little-endian).
    for (i, sequence) in [0, 1, wake_fd, usize::MAX, 1 << 31, 0x1fff, 0x2000]
        .into_iter()
        .enumerate()
    {
        let pd = leak_pd();
        pd.set_sequence(sequence);
        pd.set_user_data(i);
        let fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
        np.open(&fd, pd).unwrap();
        // Nobody slept when wake() ran, so it wrote nothing (it used to write once,
        // which put the wake's event in every batch below). An edge written here from outside
        // puts it back in the same batch as the descriptor's event.
        common::raw_eventfd_write(np.raw_wake_fd(), 1).unwrap();
        let both = Ready::from_events(EPOLLIN | EPOLLOUT);
        assert_eq!(
            collect(&np, 0),
            (1, vec![(i, both)]),
            "sequence {sequence:#x}"
        );
        assert_eq!(
            writes(&np),
            i as u64 + 1,
            "the pending wake is untouched: only this test's own writes"
        );
        close(fd).unwrap();
    }
    // The wake is still pending after those non-blocking polls: a blocking poll returns at once
    // and reports no descriptor.
    poll_returns(&Arc::new(np), -1, "poll(-1) with the wake pending");
}

#[test]
fn the_callback_gets_the_events_tag() {
    let _serial = serial();
    let np = ready_netpoll();
    let pd = leak_pd();
    pd.set_sequence(5);
    assert_eq!(pd.tag(), Tag::of(5));
    assert_eq!(pd.tag().bits(), 5);
    let efd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
    np.open(&efd, pd).unwrap();
    let mut tags = Vec::new();
    assert_eq!(
        np.poll(0, |p, _, tag| tags.push((std::ptr::eq(p, pd), tag))),
        Ok(1)
    );
    assert_eq!(tags, [(true, Tag::of(5))]);
    assert!(tags[0].1.matches(5) && !tags[0].1.matches(6));

    // After bump_sequence, an event of the old registration carries the old tag: dropped.
    eventfd_write(&efd, 1).unwrap();
    assert_eq!(pd.bump_sequence(), 6);
    let mut calls = 0;
    assert_eq!(
        np.poll(0, |_, _, _| calls += 1),
        Ok(0),
        "stale event dropped"
    );
    assert_eq!(calls, 0);
    // A modify packs the new sequence: the next event carries Tag::of(6), equal to pd.tag().
    np.modify(&efd, pd, Interest::GO).unwrap();
    let mut tags = Vec::new();
    assert_eq!(np.poll(0, |p, _, tag| tags.push((p.tag(), tag))), Ok(1));
    assert_eq!(tags, [(Tag::of(6), Tag::of(6))]);

    // The tag keeps TAG_BITS bits of the sequence: sequences that differ above them match.
    let bits = rawpoll::netpoll::TAG_BITS;
    let expected_bits = if cfg!(target_pointer_width = "64") {
        13
    } else {
        32
    };
    assert_eq!(bits, expected_bits);
    let wrap = 1usize.checked_shl(bits).unwrap_or(0);
    assert!(Tag::of(wrap + 6).matches(6), "tags wrap at 2^{bits}");
    assert_eq!(
        Tag::of(usize::MAX).bits(),
        (usize::MAX as u64) & ((1u64 << bits) - 1)
    );
    np.close(&efd).unwrap();
}
