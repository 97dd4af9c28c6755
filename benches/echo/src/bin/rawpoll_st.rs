//! The echo server on rawpoll's single-threaded example executor with the example's echo loop
//! (examples/single_thread/echo.rs: `poll_ready` first, then the I/O; a short read clears the
//! edge): `src/st.rs`.

fn main() {
    rawpoll_echo_bench::st::main()
}
