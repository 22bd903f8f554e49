//! Command-line handling shared by the example programs: a fixed number of
//! optional arguments, and socket addresses whose errors say what was
//! expected. Each example uses what it needs of it.

#![allow(dead_code)]

use std::io;
use std::net::{IpAddr, SocketAddr};

/// The optional arguments of `program`, at most `names.len()` of them
/// (`names` as they appear in the usage line, e.g. `["ADDRESS", "MESSAGE"]`).
/// More is a usage error: it is printed, with the usage, and the program
/// exits with status 2 (a message of several words must be quoted).
pub fn optional_args(program: &str, names: &[&str]) -> Vec<String> {
    match check_args(program, names) {
        Ok(args) => args,
        Err(error) => {
            eprintln!("{program}: {error}");
            std::process::exit(2);
        }
    }
}

fn check_args(program: &str, names: &[&str]) -> io::Result<Vec<String>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() > names.len() {
        if names.is_empty() {
            return Err(invalid(format!("takes no arguments, {} given", args.len())));
        }
        let usage: String = names
            .iter()
            .map(|name| format!(" [{name}"))
            .collect::<String>()
            + &"]".repeat(names.len());
        let quote = if names.contains(&"MESSAGE") {
            " (quote a message of several words: \"hello world\")"
        } else {
            ""
        };
        return Err(invalid(format!(
            "{} arguments given, at most {} expected; usage: {program}{usage}{quote}",
            args.len(),
            names.len(),
        )));
    }
    Ok(args)
}

/// Parses `text` as a socket address, `IP:PORT`. The error says what was
/// expected and, for an IP alone or a port alone, what was probably meant.
pub fn parse_address(text: &str) -> io::Result<SocketAddr> {
    if let Ok(address) = text.parse() {
        return Ok(address);
    }
    let hint = if let Ok(port) = text.parse::<u16>() {
        format!("a port alone; with an IP address: 127.0.0.1:{port}")
    } else if let Ok(ip) = text.parse::<IpAddr>() {
        format!(
            "an IP address without a port: {}",
            SocketAddr::new(ip, 9000)
        )
    } else if let Some((host, port)) = text
        .rsplit_once(':')
        .filter(|(_, port)| port.parse::<u16>().is_ok())
    {
        format!("\"{host}\" is a name, and names are not looked up here; for this machine: 127.0.0.1:{port}")
    } else {
        "for example 127.0.0.1:9000, or [::1]:9000 for IPv6".to_string()
    };
    Err(invalid(format!(
        "\"{text}\" is not a socket address: expected IP:PORT, an IP address and a \
         port number ({hint})"
    )))
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}
