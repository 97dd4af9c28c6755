//! A single-threaded async executor without std and without an allocator, on rawpoll's
//! readiness layer: a `static` [`Executor`] with a fixed array of task slots, wakers made from a
//! `RawWakerVTable` over those slots, a ready set of one bit per slot (the ready queue: no
//! allocation, and a waker on any thread can set its bit), and [`Netpoll::poll_wake`] to sleep
//! when no task can run. A waker calls [`Netpoll::wake`] only when the executor sleeps (or is about
//! to).
//!
//! Copy this file. The freestanding echo (tests/freestanding/examples/echo.rs), the host example
//! (examples/single_thread.rs) and the test tests/echo.rs all run this very file.

use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize};
use core::task::{Context, RawWaker, RawWakerVTable, Waker};
use rawpoll::netpoll::Netpoll;
use rawpoll::Errno;

/// How many tasks one [`Executor::run`] can hold (edit to taste: one bit of the ready set each).
pub const MAX_TASKS: usize = 256;
const WORD_BITS: usize = usize::BITS as usize;
const WORDS: usize = MAX_TASKS.div_ceil(WORD_BITS);

/// A task slot: what a waker points to.
pub struct Slot {
    /// The executor the slot belongs to, set by [`Executor::run`] before any waker exists.
    owner: AtomicPtr<Executor>,
    index: usize,
}

/// The executor; keep it in a `static` (its wakers point into it).
pub struct Executor {
    slots: [Slot; MAX_TASKS],
    /// The ready queue: bit `i` set means task `i` is to be polled.
    ready: [AtomicUsize; WORDS],
    /// Set while the executor sleeps, or is about to, in `poll_wake`: the one time a waker must
    /// call `Netpoll::wake`.
    sleeping: AtomicBool,
    running: AtomicBool,
    poller: AtomicPtr<Netpoll>,
}

impl Default for Executor {
    fn default() -> Executor {
        Executor::new()
    }
}

impl Executor {
    /// An executor with every slot empty (`const`, for a `static`).
    pub const fn new() -> Executor {
        let mut slots = [const {
            Slot {
                owner: AtomicPtr::new(core::ptr::null_mut()),
                index: 0,
            }
        }; MAX_TASKS];
        let mut i = 0;
        while i < MAX_TASKS {
            slots[i].index = i;
            i += 1;
        }
        Executor {
            slots,
            ready: [const { AtomicUsize::new(0) }; WORDS],
            sleeping: AtomicBool::new(false),
            running: AtomicBool::new(false),
            poller: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// Runs the tasks (task `i` in slot `i`) until each has completed, sleeping in `poller`
    /// (`poll_wake(-1)`, which wakes the tasks whose descriptors became ready) whenever none can
    /// run. `EINVAL` for more than [`MAX_TASKS`] tasks, `EBUSY` if this executor is running
    /// already; a failed `poll_wake` is returned as is (the tasks not yet completed are left
    /// as they are). A task that panics unwinds out of `run`, and the executor can run again.
    pub fn run<F: Future<Output = ()>>(
        &'static self,
        poller: &'static Netpoll,
        mut tasks: Pin<&mut [F]>,
    ) -> Result<(), Errno> {
        if tasks.len() > MAX_TASKS {
            return Err(Errno::EINVAL);
        }
        if self.running.swap(true, Acquire) {
            return Err(Errno::EBUSY);
        }
        let _running = Running(&self.running);
        self.poller
            .store(poller as *const Netpoll as *mut Netpoll, Release);
        let this = self as *const Executor as *mut Executor;
        for i in 0..tasks.len() {
            self.slots[i].owner.store(this, Release);
            self.schedule(i);
        }
        let mut done = [false; MAX_TASKS];
        let mut left = tasks.len();
        loop {
            if left == 0 {
                return Ok(());
            }
            let mut ran = false;
            for (w, word) in self.ready.iter().enumerate() {
                let mut bits = word.swap(0, AcqRel);
                while bits != 0 {
                    let i = w * WORD_BITS + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    if i >= tasks.len() || done[i] {
                        continue; // a stale waker of an earlier run: nothing to poll
                    }
                    ran = true;
                    // SAFETY: the slice is pinned, so its elements are too: none is moved here.
                    let task = unsafe { tasks.as_mut().get_unchecked_mut().get_unchecked_mut(i) };
                    // SAFETY: as above.
                    let task = unsafe { Pin::new_unchecked(task) };
                    if task
                        .poll(&mut Context::from_waker(&self.waker(i)))
                        .is_ready()
                    {
                        done[i] = true;
                        left -= 1;
                    }
                }
            }
            if ran || left == 0 {
                continue;
            }
            // Nothing to run: sleep, unless a waker set a bit since the scan. The flag and the
            // bits form a Dekker pair with `schedule` (both sequentially consistent): either
            // this sees the bit, or that waker sees the flag and wakes the poller (a wake that
            // comes before the poll is kept pending by Netpoll, so the poll then returns at once).
            self.sleeping.store(true, SeqCst);
            let idle = self.ready.iter().all(|word| word.load(SeqCst) == 0);
            let slept = if idle {
                poller.poll_wake(-1).map(|_| ())
            } else {
                Ok(())
            };
            self.sleeping.store(false, Relaxed);
            slept?;
        }
    }

    /// Marks task `index` ready to be polled, waking the executor if it sleeps: what a waker
    /// does, and what a task that hands work to another one by index calls.
    pub fn schedule(&self, index: usize) {
        let Some(word) = self.ready.get(index / WORD_BITS) else {
            return;
        };
        let bit = 1 << (index % WORD_BITS);
        // Only the waker that finds the executor asleep wakes it (one wake per sleep).
        if word.fetch_or(bit, SeqCst) & bit == 0 && self.sleeping.swap(false, SeqCst) {
            // SAFETY: set by `run` from a `&'static Netpoll` before any task ran.
            if let Some(poller) = unsafe { self.poller.load(Acquire).as_ref() } {
                // A failed wake stays pending in Netpoll: the next blocking poll returns at once.
                let _ = poller.wake();
            }
        }
    }

    fn waker(&'static self, index: usize) -> Waker {
        let slot: *const Slot = &self.slots[index];
        // SAFETY: the data pointer is a `&'static Slot`, which is all VTABLE's functions use.
        unsafe { Waker::from_raw(RawWaker::new(slot.cast(), &VTABLE)) }
    }
}

/// Clears `running` however `run` ends, unwinding included.
struct Running<'a>(&'a AtomicBool);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.store(false, Release);
    }
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone_waker, wake, wake, drop_waker);

unsafe fn clone_waker(slot: *const ()) -> RawWaker {
    RawWaker::new(slot, &VTABLE)
}

unsafe fn wake(slot: *const ()) {
    // SAFETY: every waker's data is a `&'static Slot` (Executor::waker).
    let slot = unsafe { &*slot.cast::<Slot>() };
    // SAFETY: `owner` is null or the `&'static Executor` whose run made this waker.
    if let Some(owner) = unsafe { slot.owner.load(Acquire).as_ref() } {
        owner.schedule(slot.index);
    }
}

unsafe fn drop_waker(_: *const ()) {}
