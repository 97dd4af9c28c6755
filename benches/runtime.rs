//! A Go-shaped runtime on rawpoll's netpoller and on Go's own wake scheme
//! (`peers/netpoll_go.rs`, written with the libc crate), driven by `ci/bench`.
//!
//! The runtime, the same for both pollers (only the poller differs):
//!
//! - One poller thread owns a timer heap. It takes the timers and control tasks other threads
//!   hand it through an inbox, fires the timers that are due, publishes the deadline it will
//!   sleep until (`poll_until`, Go's `sched.pollUntil`), then blocks in `poll(delay)` (capped at
//!   10 ms, as sysmon's period) and queues a task for each readable connection.
//! - [`WORKERS`] workers run the tasks: each drains its connection (edge-triggered), echoes every
//!   64-byte message, and arms one timer per message, 0.1 to 20 ms ahead. A worker with nothing
//!   to do calls `poll(0)` only while no thread sleeps in the poller (`has_sleeper()` false, Go's
//!   `sched.lastpoll != 0`), and otherwise parks on a condition variable.
//! - [`CLIENTS`] client threads, outside the runtime, own the other ends of the connections
//!   (blocking sockets): each round they send one message on each of their connections, then
//!   read every echo back. Every [`CONTROL_EVERY`]th message they also hand the poller thread a
//!   control task.
//! - Wakes follow Go's `wakeNetPoller` rule, at the same call sites for both pollers: a thread
//!   that hands the poller thread a control task, or a timer earlier than `poll_until`, wakes it
//!   if it is (about to be) asleep (`poll_until != 0`).
//!
//! Socket I/O uses `send` and `recv` (the `sendto` and `recvfrom` system calls), so that every
//! `read` and `write` the process makes while it runs is a wake eventfd's.
//!
//! Modes (first argument):
//!
//! - `count PEER CONNS ROUNDS`: one run between two `getppid` markers, for `ci/bench` to count
//!   the system calls in between in an `strace -f` log; prints the run's counters.
//! - `wall [--smoke]`: messages per second and CPU time per message (`getrusage`, every
//!   thread), rawpoll and Go's scheme in alternate runs (the order rotated each round); prints
//!   `RESULT`/`RATIO` lines as `benches/peers.rs` does, and each run's counters.
//! - no argument or `--bench` (`cargo bench`): `wall --smoke`.

#[allow(dead_code)] // only `stats`
#[path = "peers/harness.rs"]
mod harness;
#[path = "peers/netpoll_go.rs"]
mod netpoll_go;

use netpoll_go::GoNetpoll;
use rawpoll::netpoll::{delay_to_timeout_ms, Netpoll, PollDesc};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Worker threads.
const WORKERS: usize = 4;
/// Client threads.
const CLIENTS: usize = 2;
/// Message size.
const MSG: usize = 64;
/// A client hands the poller thread a control task every this many messages.
const CONTROL_EVERY: usize = 8;
/// Longest sleep of the poller thread.
const MAX_DELAY: Duration = Duration::from_millis(10);
/// How long a worker parks before it looks again.
const PARK: Duration = Duration::from_millis(1);

/// The two pollers, as the runtime uses them.
trait Poller: Sync {
    /// Registers the server end `fd` of connection `index` for reading, edge-triggered.
    fn open(&self, fd: RawFd, index: usize);
    fn wake(&self);
    fn has_sleeper(&self) -> bool;
    /// Polls; `ready(index)` for each readable connection; returns how many descriptors the
    /// poll reported (readable or not).
    fn poll(&self, delay_ns: i64, ready: &mut dyn FnMut(usize)) -> usize;
}

/// rawpoll's netpoller, one static [`PollDesc`] per connection (user data: its index).
struct Rawpoll {
    np: Netpoll,
    pds: &'static [PollDesc],
}

impl Rawpoll {
    fn new(conns: usize) -> Rawpoll {
        let np = Netpoll::new();
        np.init().expect("init");
        // Leaked: a poll descriptor must be 'static (a few KiB per run).
        let pds: &'static [PollDesc] = Box::leak((0..conns).map(|_| PollDesc::new()).collect());
        for (i, pd) in pds.iter().enumerate() {
            pd.set_user_data(i);
        }
        Rawpoll { np, pds }
    }
}

impl Poller for Rawpoll {
    fn open(&self, fd: RawFd, index: usize) {
        // SAFETY: the connection's descriptor stays open until the run ends and nothing polls
        // any more (closing it then takes it out of the epoll set).
        let fd = unsafe { rawpoll::BorrowedFd::borrow_raw(fd) };
        let interest = rawpoll::netpoll::Interest::READABLE;
        self.np
            .open_with(fd, &self.pds[index], interest)
            .expect("open");
    }
    fn wake(&self) {
        self.np.wake().expect("wake");
    }
    fn has_sleeper(&self) -> bool {
        self.np.has_sleeper()
    }
    fn poll(&self, delay_ns: i64, ready: &mut dyn FnMut(usize)) -> usize {
        self.np
            .poll(delay_ns, |pd, r, _| {
                if r.readable {
                    ready(pd.user_data());
                }
            })
            .expect("poll")
    }
}

impl Poller for GoNetpoll {
    fn open(&self, fd: RawFd, index: usize) {
        self.open_readable(fd, index);
    }
    fn wake(&self) {
        GoNetpoll::wake(self);
    }
    fn has_sleeper(&self) -> bool {
        GoNetpoll::has_sleeper(self)
    }
    fn poll(&self, delay_ns: i64, ready: &mut dyn FnMut(usize)) -> usize {
        GoNetpoll::poll(self, delay_ns, |index, events| {
            if events & (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) as u32
                != 0
            {
                ready(index);
            }
        })
    }
}

/// What a run counted (in-process; system calls are counted outside, by strace).
#[derive(Default, Debug, Clone, Copy)]
struct Counters {
    messages: usize,
    seconds: f64,
    /// CPU time of the whole process (user + system, every thread) during the run.
    cpu_seconds: f64,
    /// `wake()` calls made by the runtime's call sites.
    wakes_called: usize,
    /// Blocking polls of the poller thread (delay != 0).
    blocking_polls: usize,
    /// Delivered wakes: blocking polls during whose sleep (from publishing `poll_until` to
    /// returning) at least one `wake()` was called. Each ends its poll, or, called before
    /// the poller sleeps, makes it return at once.
    delivered: usize,
    /// Blocking polls that reported nothing and returned before their timeout (ended by a
    /// wake alone; most delivered wakes come with ready descriptors too).
    woken: usize,
    /// Blocking polls that reported descriptors.
    io_returns: usize,
    /// Blocking polls that reached their timeout.
    timeouts: usize,
    /// Non-blocking polls of the workers.
    worker_polls: usize,
    timers_fired: usize,
    control_tasks: usize,
}

/// Handed to the poller thread.
enum Request {
    /// A timer due at this many ns after the run's start.
    Timer(u64),
    Control,
}

/// A server end and what is left of a partial message.
struct Conn {
    fd: OwnedFd,
    partial: Mutex<Vec<u8>>,
}

struct Runtime<'a, P: Poller> {
    poller: &'a P,
    start: Instant,
    conns: Vec<Conn>,
    /// Connections to drain.
    queue: Mutex<VecDeque<usize>>,
    work: Condvar,
    idle: AtomicUsize,
    inbox: Mutex<Vec<Request>>,
    inbox_pending: AtomicBool,
    /// Go's `sched.pollUntil`: ns after start + 1 while the poller thread is (about to be)
    /// asleep, 0 otherwise.
    poll_until: AtomicU64,
    /// Set by a thread that wakes the poller thread, cleared by the poller thread after each
    /// blocking poll: counts delivered wakes.
    wake_requested: AtomicBool,
    done: AtomicBool,
    wakes_called: AtomicUsize,
    worker_polls: AtomicUsize,
}

impl<P: Poller> Runtime<'_, P> {
    fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// Hands `request` to the poller thread and wakes it as Go's `wakeNetPoller` does.
    fn hand_over(&self, request: Request) {
        let when = match request {
            Request::Timer(when) => when,
            Request::Control => 0,
        };
        self.inbox.lock().expect("inbox").push(request);
        // Dekker with the poller thread: it publishes poll_until, then reads inbox_pending.
        self.inbox_pending.store(true, Ordering::SeqCst);
        let until = self.poll_until.load(Ordering::SeqCst);
        if until != 0 && when < until {
            self.wakes_called.fetch_add(1, Ordering::Relaxed);
            self.wake_requested.store(true, Ordering::SeqCst);
            self.poller.wake();
        }
    }

    /// Queues `ready` connections for the workers.
    fn push_tasks(&self, ready: &[usize]) {
        if ready.is_empty() {
            return;
        }
        self.queue.lock().expect("queue").extend(ready);
        for _ in 0..ready.len().min(self.idle.load(Ordering::SeqCst)) {
            self.work.notify_one();
        }
    }

    fn poller_thread(&self) -> Counters {
        let mut c = Counters::default();
        let mut timers = BinaryHeap::new();
        let mut ready = Vec::with_capacity(128);
        while !self.done.load(Ordering::SeqCst) {
            self.inbox_pending.store(false, Ordering::SeqCst);
            for request in self.inbox.lock().expect("inbox").drain(..) {
                match request {
                    Request::Timer(when) => timers.push(Reverse(when)),
                    Request::Control => c.control_tasks += 1,
                }
            }
            let now = self.now_ns();
            while timers.peek().is_some_and(|Reverse(when)| *when <= now) {
                timers.pop();
                c.timers_fired += 1;
            }
            let cap = MAX_DELAY.as_nanos() as u64;
            let delay = timers
                .peek()
                .map_or(cap, |Reverse(when)| (when - now).min(cap));
            self.poll_until.store(now + delay + 1, Ordering::SeqCst);
            if self.inbox_pending.load(Ordering::SeqCst) {
                self.poll_until.store(0, Ordering::SeqCst);
                continue;
            }
            let started = Instant::now();
            ready.clear();
            let n = self.poller.poll(delay as i64, &mut |i| ready.push(i));
            let elapsed = started.elapsed();
            self.poll_until.store(0, Ordering::SeqCst);
            if self.wake_requested.swap(false, Ordering::SeqCst) {
                c.delivered += 1;
            }
            self.push_tasks(&ready);
            c.blocking_polls += 1;
            let timeout = Duration::from_millis(delay_to_timeout_ms(delay as i64) as u64);
            if n > 0 {
                c.io_returns += 1;
            } else if elapsed < timeout {
                c.woken += 1;
            } else {
                c.timeouts += 1;
            }
        }
        c
    }

    fn worker(&self, seed: u64) {
        let mut rng = seed;
        let mut ready = Vec::with_capacity(128);
        let mut buf = [0u8; 4096];
        loop {
            let task = self.queue.lock().expect("queue").pop_front();
            if let Some(index) = task {
                self.serve(index, &mut buf, &mut rng);
                continue;
            }
            if self.done.load(Ordering::SeqCst) {
                return;
            }
            if !self.poller.has_sleeper() {
                self.worker_polls.fetch_add(1, Ordering::Relaxed);
                ready.clear();
                self.poller.poll(0, &mut |i| ready.push(i));
                if !ready.is_empty() {
                    self.push_tasks(&ready);
                    continue;
                }
            }
            let queue = self.queue.lock().expect("queue");
            if queue.is_empty() {
                self.idle.fetch_add(1, Ordering::SeqCst);
                let _ = self.work.wait_timeout(queue, PARK).expect("park");
                self.idle.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    /// Drains connection `index` (edge-triggered: until EAGAIN), echoes each whole message and
    /// arms a timer for it.
    fn serve(&self, index: usize, buf: &mut [u8; 4096], rng: &mut u64) {
        let conn = &self.conns[index];
        let fd = conn.fd.as_raw_fd();
        let mut partial = conn.partial.lock().expect("conn");
        loop {
            // SAFETY: the kernel writes at most buf.len() bytes into `buf`.
            let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n <= 0 {
                let e = std::io::Error::last_os_error().raw_os_error();
                assert!(n < 0 && e == Some(libc::EAGAIN), "recv: {n} {e:?}");
                return;
            }
            partial.extend_from_slice(&buf[..n as usize]);
            let whole = partial.len() / MSG * MSG;
            for message in partial[..whole].chunks(MSG) {
                send_all(fd, message);
                *rng = rng
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let ahead = 100_000 + (*rng >> 33) % 19_900_000;
                self.hand_over(Request::Timer(self.now_ns() + ahead));
            }
            partial.drain(..whole);
        }
    }

    /// One client thread: `rounds` rounds over its connections (client ends, blocking).
    fn client(&self, ends: &[(usize, RawFd)], rounds: usize) -> usize {
        let mut sent = 0;
        for round in 0..rounds {
            for &(index, fd) in ends {
                let mut message = [0u8; MSG];
                message[..8].copy_from_slice(&(index as u64).to_ne_bytes());
                message[8..16].copy_from_slice(&(round as u64).to_ne_bytes());
                send_all(fd, &message);
                sent += 1;
                if sent % CONTROL_EVERY == 0 {
                    self.hand_over(Request::Control);
                }
            }
            for &(index, fd) in ends {
                let mut echo = [0u8; MSG];
                recv_exact(fd, &mut echo);
                assert_eq!(
                    echo[..8],
                    (index as u64).to_ne_bytes(),
                    "echo of another conn"
                );
                assert_eq!(
                    echo[8..16],
                    (round as u64).to_ne_bytes(),
                    "echo of another round"
                );
            }
        }
        sent
    }
}

fn send_all(fd: RawFd, mut data: &[u8]) {
    while !data.is_empty() {
        // SAFETY: the kernel reads at most data.len() bytes from `data`.
        let n = unsafe { libc::send(fd, data.as_ptr().cast(), data.len(), libc::MSG_NOSIGNAL) };
        if n < 0 {
            let e = std::io::Error::last_os_error().raw_os_error();
            assert!(
                e == Some(libc::EAGAIN) || e == Some(libc::EINTR),
                "send: {e:?}"
            );
            std::thread::yield_now();
            continue;
        }
        data = &data[n as usize..];
    }
}

fn recv_exact(fd: RawFd, mut data: &mut [u8]) {
    while !data.is_empty() {
        // SAFETY: the kernel writes at most data.len() bytes into `data`.
        let n = unsafe { libc::recv(fd, data.as_mut_ptr().cast(), data.len(), 0) };
        if n < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        assert!(n > 0, "recv: connection closed or failed");
        data = &mut data[n as usize..];
    }
}

/// A connected pair: (server end, non-blocking; client end, blocking).
fn socketpair() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: the kernel writes two descriptors into `fds`; each is owned once checked.
    unsafe {
        let r = libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        );
        assert_eq!(r, 0, "socketpair");
        let flags = libc::fcntl(fds[0], libc::F_GETFL);
        assert_eq!(
            libc::fcntl(fds[0], libc::F_SETFL, flags | libc::O_NONBLOCK),
            0
        );
        (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
    }
}

/// CPU time the process has used so far, user and system, all threads (`getrusage`).
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// The strace marker: a system call nothing else in the process makes.
fn marker() {
    // SAFETY: getppid has no preconditions.
    unsafe { libc::getppid() };
}

/// One run: `conns` connections, `rounds` messages each, through `poller`; `markers` brackets
/// the run with [`marker`] calls.
fn run<P: Poller>(poller: &P, conns: usize, rounds: usize, markers: bool) -> Counters {
    let (servers, clients): (Vec<OwnedFd>, Vec<OwnedFd>) = (0..conns).map(|_| socketpair()).unzip();
    for (i, fd) in servers.iter().enumerate() {
        poller.open(fd.as_raw_fd(), i);
    }
    let rt = Runtime {
        poller,
        start: Instant::now(),
        conns: servers
            .into_iter()
            .map(|fd| Conn {
                fd,
                partial: Mutex::new(Vec::with_capacity(2 * MSG)),
            })
            .collect(),
        queue: Mutex::new(VecDeque::with_capacity(conns)),
        work: Condvar::new(),
        idle: AtomicUsize::new(0),
        inbox: Mutex::new(Vec::with_capacity(1024)),
        inbox_pending: AtomicBool::new(false),
        poll_until: AtomicU64::new(0),
        wake_requested: AtomicBool::new(false),
        done: AtomicBool::new(false),
        wakes_called: AtomicUsize::new(0),
        worker_polls: AtomicUsize::new(0),
    };
    let ends: Vec<Vec<(usize, RawFd)>> = (0..CLIENTS)
        .map(|c| {
            (c..conns)
                .step_by(CLIENTS)
                .map(|i| (i, clients[i].as_raw_fd()))
                .collect()
        })
        .collect();
    if markers {
        marker();
    }
    let started = Instant::now();
    let cpu_started = cpu_seconds();
    let (mut c, messages) = std::thread::scope(|s| {
        let rt = &rt;
        let poller_thread = s.spawn(move || rt.poller_thread());
        for w in 0..WORKERS {
            s.spawn(move || rt.worker(w as u64 + 1));
        }
        let clients: Vec<_> = ends
            .iter()
            .map(|mine| s.spawn(move || rt.client(mine, rounds)))
            .collect();
        let messages: usize = clients.into_iter().map(|h| h.join().expect("client")).sum();
        if markers {
            marker();
        }
        rt.done.store(true, Ordering::SeqCst);
        rt.poller.wake();
        rt.work.notify_all();
        (poller_thread.join().expect("poller thread"), messages)
    });
    c.seconds = started.elapsed().as_secs_f64();
    c.cpu_seconds = cpu_seconds() - cpu_started;
    c.messages = messages;
    c.wakes_called = rt.wakes_called.load(Ordering::Relaxed);
    c.worker_polls = rt.worker_polls.load(Ordering::Relaxed);
    assert_eq!(messages, conns * rounds);
    c
}

/// Peers, in table order (glibc: Go's scheme written with the libc crate).
const PEERS: [&str; 2] = ["rawpoll", "glibc"];

fn run_peer(peer: &str, conns: usize, rounds: usize, markers: bool) -> Counters {
    match peer {
        "rawpoll" => run(&Rawpoll::new(conns), conns, rounds, markers),
        "glibc" => run(&GoNetpoll::new(), conns, rounds, markers),
        _ => panic!("unknown peer {peer}"),
    }
}

fn print_counters(peer: &str, conns: usize, c: &Counters) {
    println!(
        "RTRUN\t{peer}\tconns={conns}\tmessages={}\tseconds={:.3}\tcpu_seconds={:.3}\twakes_called={}\t\
         blocking_polls={}\tdelivered={}\twoken={}\tio_returns={}\ttimeouts={}\tworker_polls={}\t\
         timers_fired={}\tcontrol_tasks={}",
        c.messages,
        c.seconds,
        c.cpu_seconds,
        c.wakes_called,
        c.blocking_polls,
        c.delivered,
        c.woken,
        c.io_returns,
        c.timeouts,
        c.worker_polls,
        c.timers_fired,
        c.control_tasks
    );
}

fn count(peer: &str, conns: &str, rounds: &str) -> i32 {
    let (Ok(conns), Ok(rounds)) = (conns.parse::<usize>(), rounds.parse::<usize>()) else {
        eprintln!("runtime: bad CONNS {conns} or ROUNDS {rounds}");
        return 2;
    };
    if !PEERS.contains(&peer) || conns < CLIENTS {
        eprintln!("runtime: unknown peer {peer} (one of {PEERS:?}) or CONNS < {CLIENTS}");
        return 2;
    }
    let c = run_peer(peer, conns, rounds, true);
    print_counters(peer, conns, &c);
    0
}

fn wall(smoke: bool) -> i32 {
    // Many short runs: on a shared machine the load drifts, and alternating short runs keeps
    // each pair of runs side by side.
    let (conns, rounds, repeats) = if smoke { (32, 8, 3) } else { (512, 40, 31) };
    println!("RTCONFIG\tconns={conns}\trounds={rounds}\truns={repeats}");
    // Per peer: messages per second, and CPU µs per message.
    let mut rates = vec![Vec::new(); PEERS.len()];
    let mut cpu = vec![Vec::new(); PEERS.len()];
    for r in 0..repeats {
        for i in 0..PEERS.len() {
            let p = (i + r) % PEERS.len();
            let c = run_peer(PEERS[p], conns, rounds, false);
            print_counters(PEERS[p], conns, &c);
            rates[p].push(c.messages as f64 / c.seconds);
            cpu[p].push(c.cpu_seconds * 1e6 / c.messages as f64);
        }
    }
    for (metric, unit, samples) in [
        ("m5f_runtime_msgs_per_s", "messages/s", &rates),
        ("m5g_runtime_cpu_us_per_msg", "CPU µs/message", &cpu),
    ] {
        for (peer, v) in PEERS.iter().zip(samples) {
            let (median, min, max) = harness::stats(v);
            println!(
                "RESULT\t{metric}\t{peer}\t{median:.3}\t{min:.3}\t{max:.3}\t{unit}\t{repeats}"
            );
        }
        let ratios: Vec<f64> = samples[0]
            .iter()
            .zip(&samples[1])
            .map(|(a, b)| a / b)
            .collect();
        let (median, min, max) = harness::stats(&ratios);
        println!("RATIO\t{metric}\trawpoll\tglibc\t{median:.3}\t{min:.3}\t{max:.3}");
    }
    0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let code = match args.as_slice() {
        ["count", peer, conns, rounds] => count(peer, conns, rounds),
        ["wall"] => wall(false),
        ["wall", "--smoke"] | [] | ["--bench"] => wall(true),
        _ => {
            eprintln!("usage: runtime count PEER CONNS ROUNDS | wall [--smoke]");
            2
        }
    };
    std::process::exit(code);
}
