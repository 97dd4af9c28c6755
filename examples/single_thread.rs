//! The single-threaded executor without std or an allocator (single_thread/executor.rs) serving
//! async TCP echo on 127.0.0.1 (single_thread/echo.rs): 64 connections of 16 messages of 512
//! bytes, clients and server in this one program. Prints the counts; exits 1 unless every byte
//! came back. `cargo run --example single_thread`.
//!
//! Only this `main` uses std (to print); the two files it includes are `no_std`, and they are
//! what the freestanding echo (tests/freestanding/examples/echo.rs) runs on every target.

#[path = "single_thread/echo.rs"]
mod echo;
#[path = "single_thread/executor.rs"]
mod executor;

use rawpoll::netpoll::Netpoll;

static POLLER: Netpoll = Netpoll::new();
static EXECUTOR: executor::Executor = executor::Executor::new();

fn main() {
    let (connections, rounds) = (echo::MAX_CONNECTIONS, 16);
    let totals = POLLER
        .init()
        .and_then(|()| echo::run(&POLLER, &EXECUTOR, connections, rounds));
    let want = (connections * rounds * echo::MESSAGE) as u64;
    match totals {
        Ok(t) => {
            let ok = t.accepted == connections as u64
                && [t.sent, t.echoed, t.received] == [want; 3]
                && t.mismatched == 0
                && EXECUTOR.wakes() == 0; // every waker ran on the executor's thread
            println!(
                "echo: {} connections, {} bytes sent, {} echoed, {} received, {} mismatched, {} wakes -- {}",
                t.accepted,
                t.sent,
                t.echoed,
                t.received,
                t.mismatched,
                EXECUTOR.wakes(),
                if ok { "ok" } else { "FAILED" }
            );
            std::process::exit(if ok { 0 } else { 1 })
        }
        Err(e) => {
            println!("echo: failed: {e}");
            std::process::exit(1)
        }
    }
}
