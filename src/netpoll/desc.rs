//! Poll descriptors: the [`PollDesc`] a runtime registers with each file descriptor, and how it
//! travels through epoll's 64-bit data word together with a sequence [`Tag`] (Go's
//! `taggedPointerPack`).

use super::ready::{self, Direction};
#[cfg(doc)]
use super::Netpoll;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::task::Waker;

/// The sequence tag an event carried: the low [`TAG_BITS`] bits of the [`PollDesc`] sequence at
/// the time of the registration it came from.
///
/// [`Netpoll::poll`] reports an event only if its tag matches the descriptor's sequence at that
/// moment; a runtime that takes its own lock afterwards can check again with
/// [`Tag::matches`], to detect a reuse that landed in between.
///
/// # How many reuses make a stale event look current
///
/// A tag has [`TAG_BITS`] bits: 13 on 64-bit targets, 32 on 32-bit ones. An event the kernel
/// queued for one registration is taken for current if the descriptor's sequence moved on by a
/// non-zero multiple of 2^`TAG_BITS` (8,192 on 64-bit, 2^32 on 32-bit) between the kernel queueing
/// it and `poll` reading it; 1 to 2^`TAG_BITS` − 1 reuses in that window are always detected
/// (`tests/adversary/tag.rs` checks both edges exactly). Go's `taggedPointer` keeps more on
/// 64-bit (25 bits on linux/amd64 and arm64, from 48-bit addresses and the 512-byte alignment it
/// requires of what it tags; 17 on riscv64; 19 and 11 in releases before that alignment) and the
/// same 32 on 32-bit targets. What a runtime does about it: hand its free
/// descriptors out first in, first out from a pool, so that one descriptor comes back only after
/// every other free one (8,192 reuses of one then need 8,192 times the pool's size in closes
/// while the event waits unread), and treat a report as a hint, as it must any readiness that
/// can be spurious: the I/O it then tries returns `EAGAIN` if the descriptor is not ready.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Tag(u64);

impl Tag {
    /// The tag of `sequence`.
    pub const fn of(sequence: usize) -> Tag {
        Tag(sequence as u64 & TAG_MASK)
    }

    /// Whether `sequence` has this tag.
    pub const fn matches(self, sequence: usize) -> bool {
        Tag::of(sequence).0 == self.0
    }

    /// The tag bits.
    pub const fn bits(self) -> u64 {
        self.0
    }
}

/// A poll descriptor: what the netpoller hands back when a registered descriptor is ready.
///
/// It must be `'static` (Go's `pollCache` never frees descriptors either); a runtime keeps a
/// static pool of them and reuses them. When one is reused for another descriptor, the owner
/// calls [`PollDesc::bump_sequence`] first: events still queued for the old registration then
/// carry the old sequence and are dropped (Go's `fdseq`, bug #59545).
///
/// The epoll data word packs the descriptor's address with the low bits of its sequence (the
/// tag). On 32-bit targets: address in the upper 32 bits, a full 32-bit tag in the lower. On
/// 64-bit targets the address must lie below 2^57 (every Linux user address does, 5-level paging
/// included; [`Netpoll::open`] checks) and the descriptor is 64-byte aligned, which leaves a
/// 13-bit tag: a stale event is taken for current only if the descriptor was reused a multiple
/// of 8192 times between the kernel queueing it and `poll` reading it (see [`Tag`] for what a
/// runtime does about it).
#[doc(alias = "pollDesc")]
#[repr(align(64))]
#[derive(Debug)]
pub struct PollDesc {
    sequence: AtomicUsize,
    user_data: AtomicUsize,
    /// Per [`Direction`]: the readiness word (see the `ready` module).
    readiness: [AtomicUsize; 2],
    /// Per [`Direction`]: the registered waker, owned by whoever set `LOCKED` in the word.
    wakers: [UnsafeCell<Option<Waker>>; 2],
}

// SAFETY: every field but `wakers` is atomic. A waker cell is read or written only by the thread
// that set `LOCKED` in its direction's readiness word with an acquiring compare-exchange, until
// it clears it with a releasing one (`ready.rs`, `ReadyPath::swap_waker`), so no two threads
// touch a cell at once and each sees the last owner's writes; `Waker` is `Send` and `Sync`.
unsafe impl Sync for PollDesc {}

impl Default for PollDesc {
    fn default() -> Self {
        Self::new()
    }
}

impl PollDesc {
    /// A fresh descriptor: sequence 0, user data 0.
    pub const fn new() -> PollDesc {
        PollDesc {
            sequence: AtomicUsize::new(0),
            user_data: AtomicUsize::new(0),
            // Generation 0 (sequence 0), nothing latched, no waker.
            readiness: [AtomicUsize::new(0), AtomicUsize::new(0)],
            wakers: [UnsafeCell::new(None), UnsafeCell::new(None)],
        }
    }

    pub(crate) fn sequence_word(&self) -> &AtomicUsize {
        &self.sequence
    }

    pub(crate) fn readiness_word(&self, dir: Direction) -> &AtomicUsize {
        match dir {
            Direction::Read => &self.readiness[0],
            Direction::Write => &self.readiness[1],
        }
    }

    pub(crate) fn waker_cell(&self, dir: Direction) -> &UnsafeCell<Option<Waker>> {
        match dir {
            Direction::Read => &self.wakers[0],
            Direction::Write => &self.wakers[1],
        }
    }

    /// The current sequence.
    #[doc(alias = "fdseq")]
    pub fn sequence(&self) -> usize {
        self.sequence.load(Ordering::Acquire)
    }

    /// Moves to the next sequence (wrapping) and returns it: call this when the descriptor is
    /// reused for another file descriptor, before registering it again.
    ///
    /// Resets the readiness of both directions for the new registration (nothing latched, not
    /// closing, no deadline), so that it never sees its predecessor's, and wakes a waker still
    /// registered (the predecessor's task is never left parked). An event of the old
    /// registration delivered after this, even one whose tag was read before it, latches
    /// nothing and wakes nobody.
    pub fn bump_sequence(&self) -> usize {
        ready::bump_on(self)
    }

    /// Sets the sequence outright (for runtimes that keep their own counter), resetting the
    /// readiness as [`PollDesc::bump_sequence`] does.
    pub fn set_sequence(&self, sequence: usize) {
        ready::set_sequence_on(self, sequence)
    }

    /// The tag of the current sequence, as the events of a registration made now will carry it.
    pub fn tag(&self) -> Tag {
        Tag::of(self.sequence())
    }

    /// The user data word: whatever the owner uses to find its task.
    pub fn user_data(&self) -> usize {
        self.user_data.load(Ordering::Acquire)
    }

    /// Sets the user data word.
    pub fn set_user_data(&self, data: usize) {
        self.user_data.store(data, Ordering::Release);
    }
}

/// Bits of the sequence that travel with each event: 32 on 32-bit targets, 13 on 64-bit ones.
pub const TAG_BITS: u32 = layout::TAG_BITS;

#[cfg(target_pointer_width = "32")]
mod layout {
    pub const TAG_BITS: u32 = 32;
    pub const ADDRESS_SHIFT: u32 = 32;
    pub const ADDRESS_LIMIT_BITS: u32 = 32;
}
#[cfg(target_pointer_width = "64")]
mod layout {
    /// Addresses below 2^57; shifting left by 7 keeps them, and 64-byte alignment leaves
    /// their 6 low bits zero, so the low 7 + 6 bits are free for the tag.
    pub const ADDRESS_LIMIT_BITS: u32 = 57;
    pub const ADDRESS_SHIFT: u32 = 64 - ADDRESS_LIMIT_BITS;
    pub const TAG_BITS: u32 = ADDRESS_SHIFT + super::ALIGN_BITS;
}
use layout::{ADDRESS_LIMIT_BITS, ADDRESS_SHIFT};

/// log2 of `PollDesc`'s alignment.
#[cfg_attr(target_pointer_width = "32", allow(dead_code))]
const ALIGN_BITS: u32 = core::mem::align_of::<PollDesc>().trailing_zeros();

/// The tag bits of a sequence.
const TAG_MASK: u64 = if TAG_BITS >= 64 {
    u64::MAX
} else {
    (1u64 << TAG_BITS) - 1
};

/// The epoll data word for `pd` at `sequence`; `None` if the address does not fit.
pub(crate) fn pack(pd: &'static PollDesc, sequence: usize) -> Option<u64> {
    let address = pd as *const PollDesc as usize as u64;
    if ADDRESS_LIMIT_BITS < 64 && address >> ADDRESS_LIMIT_BITS != 0 {
        return None;
    }
    Some((address << ADDRESS_SHIFT) | (sequence as u64 & TAG_MASK))
}

/// The descriptor address and the tag a data word made by [`pack`] carries.
pub(crate) fn unpack(data: u64) -> (usize, Tag) {
    let address = (data >> ADDRESS_SHIFT) & !(core::mem::align_of::<PollDesc>() as u64 - 1);
    (address as usize, Tag(data & TAG_MASK))
}
