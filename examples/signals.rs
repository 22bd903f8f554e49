//! Signals as readiness: an event loop that handles `SIGUSR1` and stops
//! cleanly on `SIGTERM` or `SIGINT` (Ctrl-C), instead of being killed.
//!
//! To end on its own, it sends itself three `SIGUSR1`s and then a
//! `SIGTERM`, from another thread; send it more with `kill -USR1 <pid>`.
//!
//! Run with: `cargo run --example signals --features os-ext`

mod common;

#[cfg(unix)]
fn main() -> std::io::Result<()> {
    use std::io;
    use std::thread;
    use std::time::Duration;

    use evmux::unix::signal::{self, SIGINT, SIGTERM, SIGUSR1};
    use evmux::unix::Signals;
    use evmux::{Events, Interest, Poll, Token};
    use rustix::process::{getpid, kill_process, Signal};

    const SIGNALS: Token = Token(0);

    common::optional_args("signals", &[]);
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(16);
    let mut signals = Signals::new(&[SIGUSR1, SIGTERM, SIGINT])?;
    poll.registry()
        .register(&mut signals, SIGNALS, Interest::READABLE)?;
    println!(
        "process {} handles SIGUSR1; SIGTERM or SIGINT stops it",
        std::process::id()
    );

    // Sending a signal takes a system call std lacks: rustix's kill_process.
    let sender = thread::spawn(|| -> io::Result<()> {
        for signal in [Signal::USR1, Signal::USR1, Signal::USR1, Signal::TERM] {
            thread::sleep(Duration::from_millis(100));
            kill_process(getpid(), signal)?;
        }
        Ok(())
    });

    let mut usr1 = 0;
    loop {
        match poll.poll(&mut events, None) {
            Ok(()) => {}
            // A signal handled on this thread interrupts the wait.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        for event in &events {
            if event.token() != SIGNALS {
                continue;
            }
            for received in signals.pending()? {
                // Every signal registered here has a name in `unix::signal`.
                let name = signal::name(received).unwrap_or("an unnamed signal");
                match received {
                    SIGUSR1 => {
                        usr1 += 1;
                        println!("{name} (wake-up {usr1})");
                    }
                    _ => {
                        println!("{name}: stopping");
                        sender.join().expect("the sender thread")?;
                        return Ok(());
                    }
                }
            }
        }
    }
}

#[cfg(not(unix))]
fn main() {
    println!("POSIX signals exist on Unix only");
}
