//! The multi-threaded executor with std (multi_thread/executor.rs, its sockets conn.rs) serving
//! async TCP echo on 127.0.0.1 (multi_thread/echo.rs) on 4 workers: 64 connections of 16
//! messages of 512 bytes, clients and server in this one program. Prints the counts; exits 1 unless every byte came
//! back. `cargo run --features std --example multi_thread`.

#[path = "multi_thread/conn.rs"]
pub mod conn;
#[path = "multi_thread/echo.rs"]
pub mod echo;
#[path = "multi_thread/executor.rs"]
pub mod executor;

use rawpoll::netpoll::Netpoll;
use std::io;

fn main() {
    static POLLER: Netpoll = Netpoll::new();
    let (workers, connections, rounds, message) = (4, 64, 16, 512);
    let totals = POLLER
        .init()
        .map_err(io::Error::from)
        .and_then(|()| echo::run(&POLLER, workers, connections, rounds, message));
    let t = totals.unwrap_or_else(|e| panic!("echo: {e}"));
    let want = (connections * rounds * message) as u64;
    let [accepted, sent, echoed, received, mismatched, failed] = t.counts();
    let ok = accepted == connections as u64
        && [sent, echoed, received] == [want; 3]
        && mismatched + failed == 0;
    println!(
        "echo on {workers} workers: {accepted} connections, {sent} bytes sent, {echoed} echoed, {received} received, {mismatched} mismatched, {failed} failed tasks -- {}",
        if ok { "ok" } else { "FAILED" }
    );
    std::process::exit(if ok { 0 } else { 1 })
}
