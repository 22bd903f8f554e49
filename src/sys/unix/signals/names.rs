//! The common POSIX signals by name, for [`Signals::new`] and for matching
//! what [`Signals::pending`] returns, without a dependency on `libc`.
//!
//! Each constant is the signal's number on the target (they differ between
//! systems: `SIGUSR1` is 10 on Linux and 30 on macOS), so raw numbers and
//! these names mix freely. [`name`] goes the other way, for messages.
//!
//! Not listed: the signals `Signals` refuses (`SIGKILL`, `SIGSTOP` and the
//! fault signals, see [Limits](Signals#limits)), and those whose existence
//! varies between systems; pass their number (from `libc`) to use them.
//!
//! # Examples
//!
//! ```
//! use evmux::unix::signal::{self, SIGHUP, SIGINT, SIGTERM};
//! use evmux::unix::Signals;
//!
//! # fn main() -> std::io::Result<()> {
//! // Stop on SIGINT (Ctrl-C) or SIGTERM, reload on SIGHUP.
//! let signals = Signals::new(&[SIGINT, SIGTERM, SIGHUP])?;
//! for received in signals.pending()? {
//!     match received {
//!         SIGINT | SIGTERM => println!("{}: stopping", signal::name(received).unwrap()),
//!         SIGHUP => println!("reloading"),
//!         _ => {}
//!     }
//! }
//! assert_eq!(signal::name(SIGTERM), Some("SIGTERM"));
//! # Ok(())
//! # }
//! ```
//!
//! [`Signals::new`]: Signals::new
//! [`Signals::pending`]: Signals::pending

use rustix::process::Signal;

#[cfg(doc)]
use crate::unix::Signals;

/// Hangup: the controlling terminal closed; by convention, reload the
/// configuration.
pub const SIGHUP: i32 = Signal::HUP.as_raw();
/// Interrupt from the keyboard (Ctrl-C).
pub const SIGINT: i32 = Signal::INT.as_raw();
/// Quit from the keyboard (Ctrl-\\).
pub const SIGQUIT: i32 = Signal::QUIT.as_raw();
/// A write to a pipe or socket with no reader. evmux's own writes never
/// raise it.
pub const SIGPIPE: i32 = Signal::PIPE.as_raw();
/// The timer of `alarm(2)` expired.
pub const SIGALRM: i32 = Signal::ALARM.as_raw();
/// Termination request: what `kill` sends by default.
pub const SIGTERM: i32 = Signal::TERM.as_raw();
/// User-defined signal 1.
pub const SIGUSR1: i32 = Signal::USR1.as_raw();
/// User-defined signal 2.
pub const SIGUSR2: i32 = Signal::USR2.as_raw();
/// A child process stopped or exited (see also
/// [`ChildExit`](crate::process::ChildExit)).
pub const SIGCHLD: i32 = Signal::CHILD.as_raw();
/// Continue after a stop.
pub const SIGCONT: i32 = Signal::CONT.as_raw();
/// Stop from the keyboard (Ctrl-Z).
pub const SIGTSTP: i32 = Signal::TSTP.as_raw();
/// A background process read from its terminal.
pub const SIGTTIN: i32 = Signal::TTIN.as_raw();
/// A background process wrote to its terminal.
pub const SIGTTOU: i32 = Signal::TTOU.as_raw();
/// The terminal's window size changed.
pub const SIGWINCH: i32 = Signal::WINCH.as_raw();

/// Every signal named here, with its name.
const NAMES: [(i32, &str); 14] = [
    (SIGHUP, "SIGHUP"),
    (SIGINT, "SIGINT"),
    (SIGQUIT, "SIGQUIT"),
    (SIGPIPE, "SIGPIPE"),
    (SIGALRM, "SIGALRM"),
    (SIGTERM, "SIGTERM"),
    (SIGUSR1, "SIGUSR1"),
    (SIGUSR2, "SIGUSR2"),
    (SIGCHLD, "SIGCHLD"),
    (SIGCONT, "SIGCONT"),
    (SIGTSTP, "SIGTSTP"),
    (SIGTTIN, "SIGTTIN"),
    (SIGTTOU, "SIGTTOU"),
    (SIGWINCH, "SIGWINCH"),
];

/// The name of `signal` (`"SIGTERM"`) if it is one of this module's
/// constants, else `None`.
///
/// # Examples
///
/// ```
/// use evmux::unix::signal::{self, SIGUSR1};
///
/// assert_eq!(signal::name(SIGUSR1), Some("SIGUSR1"));
/// assert_eq!(signal::name(0), None);
/// ```
pub fn name(signal: i32) -> Option<&'static str> {
    NAMES
        .iter()
        .find(|&&(number, _)| number == signal)
        .map(|&(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_libc() {
        let expected = [
            (libc::SIGHUP, "SIGHUP"),
            (libc::SIGINT, "SIGINT"),
            (libc::SIGTERM, "SIGTERM"),
            (libc::SIGUSR1, "SIGUSR1"),
            (libc::SIGUSR2, "SIGUSR2"),
            (libc::SIGCHLD, "SIGCHLD"),
            (libc::SIGWINCH, "SIGWINCH"),
        ];
        for (number, expected) in expected {
            assert_eq!(name(number), Some(expected));
        }
    }
}
