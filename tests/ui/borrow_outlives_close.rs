// A borrow cannot outlive the descriptor it borrows: closing (or dropping) ends it.
#![forbid(unsafe_code)]
use rawpoll::AsFd;

fn main() {
    let fd = rawpoll::eventfd(0, 0).unwrap();
    let borrowed = fd.as_fd();
    rawpoll::close(fd).unwrap();
    rawpoll::eventfd_write(borrowed, 1).unwrap();
}
