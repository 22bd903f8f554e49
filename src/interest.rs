use std::num::NonZeroU8;
use std::{fmt, ops};

use crate::flag_names::FlagNames;

/// The kinds of readiness a source is registered for.
///
/// An `Interest` is never empty: it is built from the constants below and
/// combined with `|` or [`Interest::add`]. [`Interest::remove`] returns
/// `None` rather than an empty set.
///
/// Which constants exist depends on the OS: `PRIORITY` on Linux
/// and Android, `AIO` on Apple systems, FreeBSD and DragonFly, `LIO` on
/// FreeBSD. The `is_*` queries exist everywhere.
///
/// # Examples
///
/// ```
/// use evmux::Interest;
///
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert!(both.is_readable() && both.is_writable());
/// assert_eq!(both.remove(Interest::WRITABLE), Some(Interest::READABLE));
/// assert_eq!(Interest::READABLE.remove(Interest::READABLE), None);
/// assert_eq!(format!("{both:?}"), "READABLE | WRITABLE");
/// ```
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interest(NonZeroU8);

const READABLE: u8 = 1 << 0;
const WRITABLE: u8 = 1 << 1;
const AIO: u8 = 1 << 2;
const LIO: u8 = 1 << 3;
const PRIORITY: u8 = 1 << 4;

/// Every kind with its name, in the order `Debug` prints them.
static NAMES: [(u64, &str); 5] = [
    (READABLE as u64, "READABLE"),
    (WRITABLE as u64, "WRITABLE"),
    (AIO as u64, "AIO"),
    (LIO as u64, "LIO"),
    (PRIORITY as u64, "PRIORITY"),
];

impl Interest {
    /// Readable readiness: data to read, a connection to accept, or the
    /// peer closed its write side.
    pub const READABLE: Interest = Interest::from_bits(READABLE);

    /// Writable readiness: room to write, or a connect that completed.
    pub const WRITABLE: Interest = Interest::from_bits(WRITABLE);

    /// POSIX AIO completion (`EVFILT_AIO`).
    #[cfg(any(apple, freebsdlike))]
    #[cfg_attr(
        docsrs,
        doc(cfg(any(
            target_os = "macos",
            target_os = "ios",
            target_os = "tvos",
            target_os = "watchos",
            target_os = "visionos",
            target_os = "freebsd",
            target_os = "dragonfly"
        )))
    )]
    pub const AIO: Interest = Interest::from_bits(AIO);

    /// `lio_listio` completion (`EVFILT_LIO`).
    #[cfg(target_os = "freebsd")]
    #[cfg_attr(docsrs, doc(cfg(target_os = "freebsd")))]
    pub const LIO: Interest = Interest::from_bits(LIO);

    /// Priority (out-of-band) data: `EPOLLPRI`.
    #[cfg(linux_like)]
    #[cfg_attr(docsrs, doc(cfg(any(target_os = "linux", target_os = "android"))))]
    pub const PRIORITY: Interest = Interest::from_bits(PRIORITY);

    /// Builds an interest from non-zero bits; zero fails at compile time
    /// because this is only called to define constants.
    const fn from_bits(bits: u8) -> Interest {
        match NonZeroU8::new(bits) {
            Some(bits) => Interest(bits),
            None => panic!("an Interest is never empty"),
        }
    }

    const fn has(self, bits: u8) -> bool {
        self.0.get() & bits != 0
    }

    /// Returns the union of `self` and `other`.
    ///
    /// Usable in constants, unlike `|`.
    ///
    /// ```
    /// use evmux::Interest;
    ///
    /// const BOTH: Interest = Interest::READABLE.add(Interest::WRITABLE);
    /// assert!(BOTH.is_readable() && BOTH.is_writable());
    /// ```
    #[must_use]
    pub const fn add(self, other: Interest) -> Interest {
        match NonZeroU8::new(self.0.get() | other.0.get()) {
            Some(bits) => Interest(bits),
            // Unreachable: `self` is already non-zero.
            None => self,
        }
    }

    /// Returns `self` without the kinds in `other`, or `None` if nothing is
    /// left (an `Interest` is never empty).
    ///
    /// ```
    /// use evmux::Interest;
    ///
    /// let both = Interest::READABLE | Interest::WRITABLE;
    /// assert_eq!(both.remove(Interest::READABLE), Some(Interest::WRITABLE));
    /// assert_eq!(Interest::WRITABLE.remove(both), None);
    /// ```
    #[must_use]
    pub fn remove(self, other: Interest) -> Option<Interest> {
        NonZeroU8::new(self.0.get() & !other.0.get()).map(Interest)
    }

    /// Returns true if the interest includes readable readiness.
    ///
    /// # Examples
    ///
    /// ```
    /// use evmux::Interest;
    ///
    /// assert!(Interest::READABLE.is_readable());
    /// assert!(!Interest::WRITABLE.is_readable());
    /// ```
    pub const fn is_readable(self) -> bool {
        self.has(READABLE)
    }

    /// Returns true if the interest includes writable readiness.
    ///
    /// # Examples
    ///
    /// ```
    /// use evmux::Interest;
    ///
    /// assert!((Interest::READABLE | Interest::WRITABLE).is_writable());
    /// assert!(!Interest::READABLE.is_writable());
    /// ```
    pub const fn is_writable(self) -> bool {
        self.has(WRITABLE)
    }

    /// Returns true if the interest includes AIO completion (never true
    /// where `Interest::AIO` does not exist).
    ///
    /// # Examples
    ///
    /// ```
    /// use evmux::Interest;
    ///
    /// assert!(!Interest::READABLE.is_aio());
    /// #[cfg(any(target_os = "macos", target_os = "freebsd"))]
    /// assert!(Interest::AIO.is_aio());
    /// ```
    pub const fn is_aio(self) -> bool {
        self.has(AIO)
    }

    /// Returns true if the interest includes LIO completion (never true
    /// where `Interest::LIO` does not exist).
    ///
    /// # Examples
    ///
    /// ```
    /// use evmux::Interest;
    ///
    /// assert!(!Interest::READABLE.is_lio());
    /// #[cfg(target_os = "freebsd")]
    /// assert!(Interest::LIO.is_lio());
    /// ```
    pub const fn is_lio(self) -> bool {
        self.has(LIO)
    }

    /// Returns true if the interest includes priority readiness (never true
    /// where `Interest::PRIORITY` does not exist).
    ///
    /// # Examples
    ///
    /// ```
    /// use evmux::Interest;
    ///
    /// assert!(!Interest::READABLE.is_priority());
    /// #[cfg(any(target_os = "linux", target_os = "android"))]
    /// assert!((Interest::READABLE | Interest::PRIORITY).is_priority());
    /// ```
    pub const fn is_priority(self) -> bool {
        self.has(PRIORITY)
    }
}

impl ops::BitOr for Interest {
    type Output = Interest;

    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl ops::BitOrAssign for Interest {
    fn bitor_assign(&mut self, other: Interest) {
        *self = self.add(other);
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        FlagNames::new(u64::from(self.0.get()), &NAMES).fmt(f)
    }
}
