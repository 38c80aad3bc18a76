//! The real binary: it prints where it listens (port 0 works), serves, prints the demo sheet, and stops cleanly
//! on Ctrl-C.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;

use crate::spawned::Spawned;

#[test]
fn the_binary_prints_its_address_serves_and_stops_on_ctrl_c() {
    let mut server = Spawned::start("");
    let addr = server.addr.to_string();
    assert!(!addr.ends_with(":0"), "the bound port, not the asked one: {addr}");

    let mut sheet = String::new();
    while !sheet.contains("check-in link") {
        assert_ne!(server.stdout.read_line(&mut sheet).unwrap(), 0, "stdout ended: {sheet}");
    }
    assert!(sheet.contains("GH-M01  王建国"), "{sheet}");
    assert!(sheet.contains("GH-S05"), "{sheet}");
    assert!(sheet.contains(&format!("http://{addr}/q/")), "{sheet}");

    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: guihai\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with(r#"{"ok":true}"#), "{response}");

    server.interrupt();
    let status = server.exited();
    assert!(status.success(), "{status}");
}
