// Only an owner can be closed: a number cannot.
#![forbid(unsafe_code)]
use rawpoll::AsRawFd;

fn main() {
    let fd = rawpoll::eventfd(0, 0).unwrap();
    let number = fd.as_raw_fd();
    drop(fd);
    rawpoll::close(number).unwrap();
}
