//! The patch is active: the mio that tokio is built on is evmux.

/// The lock file of this workspace lists one mio, the path crate that
/// re-exports evmux, not the one from crates.io; as tokio depends on mio
/// 1.x, that one mio is tokio's.
#[test]
fn the_only_mio_in_the_lock_file_is_the_shim() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock"))
        .expect("read Cargo.lock");
    let packages: Vec<&str> = lock.split("[[package]]").collect();
    let mios: Vec<&&str> = packages
        .iter()
        .filter(|package| package.contains("\nname = \"mio\"\n"))
        .collect();
    assert_eq!(mios.len(), 1, "one mio in Cargo.lock: {mios:?}");
    assert!(
        !mios[0].contains("source ="),
        "mio comes from a path, not a registry: {}",
        mios[0]
    );
    assert!(
        mios[0].contains("\"evmux\""),
        "mio depends on evmux: {}",
        mios[0]
    );
    let tokio = packages
        .iter()
        .find(|package| package.contains("\nname = \"tokio\"\n"))
        .expect("tokio in Cargo.lock");
    assert!(tokio.contains("\"mio\""), "tokio depends on mio: {tokio}");
}

/// mio's types are evmux's types.
#[test]
fn mio_types_are_evmux_types() {
    for name in [
        std::any::type_name::<mio::Poll>(),
        std::any::type_name::<mio::Registry>(),
        std::any::type_name::<mio::Waker>(),
        std::any::type_name::<mio::net::TcpStream>(),
        #[cfg(unix)]
        std::any::type_name::<mio::unix::pipe::Receiver>(),
        #[cfg(windows)]
        std::any::type_name::<mio::windows::NamedPipe>(),
    ] {
        assert!(name.starts_with("evmux::"), "{name} is evmux's");
    }
}
