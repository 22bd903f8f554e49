//! The process-wide signal handler behind `unix::Signals` and the SIGCHLD
//! fallback of `process::ChildExit`.
//!
//! A signal's disposition belongs to the whole process, so evmux installs
//! one handler per signal, the first time something listens for it, and
//! counts the listeners. The handler:
//!
//! 1. saves and restores `errno` (the interrupted code may be about to read
//!    it);
//! 2. hands the signal to every self-pipe that wants it (`slots`);
//! 3. calls the handler that was installed before evmux's, if any: a
//!    function is called with the arguments it expects (`SA_SIGINFO` or
//!    not); `SIG_DFL` and `SIG_IGN` are not chained, so that listening for
//!    `SIGINT` or `SIGTERM` replaces their default action (termination).
//!
//! It only loads atomics, calls getpid(2) and write(2) and calls the
//! previous handler: all async-signal-safe. No allocation, no lock. It is
//! installed with `SA_ONSTACK` (a thread with an alternate signal stack
//! runs it there; Go's runtime requires it of every handler in its
//! process) and with every signal but the faults blocked while it runs,
//! so it never nests on that small stack.
//!
//! When the last listener for a signal goes, the previous disposition is
//! restored, if evmux's handler is still the one installed. If another
//! handler was installed over evmux's since (and may chain to it), evmux's
//! stays where it is and keeps chaining to the disposition it replaced.
//! If someone later puts evmux's handler back from a copy saved while it
//! was installed, the next listener finds it there; evmux's handler then
//! stands for the disposition it chains to, and that is what is restored
//! (never evmux's handler itself, and the handler never chains to itself).
//!
//! signal-hook-registry (behind signal-hook) decides otherwise: once it
//! has installed its handler for a signal it never removes it, and the
//! handler keeps chaining to the disposition it found. That is simpler
//! and immune to a third party's handler being stacked over it; evmux
//! restores instead, so that dropping the last `Signals` for `SIGINT` or
//! `SIGTERM` gives those signals their default action back, and
//! `SIGCHLD` its `SIG_IGN` (see `process::ChildExit`).
//!
//! The bookkeeping is under a `ForkLock`, which a child created by fork(2)
//! takes over if another thread of the parent held it at the fork.
//!
//! Man pages: sigaction(2), sigaltstack(2), signal-safety(7).

use std::io;
use std::mem::MaybeUninit;
use std::os::raw::{c_int, c_void};
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Mutex;

use super::fork_lock::ForkLock;
use super::SignalSet;

/// The highest signal number evmux handles (signal sets are 128 bits).
pub(crate) const MAX_SIGNAL: c_int = 127;
const COUNT: usize = MAX_SIGNAL as usize + 1;

/// What the handler chains to for one signal: the previous handler and
/// whether it takes `siginfo_t` (`SA_SIGINFO`). Published as one pointer,
/// so that the handler never sees one field of an old value with the
/// other of a new one.
#[derive(PartialEq, Eq)]
struct Chain {
    handler: usize,
    siginfo: bool,
}

/// Per signal: null (nothing to chain to yet) or a `Chain` leaked by
/// `publish`. A replaced `Chain` is never freed, since a handler may still
/// be reading it; `publish` allocates only when the value changes.
static PREVIOUS: [AtomicPtr<Chain>; COUNT] = [const { AtomicPtr::new(ptr::null_mut()) }; COUNT];

/// The `Chain`s `publish` replaced, kept (never freed, see `PREVIOUS`) where
/// they stay reachable: memory that nothing points to any more is what a
/// leak checker reports. One per change of what a signal chains to.
static REPLACED: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// The bookkeeping, changed only outside signal handlers, under a lock.
struct Table {
    listeners: [usize; COUNT],
    /// evmux's handler is installed (or was, and could not be removed).
    installed: [bool; COUNT],
    /// The disposition evmux's handler replaced, to restore: what its
    /// handler chains to. Kept after the restore, for the case where
    /// someone installs evmux's handler again (see `retain`).
    replaced: [Option<Saved>; COUNT],
}

/// A disposition kept to be restored.
#[derive(Clone, Copy)]
struct Saved(libc::sigaction);

// SAFETY: a `sigaction` is plain data that the OS reported: a handler
// address, a mask and flags, and on some systems (Haiku) a user-data
// pointer. evmux never dereferences any of them; it only hands the struct
// back to sigaction(2), from whichever thread.
unsafe impl Send for Saved {}

/// A `ForkLock`: a child forked while another thread held it can still
/// create and drop listeners.
static TABLE: ForkLock<Table> = ForkLock::new(Table {
    listeners: [0; COUNT],
    installed: [false; COUNT],
    replaced: [None; COUNT],
});

/// Listening for a set of signals: evmux's handler is installed for each
/// until this is dropped.
#[derive(Debug)]
pub(crate) struct Listening {
    signals: SignalSet,
}

/// Installs evmux's handler for every signal in `signals` (or counts one
/// more listener where it already is). On an error, nothing changes.
pub(crate) fn listen(signals: SignalSet) -> io::Result<Listening> {
    let mut table = TABLE.lock();
    let mut done = SignalSet::EMPTY;
    for signal in signals.iter() {
        if let Err(error) = table.retain(signal) {
            for signal in done.iter() {
                table.release(signal);
            }
            return Err(error);
        }
        done.insert(signal);
    }
    Ok(Listening { signals })
}

impl Drop for Listening {
    fn drop(&mut self) {
        let mut table = TABLE.lock();
        for signal in self.signals.iter() {
            table.release(signal);
        }
    }
}

impl Table {
    fn retain(&mut self, signal: c_int) -> io::Result<()> {
        let index = signal as usize;
        if !self.installed[index] {
            let replaced = install(signal)?;
            if replaced.sa_sigaction != handler_address() {
                self.replaced[index] = Some(Saved(replaced));
            } else if self.replaced[index].is_none() {
                // evmux's handler, installed by someone else from a saved
                // copy, with nothing known that it stands for: restore the
                // default action.
                self.replaced[index] = Some(Saved(default_action()));
            }
            // Else evmux's handler was put back by someone who saved it
            // earlier: it stands for what it chains to, the disposition it
            // replaced then, which is what to restore (never evmux's own
            // handler, which would keep the signal caught for good).
            self.installed[index] = true;
        }
        self.listeners[index] += 1;
        Ok(())
    }

    fn release(&mut self, signal: c_int) {
        let index = signal as usize;
        self.listeners[index] -= 1;
        if self.listeners[index] > 0 || !self.installed[index] {
            return;
        }
        let Some(Saved(replaced)) = self.replaced[index] else {
            return;
        };
        match query(signal) {
            Ok(current) if current.sa_sigaction == handler_address() => {
                // SAFETY: `replaced` is a disposition the OS reported for
                // this signal, so it is valid to install again.
                let restored = unsafe { libc::sigaction(signal, &replaced, ptr::null_mut()) };
                if restored == 0 {
                    self.installed[index] = false;
                    if signal == libc::SIGCHLD && reaps_children(&replaced) {
                        reap_zombies();
                    }
                }
            }
            // Someone installed a handler over evmux's: it stays, chaining
            // on (see the module docs).
            _ => {}
        }
    }
}

/// Whether `action`, for `SIGCHLD`, has the kernel reap children as they
/// exit (`SIG_IGN`, or `SA_NOCLDWAIT`). evmux's handler never does: the
/// SIGCHLD fallback of `process::ChildExit` reads a child's status without
/// reaping it, which needs the zombie. While evmux's handler is installed,
/// children that exit become zombies; when it is removed and such a
/// disposition restored, `reap_zombies` does what the kernel would have.
fn reaps_children(action: &libc::sigaction) -> bool {
    action.sa_sigaction == libc::SIG_IGN || action.sa_flags & libc::SA_NOCLDWAIT != 0
}

/// Reaps every child that has exited (a zombie): after restoring a
/// `SIGCHLD` disposition under which the kernel reaps children itself, the
/// zombies left from while evmux's handler was installed. A program under
/// that disposition does not collect statuses, so reaping them loses
/// nothing, with one exception, a known defect: a child that exited
/// *before* the reaping disposition was set is still a zombie whose
/// status the program could collect (Linux reaps only children that exit
/// under it), and it is reaped too (`tests/child_exit_sig_ign.rs`,
/// ignored).
fn reap_zombies() {
    use rustix::process::{waitpid, WaitOptions};
    loop {
        match waitpid(None, WaitOptions::NOHANG) {
            Ok(Some(_)) => {}
            Err(rustix::io::Errno::INTR) => {}
            // None exited (Ok(None)), or no children at all (ECHILD).
            _ => return,
        }
    }
}

/// The disposition of `signal` now.
fn query(signal: c_int) -> io::Result<libc::sigaction> {
    let mut current = MaybeUninit::<libc::sigaction>::uninit();
    // SAFETY: a null new action only reads the disposition into `current`,
    // which the call fills on success.
    if unsafe { libc::sigaction(signal, ptr::null(), current.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: sigaction succeeded, so it wrote the whole struct.
    Ok(unsafe { current.assume_init() })
}

/// `SIG_DFL` with no flags and an empty mask.
fn default_action() -> libc::sigaction {
    // SAFETY: a zeroed sigaction is valid; sigemptyset fills the mask.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = libc::SIG_DFL;
        libc::sigemptyset(&mut action.sa_mask);
        action
    }
}

fn handler_address() -> usize {
    on_signal as extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) as usize
}

/// Installs evmux's handler for `signal`; returns the disposition it
/// replaced.
fn install(signal: c_int) -> io::Result<libc::sigaction> {
    let before = query(signal)?;
    let chained = if before.sa_sigaction == handler_address() {
        // A handler installed over evmux's chained to it and was removed:
        // evmux's is back, still chaining to what it replaced first.
        None
    } else {
        publish(signal, &before);
        Some(before)
    };
    // SAFETY: a zeroed sigaction is a valid value to fill in.
    let mut ours: libc::sigaction = unsafe { std::mem::zeroed() };
    ours.sa_sigaction = handler_address();
    // SA_ONSTACK: a thread with an alternate signal stack handles the
    // signal there (Go's runtime aborts a program whose non-Go code
    // installs a handler without it). The alternate stack is small (std
    // installs one per thread, for stack overflows), so evmux's handler
    // never nests: `handler_mask` blocks the other signals while it runs.
    ours.sa_flags = libc::SA_SIGINFO
        | libc::SA_RESTART
        | libc::SA_ONSTACK
        // Not SA_NOCLDWAIT: see `reaps_children`.
        | (before.sa_flags & libc::SA_NOCLDSTOP);
    ours.sa_mask = handler_mask();
    let mut replaced = MaybeUninit::<libc::sigaction>::uninit();
    // SAFETY: `ours` is fully initialised; `replaced` is filled on success.
    if unsafe { libc::sigaction(signal, &ours, replaced.as_mut_ptr()) } != 0 {
        return Err(signal_error(signal));
    }
    // SAFETY: sigaction succeeded, so it wrote the whole struct.
    let replaced = unsafe { replaced.assume_init() };
    if chained.is_some() && replaced.sa_sigaction != before.sa_sigaction {
        // Changed between the two calls: chain to what was really there.
        publish(signal, &replaced);
    }
    Ok(replaced)
}

/// The signals blocked while evmux's handler runs: all but the faults (a
/// fault inside the handler, or inside the handler it chains to, must not
/// find its signal blocked, which would kill the process without a word).
/// Signals that arrive meanwhile wait until the handler returns, so
/// handlers never nest on the small alternate stack. The previous
/// handler, which runs inside evmux's, expects its own mask: a superset of
/// it is blocked.
fn handler_mask() -> libc::sigset_t {
    // SAFETY: sigfillset initialises the set it is given; sigdelset then
    // takes valid signal numbers out of it.
    unsafe {
        let mut mask = MaybeUninit::<libc::sigset_t>::uninit();
        libc::sigfillset(mask.as_mut_ptr());
        let mut mask = mask.assume_init();
        for fault in [
            libc::SIGSEGV,
            libc::SIGBUS,
            libc::SIGILL,
            libc::SIGFPE,
            libc::SIGTRAP,
        ] {
            libc::sigdelset(&mut mask, fault);
        }
        mask
    }
}

/// The error for a signal the OS refuses a handler for (`SIGKILL`,
/// `SIGSTOP`, the C library's reserved real-time signals).
fn signal_error(signal: c_int) -> io::Error {
    let os = io::Error::last_os_error();
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("cannot install a handler for signal {signal}: {os}"),
    )
}

fn is_function(handler: usize) -> bool {
    handler != libc::SIG_DFL && handler != libc::SIG_IGN && handler != libc::SIG_ERR
}

/// Makes `action` what the handler chains to for `signal`.
fn publish(signal: c_int, action: &libc::sigaction) {
    if action.sa_sigaction == handler_address() {
        // Chaining to itself would recurse forever.
        return;
    }
    let chain = Chain {
        handler: action.sa_sigaction,
        siginfo: action.sa_flags & libc::SA_SIGINFO != 0,
    };
    let previous = &PREVIOUS[signal as usize];
    // SAFETY: null or a leaked `Chain` (see `PREVIOUS`).
    if unsafe { previous.load(Ordering::SeqCst).as_ref() } == Some(&chain) {
        return;
    }
    let replaced = previous.swap(Box::into_raw(Box::new(chain)), Ordering::SeqCst);
    if !replaced.is_null() {
        let mut kept = REPLACED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        kept.push(replaced as usize);
    }
}

/// evmux's handler. Async-signal-safe: see the module docs.
extern "C" fn on_signal(signal: c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    let errno = errno::save();
    if (1..=MAX_SIGNAL).contains(&signal) {
        super::slots::deliver(signal);
        chain(signal, info, context);
    }
    errno::restore(errno);
}

/// Calls the handler evmux's replaced, if it was a function.
fn chain(signal: c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    // SAFETY: null or a leaked `Chain`, never freed (see `PREVIOUS`).
    let Some(previous) = (unsafe { PREVIOUS[signal as usize].load(Ordering::SeqCst).as_ref() })
    else {
        return;
    };
    let handler = previous.handler;
    if !is_function(handler) {
        return;
    }
    if previous.siginfo {
        // SAFETY: the OS reported this address as the signal's handler,
        // installed with SA_SIGINFO, so it has the three-argument
        // signature; it gets the arguments the OS gave evmux's handler.
        let handler: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) =
            unsafe { std::mem::transmute(handler) };
        handler(signal, info, context);
    } else {
        // SAFETY: as above, installed without SA_SIGINFO: one argument.
        let handler: extern "C" fn(c_int) = unsafe { std::mem::transmute(handler) };
        handler(signal);
    }
}

/// Saving and restoring `errno` around the handler, through the C
/// library's function that locates it (`evmux_errno`, see build.rs).
#[cfg(evmux_errno)]
mod errno {
    use std::os::raw::c_int;

    #[cfg(evmux_errno = "___errno")]
    use libc::___errno as location;
    #[cfg(evmux_errno = "__errno")]
    use libc::__errno as location;
    #[cfg(evmux_errno = "__errno_location")]
    use libc::__errno_location as location;
    #[cfg(evmux_errno = "__error")]
    use libc::__error as location;
    #[cfg(evmux_errno = "_errnop")]
    use libc::_errnop as location;

    pub(super) fn save() -> c_int {
        // SAFETY: the function returns the calling thread's errno, valid
        // for the thread's lifetime.
        unsafe { *location() }
    }

    pub(super) fn restore(value: c_int) {
        // SAFETY: as in `save`.
        unsafe { *location() = value };
    }
}

/// Where the location of `errno` is unknown, it is not saved: the
/// handler's only system call, a write(2) that cannot fail in practice
/// (see `slots`), leaves it alone.
#[cfg(not(evmux_errno))]
mod errno {
    pub(super) fn save() {}
    pub(super) fn restore(_: ()) {}
}
