//! An async TCP echo on 127.0.0.1, server and clients in one program, on the single-threaded
//! executor (executor.rs) and rawpoll's readiness layer, through raw `socket`, `bind`, `listen`,
//! `accept4`, `connect`, `read` and `write` calls over `rawpoll::raw::syscall6`: no std, no
//! libc, no allocation. Task 0 accepts, tasks `1..=n` are the clients (each sends `rounds`
//! messages of `MESSAGE` bytes and reads each back), tasks `n+1..=2n` serve one accepted
//! connection each. Every byte is counted and checked.

use super::executor::Executor;
use core::cell::Cell;
use core::future::poll_fn;
use core::task::Poll;
use linux_raw_sys::{errno, general as k, net};
use rawpoll::netpoll::{Direction, Netpoll, PollDesc};
use rawpoll::raw::{self, syscall6};
use rawpoll::{AsFd, AsRawFd, Errno, FromRawFd, OwnedFd};

/// Most connections one run serves.
pub const MAX_CONNECTIONS: usize = 64;
/// Bytes per message.
pub const MESSAGE: usize = 512;
const TASKS: usize = 1 + 2 * MAX_CONNECTIONS;
/// One descriptor state per socket: the listener, then the clients, then the accepted ones.
static DESCS: [PollDesc; TASKS] = [const { PollDesc::new() }; TASKS];

/// What a run counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub accepted: u64,
    pub sent: u64,
    pub echoed: u64,
    pub received: u64,
    pub mismatched: u64,
}

struct Shared<'a> {
    poller: &'static Netpoll,
    executor: &'static Executor,
    listener: &'a OwnedFd,
    port: u16,
    connections: usize,
    rounds: usize,
    accepted: [Cell<Option<OwnedFd>>; MAX_CONNECTIONS],
    accepting: Cell<bool>,
    totals: Cell<Totals>,
    error: Cell<Option<Errno>>,
}

/// Serves `connections` (at most [`MAX_CONNECTIONS`]) echo connections of `rounds` messages
/// each on `executor`, and returns what was counted; the first error any task met, if any.
pub fn run(
    poller: &'static Netpoll,
    executor: &'static Executor,
    connections: usize,
    rounds: usize,
) -> Result<Totals, Errno> {
    if connections > MAX_CONNECTIONS {
        return Err(Errno::EINVAL);
    }
    let listener = socket()?;
    let mut addr = loopback(0);
    sockcall(
        raw::SYS_BIND,
        &listener,
        &addr as *const SockaddrIn as usize,
        SOCKADDR_LEN,
    )?;
    sockcall(raw::SYS_LISTEN, &listener, 2 * MAX_CONNECTIONS, 0)?;
    let mut len = SOCKADDR_LEN as u32; // a socklen_t
    let out = (
        &mut addr as *mut SockaddrIn as usize,
        &mut len as *mut u32 as usize,
    );
    sockcall(raw::SYS_GETSOCKNAME, &listener, out.0, out.1)?;
    register(poller, &listener, 0)?;
    let shared = Shared {
        poller,
        executor,
        listener: &listener,
        port: u16::from_be(addr.port),
        connections,
        rounds,
        accepted: [const { Cell::new(None) }; MAX_CONNECTIONS],
        accepting: Cell::new(true),
        totals: Cell::new(Totals::default()),
        error: Cell::new(None),
    };
    let tasks: [_; TASKS] = core::array::from_fn(|i| task(&shared, i));
    let ran = executor.run(poller, core::pin::pin!(tasks));
    let _ = poller.close(&listener);
    ran?;
    shared.error.get().map_or(Ok(shared.totals.get()), Err)
}

async fn task(s: &Shared<'_>, i: usize) {
    let n = s.connections;
    let result = match i {
        0 => acceptor(s).await,
        i if i <= n => client(s, i).await,
        i if i > MAX_CONNECTIONS && i - MAX_CONNECTIONS <= n => server(s, i).await,
        _ => Ok(()),
    };
    if let Err(e) = result {
        s.error.set(s.error.get().or(Some(e)));
    }
}

fn count(s: &Shared<'_>, add: impl FnOnce(&mut Totals)) {
    let mut totals = s.totals.get();
    add(&mut totals);
    s.totals.set(totals);
}

/// Accepts every connection and hands each to its server task (by index: no waker needed).
async fn acceptor(s: &Shared<'_>) -> Result<(), Errno> {
    let mut result = Ok(());
    for slot in s.accepted.iter().take(s.connections) {
        let accept = || sockcall(raw::SYS_ACCEPT4, s.listener, 0, 0);
        let fd = io(&DESCS[0], Direction::Read, accept, |_| false);
        match fd.await {
            // SAFETY: accept4 returned a new descriptor, owned by nothing else.
            Ok(fd) => slot.set(Some(unsafe { OwnedFd::from_raw_fd(fd as i32) })),
            Err(e) => {
                result = Err(e);
                break;
            }
        }
        count(s, |t| t.accepted += 1);
    }
    s.accepting.set(false);
    (0..s.connections).for_each(|k| s.executor.schedule(1 + MAX_CONNECTIONS + k));
    result
}

/// Echoes one accepted connection until the client closes it.
async fn server(s: &Shared<'_>, i: usize) -> Result<(), Errno> {
    let slot = &s.accepted[i - MAX_CONNECTIONS - 1];
    let conn = poll_fn(|_| match slot.take() {
        Some(fd) => Poll::Ready(Some(fd)),
        None if s.accepting.get() => Poll::Pending, // the acceptor schedules this task
        None => Poll::Ready(None),
    });
    let Some(conn) = conn.await else {
        return Ok(());
    };
    register(s.poller, &conn, i)?;
    let mut buf = [0u8; 2 * MESSAGE];
    echo(&DESCS[i], &conn, &mut buf, |n| {
        count(s, |t| t.echoed += n as u64)
    })
    .await?;
    s.poller.close(&conn)
}

/// Connects, then sends `rounds` messages and reads each back, checking every byte.
async fn client(s: &Shared<'_>, i: usize) -> Result<(), Errno> {
    let conn = socket()?;
    register(s.poller, &conn, i)?;
    let addr = loopback(s.port);
    let connect = || match sockcall(
        raw::SYS_CONNECT,
        &conn,
        &addr as *const _ as usize,
        SOCKADDR_LEN,
    ) {
        Err(e) if e == Errno::from_raw(errno::EISCONN as u16) => Ok(0),
        Err(e) if [errno::EINPROGRESS, errno::EALREADY].contains(&(e.raw() as u32)) => {
            Err(Errno::EAGAIN)
        }
        other => other,
    };
    // Start the connect before waiting for writability (nothing else would start it), then
    // wait and ask again until it is done.
    match connect() {
        Err(e) if e == Errno::EAGAIN => io(&DESCS[i], Direction::Write, connect, |_| false).await?,
        started => started?,
    };
    // `back` is longer than a message, so that a read that gets all that is left is short.
    let (mut message, mut back) = ([0u8; MESSAGE], [0u8; 2 * MESSAGE]);
    for round in 0..s.rounds {
        for (j, byte) in message.iter_mut().enumerate() {
            *byte = (i * 31 + round * 7 + j) as u8;
        }
        write_all(&DESCS[i], &conn, &message).await?;
        count(s, |t| t.sent += MESSAGE as u64);
        let mut got = 0;
        while got < MESSAGE {
            let n = read(&DESCS[i], &conn, &mut back[got..]).await?;
            if n == 0 {
                return Err(Errno::EPIPE); // the server closed early
            }
            let wrong = back[got..got + n]
                .iter()
                .zip(&message[got..])
                .filter(|(a, b)| a != b);
            let wrong = wrong.count() as u64;
            count(s, |t| {
                (t.received, t.mismatched) = (t.received + n as u64, t.mismatched + wrong)
            });
            got += n;
        }
    }
    s.poller.close(&conn)
}

/// The readiness layer's I/O loop: waits until `dir` is ready (`poll_ready`), then runs `op`;
/// after `EAGAIN` clears the edge (`clear_ready`) and waits again. `drained(&result)` says that
/// `op` emptied the socket's buffer (a read or write that moved fewer bytes than it asked): the
/// edge is cleared at once, which saves the call that would return `EAGAIN`. That is safe: an
/// edge that arrived after the `poll_ready` that returned `Ready` stays latched (`clear_ready`
/// keeps it), so data that came after the drain is never left waiting for another edge.
///
/// Asking `poll_ready` first uses the edge that woke the task; trying the I/O first would leave
/// it latched and cost one more call that returns `EAGAIN` per message. A freshly registered
/// descriptor reports its readiness at registration (`epoll_ctl` queues it), so the first wait
/// ends at once if it is ready already.
pub async fn io<T>(
    pd: &PollDesc,
    dir: Direction,
    mut op: impl FnMut() -> Result<T, Errno>,
    drained: impl Fn(&T) -> bool,
) -> Result<T, Errno> {
    poll_fn(|cx| loop {
        match pd.poll_ready(dir, cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
        match op() {
            Err(e) if e == Errno::EAGAIN => pd.clear_ready(dir),
            Ok(done) => {
                if drained(&done) {
                    pd.clear_ready(dir);
                }
                return Poll::Ready(Ok(done));
            }
            Err(e) => return Poll::Ready(Err(e)),
        }
    })
    .await
}

/// Reads into `buf` once data is there; a read shorter than `buf` drained the socket.
pub async fn read(pd: &PollDesc, fd: &impl AsFd, buf: &mut [u8]) -> Result<usize, Errno> {
    let asked = buf.len();
    io(
        pd,
        Direction::Read,
        || rawpoll::read(fd, buf),
        |&n| n < asked,
    )
    .await
}

/// Writes all of `bytes`; a write shorter than asked filled the socket's send buffer.
pub async fn write_all(pd: &PollDesc, fd: &impl AsFd, mut bytes: &[u8]) -> Result<(), Errno> {
    while !bytes.is_empty() {
        let asked = bytes.len();
        let n = io(
            pd,
            Direction::Write,
            || rawpoll::write(fd, bytes),
            |&n| n < asked,
        )
        .await?;
        bytes = &bytes[n..];
    }
    Ok(())
}

/// Echoes what `conn` (registered with `pd`) reads, through `buf`, until the peer closes it;
/// `echoed(n)` after each `n` bytes written back. A `buf` longer than a message lets each read
/// see that it drained the socket. The server tasks of [`run`] are this loop.
pub async fn echo(
    pd: &PollDesc,
    conn: &impl AsFd,
    buf: &mut [u8],
    mut echoed: impl FnMut(usize),
) -> Result<(), Errno> {
    loop {
        let n = read(pd, conn, buf).await?;
        if n == 0 {
            return Ok(());
        }
        write_all(pd, conn, &buf[..n]).await?;
        echoed(n);
    }
}

fn register(poller: &Netpoll, fd: &OwnedFd, i: usize) -> Result<(), Errno> {
    DESCS[i].bump_sequence(); // a slot used before must not see its predecessor's readiness
    poller.open(fd, &DESCS[i])
}

/// `struct sockaddr_in` (include/uapi/linux/in.h): port and address in network byte order.
#[repr(C)]
struct SockaddrIn {
    family: u16,
    port: u16,
    addr: u32,
    zero: [u8; 8],
}
const SOCKADDR_LEN: usize = core::mem::size_of::<SockaddrIn>();

fn loopback(port: u16) -> SockaddrIn {
    let (family, addr) = (net::AF_INET as u16, net::INADDR_LOOPBACK.to_be());
    SockaddrIn {
        family,
        port: port.to_be(),
        addr,
        zero: [0; 8],
    }
}

/// A non-blocking, close-on-exec TCP socket (`socket(AF_INET, SOCK_STREAM, 0)`).
pub fn socket() -> Result<OwnedFd, Errno> {
    let kind = net::SOCK_STREAM | k::O_NONBLOCK | k::O_CLOEXEC;
    // SAFETY: socket takes integers only.
    let r = unsafe {
        syscall6(
            raw::SYS_SOCKET,
            net::AF_INET as usize,
            kind as usize,
            0,
            0,
            0,
            0,
        )
    };
    // SAFETY: a new descriptor, owned by nothing else.
    Errno::result(r).map(|fd| unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// A socket call that takes `fd` and two more arguments (`accept4` gets non-blocking and
/// close-on-exec as its flags).
fn sockcall(number: usize, fd: &impl AsFd, a: usize, b: usize) -> Result<usize, Errno> {
    let flags = if number == raw::SYS_ACCEPT4 {
        (k::O_NONBLOCK | k::O_CLOEXEC) as usize
    } else {
        0
    };
    let fd = fd.as_fd().as_raw_fd() as usize;
    // SAFETY: the callers pass a `SockaddrIn` they own and its length (bind, connect), a
    // writable one and a writable length (getsockname), or integers and nulls.
    Errno::result(unsafe { syscall6(number, fd, a, b, flags, 0, 0) })
}
