//! The real binary: it prints where it listens (port 0 works), serves, prints the demo sheet, and stops cleanly
//! on Ctrl-C.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn the_binary_prints_its_address_serves_and_stops_on_ctrl_c() {
    let dir = tempfile::TempDir::new().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_guihai-server"))
        .args(["--addr", "127.0.0.1:0", "--demo", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--dist")
        .arg(dir.path().join("dist"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr = line
        .trim_end()
        .strip_prefix("guihai listening on http://")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_owned();
    assert!(!addr.ends_with(":0"), "the bound port, not the asked one: {addr}");

    let mut sheet = String::new();
    while !sheet.contains("check-in link") {
        assert_ne!(stdout.read_line(&mut sheet).unwrap(), 0, "stdout ended: {sheet}");
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

    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the server did not stop on Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}
