//! Child processes' exits as readiness: starts a few children that exit
//! after different delays, waits for each in one event loop, and collects
//! each exit status (evmux never reaps a child; the program does).
//!
//! Run with: `cargo run --example child_exit --features os-ext`

mod common;

#[cfg(unix)]
fn main() -> std::io::Result<()> {
    use std::io;
    use std::process::Command;
    use std::time::Duration;

    use evmux::process::ChildExit;
    use evmux::{Events, Interest, Poll, Token};

    common::optional_args("child_exit", &[]);
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(16);
    let mut children = Vec::new();
    for (i, (delay, code)) in [("0.3", 3), ("0.1", 1), ("0.2", 2)].iter().enumerate() {
        let script = format!("sleep {delay}; exit {code}");
        let child = Command::new("sh").args(["-c", &script]).spawn()?;
        let mut exit = ChildExit::new(&child)?;
        poll.registry()
            .register(&mut exit, Token(i), Interest::READABLE)?;
        println!(
            "started child {} (sleeps {delay} s, exits with {code})",
            child.id()
        );
        children.push(Some((child, exit)));
    }

    let mut running = children.len();
    while running > 0 {
        match poll.poll(&mut events, Some(Duration::from_secs(10))) {
            Ok(()) => {}
            // SIGCHLD may interrupt the wait where evmux watches for it.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        if events.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no child exited in 10 s",
            ));
        }
        for event in &events {
            let slot = &mut children[event.token().0];
            let Some((child, exit)) = slot else { continue };
            // An event can be spurious on the SIGCHLD fallback: ask.
            if !exit.has_exited()? {
                continue;
            }
            poll.registry().deregister(exit)?;
            let status = child.wait()?; // returns at once: it has exited
            println!("child {} exited: {status}", child.id());
            *slot = None;
            running -= 1;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn main() {
    println!("evmux::process::ChildExit does not support this platform yet");
}
