//! The echo server on rawpoll's single-threaded example executor, with the examples' I/O loop
//! (try the read, wait only after `EAGAIN`): `src/st.rs`.

fn main() {
    rawpoll_echo_bench::st::main(false)
}
