//! The echo server on rawpoll's single-threaded example executor, with the short-read loop
//! (wait, read, and a read shorter than the buffer clears the edge: no read returns `EAGAIN`):
//! `src/st.rs`.

fn main() {
    rawpoll_echo_bench::st::main(true)
}
