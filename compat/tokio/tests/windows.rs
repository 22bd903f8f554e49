//! tokio's Windows parts on evmux (run under Wine by .ci/windows.sh): named
//! pipes, whose server and client tokio drives through evmux's `NamedPipe`;
//! child processes; ctrl-c.
#![cfg(windows)]

mod util;

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::windows::named_pipe::{ClientOptions, NamedPipeServer, ServerOptions};
use tokio::process::Command;
use util::{pattern, within};

fn unique_name() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!(r"\\.\pipe\evmux-tokio-{}-{n}", std::process::id())
}

/// Echoes everything one client sends, then returns.
async fn echo(mut server: NamedPipeServer) {
    let mut buf = vec![0; 16 * 1024];
    loop {
        let n = server.read(&mut buf).await.unwrap();
        if n == 0 {
            return;
        }
        server.write_all(&buf[..n]).await.unwrap();
    }
}

#[tokio::test]
async fn a_named_pipe_echoes_a_large_message() {
    let name = unique_name();
    let server = ServerOptions::new()
        .first_pipe_instance(true)
        .create(&name)
        .unwrap();
    let echoing = tokio::spawn(async move {
        server.connect().await.unwrap();
        echo(server).await;
    });
    let mut client = ClientOptions::new().open(&name).unwrap();
    let message = pattern(1 << 20, 7);
    let mut got = vec![0; message.len()];
    within("the echo", async {
        let (mut reader, mut writer) = tokio::io::split(&mut client);
        let write = async {
            writer.write_all(&message).await.unwrap();
        };
        let read = async {
            reader.read_exact(&mut got).await.unwrap();
        };
        tokio::join!(write, read);
    })
    .await;
    assert!(got == message, "the echo differs");
    drop(client);
    within("the server's end", echoing).await.unwrap();
}

/// The accept loop of tokio's docs: a new instance is created before the
/// connected one is handed off, and each client gets its own echo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_pipe_server_serves_clients_one_after_another() {
    const CLIENTS: usize = 8;
    let name = unique_name();
    let mut server = ServerOptions::new()
        .first_pipe_instance(true)
        .create(&name)
        .unwrap();
    let accepting = {
        let name = name.clone();
        tokio::spawn(async move {
            for _ in 0..CLIENTS {
                server.connect().await.unwrap();
                let connected = server;
                server = ServerOptions::new().create(&name).unwrap();
                tokio::spawn(echo(connected));
            }
        })
    };
    for i in 0..CLIENTS {
        let mut client = within("a free pipe instance", async {
            loop {
                match ClientOptions::new().open(&name) {
                    Ok(client) => return client,
                    // ERROR_PIPE_BUSY: the next instance is not created yet.
                    Err(e) if e.raw_os_error() == Some(231) => tokio::task::yield_now().await,
                    Err(e) => panic!("open: {e}"),
                }
            }
        })
        .await;
        let message = pattern(1000 + i, i as u8);
        let mut got = vec![0; message.len()];
        within("an echo", async {
            client.write_all(&message).await.unwrap();
            client.read_exact(&mut got).await.unwrap();
        })
        .await;
        assert_eq!(got, message, "client {i}");
    }
    within("the accept loop", accepting).await.unwrap();
}

/// `connect` waits while no client is there (evmux once reported an
/// unconnected server writable, which ended tokio's `connect` at once), and
/// succeeds for a client that connected and left before it was called
/// again: the pipe was connected, and the server then reads the end of
/// the stream, as on mio.
#[tokio::test]
async fn connect_waits_for_a_client_and_accepts_one_that_came_and_went() {
    let name = unique_name();
    let server = ServerOptions::new()
        .first_pipe_instance(true)
        .create(&name)
        .unwrap();
    // The I/O driver polls before `connect` is called (a pipe created
    // ahead of time): nothing must be reported for the unconnected pipe.
    tokio::time::sleep(util::QUIET).await;
    let early = tokio::time::timeout(util::QUIET, server.connect()).await;
    assert!(
        early.is_err(),
        "connect returned without a client: {early:?}"
    );
    let client = ClientOptions::new().open(&name).unwrap();
    within("the server sees its client", server.writable())
        .await
        .unwrap();
    drop(client);
    within("the connect", server.connect()).await.unwrap();
    let mut buf = [0; 8];
    let read = within("the end of the stream", async {
        let mut server = server;
        server.read(&mut buf).await
    })
    .await;
    match read {
        Ok(0) => {}
        Ok(n) => panic!("read {n} bytes from a gone client"),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}"),
    }
}

#[tokio::test]
async fn a_childs_exit_status_and_output() {
    let status = within(
        "the child's exit",
        Command::new("cmd").args(["/c", "exit 3"]).status(),
    )
    .await
    .unwrap();
    assert_eq!(status.code(), Some(3));
    let output = within(
        "the child's output",
        Command::new("cmd").args(["/c", "echo evmux"]).output(),
    )
    .await
    .unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "evmux");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_children_at_once() {
    let children: Vec<_> = (0..10)
        .map(|code| {
            tokio::spawn(async move {
                let status = Command::new("cmd")
                    .args(["/c", &format!("exit {code}")])
                    .status()
                    .await
                    .unwrap();
                assert_eq!(status.code(), Some(code));
            })
        })
        .collect();
    within("every child's exit", async {
        for child in children {
            child.await.unwrap();
        }
    })
    .await;
}

/// ctrl-c sent to the process's console group reaches `ctrl_c()`.
/// (tokio's ctrl-c handler does not go through mio.)
#[tokio::test]
#[ignore = "Wine 8 refuses GenerateConsoleCtrlEvent (ERROR_INVALID_ACCESS), \
            with a console allocated or not: run with --ignored on Windows"]
async fn ctrl_c_is_received() {
    #[link(name = "kernel32")]
    extern "system" {
        fn AllocConsole() -> i32;
        fn GenerateConsoleCtrlEvent(event: u32, group: u32) -> i32;
    }
    const CTRL_C_EVENT: u32 = 0;
    let mut ctrl_c = tokio::signal::windows::ctrl_c().unwrap();
    // SAFETY: no arguments; fails harmlessly if there is a console.
    unsafe { AllocConsole() };
    // SAFETY: no pointers; group 0 is this process's console.
    let sent = unsafe { GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0) };
    assert_ne!(sent, 0, "{}", std::io::Error::last_os_error());
    within("ctrl-c", ctrl_c.recv()).await.unwrap();
}
