// A number grants nothing: borrowing or owning one is `unsafe`.
#![forbid(unsafe_code)]
use rawpoll::netpoll::Netpoll;
use rawpoll::{BorrowedFd, FromRawFd, OwnedFd};

static POLLER: Netpoll = Netpoll::new();

fn main() {
    POLLER.init().unwrap();
    let epoll = BorrowedFd::borrow_raw(POLLER.raw_epoll_fd());
    let wake = OwnedFd::from_raw_fd(POLLER.raw_wake_fd());
    drop((epoll, wake));
}
