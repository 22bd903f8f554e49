//! A child's exit status read without reaping it:
//! `waitid(..., WEXITED | WNOHANG | WNOWAIT)`, by pidfd (`P_PIDFD`, Linux
//! 5.4) or by id (`P_PID`), turned into std's `ExitStatus`.
//!
//! Man pages: waitid(2), wait(2) (the status word's encoding).

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use rustix::io::Errno;
use rustix::process::{WaitId, WaitIdOptions, WaitIdStatus};

/// What `waitid` says of a watched child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Found {
    Running,
    /// Exited, not reaped: the status is still there.
    Exited(ExitStatus),
    /// No such child: reaped already (or never a child of this process).
    Gone,
}

/// Asks `waitid` about `id` without reaping it.
pub(super) fn look(id: WaitId<'_>) -> Result<Found, Errno> {
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
    loop {
        match rustix::process::waitid(id.clone(), options) {
            Ok(None) => return Ok(Found::Running),
            Ok(Some(status)) => {
                return Ok(to_exit_status(&status).map_or(Found::Running, Found::Exited))
            }
            Err(Errno::CHILD) => return Ok(Found::Gone),
            Err(Errno::INTR) => continue,
            Err(error) => return Err(error),
        }
    }
}

/// The status word wait(2) would have returned, as std's `ExitStatus`:
/// the exit code in bits 8 to 15, or the terminating signal in the low
/// seven bits with 0x80 for a core dump (the encoding of Linux, Android,
/// illumos and Solaris). `None` for a state that is not an exit.
fn to_exit_status(status: &WaitIdStatus) -> Option<ExitStatus> {
    let raw = if let Some(code) = status.exit_status() {
        (code & 0xff) << 8
    } else {
        let signal = status.terminating_signal()?;
        (signal & 0x7f) | if status.dumped() { 0x80 } else { 0 }
    };
    Some(ExitStatus::from_raw(raw))
}
