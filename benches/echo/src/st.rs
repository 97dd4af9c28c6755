//! The echo server of `rawpoll_st`: the single-threaded example's executor
//! (examples/single_thread/executor.rs, copied by build.rs with `MAX_TASKS` = 1024) and its
//! echo loop (`echo` and `io` of examples/single_thread/echo.rs, copied as they are) on std's
//! sockets; task 0 accepts and hands each connection to task `k` by index (as the example does),
//! task `k` echoes it.

use crate::BUF;
use core::future::poll_fn;
use core::task::Poll;
use example::{echo, executor};
use rawpoll::netpoll::{Direction, Netpoll, PollDesc};
use rawpoll::Errno;
use std::cell::Cell;
use std::net::{TcpListener, TcpStream};

/// The example's files, `MAX_TASKS` edited.
#[allow(dead_code, clippy::all)]
mod example {
    pub mod executor {
        include!(concat!(env!("OUT_DIR"), "/st_executor.rs"));
    }
    pub mod echo {
        include!(concat!(env!("OUT_DIR"), "/st_echo.rs"));
    }
}

const TASKS: usize = executor::MAX_TASKS;
/// Connections served (one task each, after the acceptor).
const CONNECTIONS: usize = TASKS - 1;

static POLLER: Netpoll = Netpoll::new();
static EXECUTOR: executor::Executor = executor::Executor::new();
/// Descriptor 0 is the listener's, `k` the `k`th connection's.
static DESCS: [PollDesc; TASKS] = [const { PollDesc::new() }; TASKS];

struct Shared {
    listener: TcpListener,
    accepted: Vec<Cell<Option<TcpStream>>>,
    next: Cell<usize>,
}

/// Serves echo until the control thread ends the process.
pub fn main() -> ! {
    let listener = crate::listen();
    POLLER.init().expect("netpoll init");
    POLLER
        .open(&listener, &DESCS[0])
        .expect("register the listener");
    let shared = Shared {
        listener,
        accepted: (0..CONNECTIONS).map(|_| Cell::new(None)).collect(),
        next: Cell::new(0),
    };
    // The futures are made once, on the heap (a few KiB each); nothing allocates after this.
    let tasks: Box<[_]> = (0..TASKS).map(|i| task(&shared, i)).collect();
    let mut tasks = Box::into_pin(tasks);
    let result = EXECUTOR.run(&POLLER, tasks.as_mut());
    eprintln!("rawpoll_st: the executor stopped: {result:?}");
    std::process::exit(1)
}

async fn task(shared: &Shared, i: usize) {
    if i == 0 {
        return accept(shared).await;
    }
    // Wait to be handed a connection (the acceptor schedules this task by its index).
    let stream = poll_fn(|_| match shared.accepted[i - 1].take() {
        Some(s) => Poll::Ready(s),
        None => Poll::Pending,
    })
    .await;
    let mut buf = [0u8; BUF];
    let _ = echo::echo(&DESCS[i], &stream, &mut buf, |_| {}).await;
    let _ = POLLER.close(&stream);
}

async fn accept(shared: &Shared) {
    loop {
        let accept = || {
            shared
                .listener
                .accept()
                .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(0) as u16))
        };
        let Ok((stream, _)) = echo::io(&DESCS[0], Direction::Read, accept, |_| false).await else {
            continue;
        };
        let k = shared.next.get();
        if k >= CONNECTIONS {
            continue; // no task left: closed
        }
        let _ = stream.set_nodelay(true);
        DESCS[k + 1].bump_sequence();
        if stream.set_nonblocking(true).is_err() || POLLER.open(&stream, &DESCS[k + 1]).is_err() {
            continue;
        }
        shared.accepted[k].set(Some(stream));
        shared.next.set(k + 1);
        EXECUTOR.schedule(k + 1);
    }
}
