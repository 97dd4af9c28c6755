// A crash of untyped descriptors: find the poller's epoll descriptor by probing numbers, then register
// an eventfd on it with a data word that `poll` would take for a `PollDesc` address.
#![forbid(unsafe_code)]
use rawpoll::netpoll::Netpoll;
use rawpoll::{EpollEvent, EPOLLIN, EPOLL_CTL_ADD};

static POLLER: Netpoll = Netpoll::new();

fn main() {
    POLLER.init().unwrap();
    let some_eventfd = rawpoll::eventfd(0, 0).unwrap();
    let epfd = (0..64)
        .find(|&fd| POLLER.is_poll_descriptor(fd) && fd != POLLER.raw_wake_fd())
        .unwrap();
    let event = EpollEvent::new(EPOLLIN, 0x1000 << 7);
    rawpoll::epoll_ctl(epfd, EPOLL_CTL_ADD, &some_eventfd, Some(&event)).unwrap();
}
