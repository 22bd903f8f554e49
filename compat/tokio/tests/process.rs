//! Child processes through tokio on evmux: exit statuses, piped standard
//! streams, many children at once, and killing.
// Unix exit statuses and signals; tests/windows.rs has Windows' children.
#![cfg(unix)]

mod util;

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use util::within;

#[tokio::test]
async fn output_and_exit_code() {
    let output = within(
        "sh",
        Command::new("sh")
            .args(["-c", "echo hello; echo oops >&2; exit 3"])
            .output(),
    )
    .await
    .unwrap();
    assert_eq!(output.stdout, b"hello\n");
    assert_eq!(output.stderr, b"oops\n");
    assert_eq!(output.status.code(), Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn piped_stdin_and_stdout() {
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let data = util::pattern(4 << 20, 5);
    let sent = data.clone();
    let writer = tokio::spawn(async move {
        stdin.write_all(&sent).await.unwrap();
        // Dropping stdin closes it: cat sees the end and exits.
    });
    let mut back = Vec::new();
    within("cat's output", stdout.read_to_end(&mut back))
        .await
        .unwrap();
    within("the writer", writer).await.unwrap();
    assert!(back == data);
    let status = within("cat exits", child.wait()).await.unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_children_at_once() {
    let children: Vec<_> = (0..40)
        .map(|i| {
            Command::new("sh")
                .args(["-c", &format!("exit {}", i % 7)])
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, mut child) in children.into_iter().enumerate() {
        let status = within("a child exits", child.wait()).await.unwrap();
        assert_eq!(status.code(), Some((i % 7) as i32));
    }
}

#[tokio::test]
async fn killing_a_child() {
    let mut child = Command::new("sleep").arg("60").spawn().unwrap();
    within("kill", child.kill()).await.unwrap();
    let status = within("wait", child.wait()).await.unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
}
