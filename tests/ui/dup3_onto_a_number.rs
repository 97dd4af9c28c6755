// `dup3` replaces only a descriptor the caller owns: not a number, not a borrow.
#![forbid(unsafe_code)]
use rawpoll::netpoll::Netpoll;
use rawpoll::AsFd;

static POLLER: Netpoll = Netpoll::new();

fn main() {
    POLLER.init().unwrap();
    let mine = rawpoll::eventfd(0, 0).unwrap();
    let mut epoll_number = POLLER.raw_epoll_fd();
    rawpoll::dup3(&mine, &mut epoll_number, 0).unwrap();
    let mut borrowed = mine.as_fd();
    rawpoll::dup3(&mine, &mut borrowed, 0).unwrap();
}
