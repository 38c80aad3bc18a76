//! The real `guihai-server` binary in a child process, on a loopback port with its own data folder and demo data:
//! started, interrupted or crashed, and started again on the same port with the same data, as a restart would.
//! Its log goes to `server.log` in the folder and is printed when a test fails.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

const LISTENING: &str = "guihai listening on http://";

pub struct Spawned {
    pub dir: TempDir,
    /// Where it listens: the port the first start was given, kept across restarts.
    pub addr: SocketAddr,
    /// What it prints after the listening line (the demo sign-in sheet).
    pub stdout: BufReader<ChildStdout>,
    child: Child,
    /// Arguments given to every start, besides the usual ones.
    extra: Vec<String>,
}

impl Spawned {
    /// Starts a server with fresh demo data on a free port, with `--test-faults faults` unless `faults` is empty.
    pub fn start(faults: &str) -> Spawned {
        Spawned::start_with(faults, &[])
    }

    /// As `start`, with `extra` arguments (`--behind-proxy`) on every start.
    pub fn start_with(faults: &str, extra: &[&str]) -> Spawned {
        let dir = TempDir::new().unwrap();
        let extra: Vec<String> = extra.iter().map(|arg| arg.to_string()).collect();
        let (child, stdout, addr) = launch(&dir, "127.0.0.1:0".parse().unwrap(), faults, &extra);
        Spawned {
            dir,
            addr,
            stdout,
            child,
            extra,
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts it again on the same port with the same data, once the last process has ended.
    pub fn restart(&mut self, faults: &str) {
        assert!(self.child.try_wait().unwrap().is_some(), "the server is still running");
        (self.child, self.stdout, _) = launch(&self.dir, self.addr, faults, &self.extra);
    }

    /// The SQLite database it keeps in its data folder.
    pub fn database(&self) -> PathBuf {
        self.dir.path().join("data").join("guihai.db")
    }

    /// What it has written to stderr, over all its starts.
    pub fn log(&self) -> String {
        log_of(&self.dir)
    }

    /// Sends SIGINT (Ctrl-C).
    pub fn interrupt(&self) {
        let sent = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Waits for the process to end by itself.
    pub fn exited(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        // Errors mean it has already ended.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- server.log ---\n{}--- end of server.log ---", self.log());
        }
    }
}

/// Spawns the binary and reads its listening line.
fn launch(
    dir: &TempDir,
    addr: SocketAddr,
    faults: &str,
    extra: &[String],
) -> (Child, BufReader<ChildStdout>, SocketAddr) {
    let log: File = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.path().join("server.log"))
        .unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_guihai-server"));
    command
        .args(["--addr", &addr.to_string(), "--demo", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--dist")
        .arg(dir.path().join("dist"));
    if !faults.is_empty() {
        command.args(["--test-faults", faults]);
    }
    command.args(extra);
    let mut child = command.stdout(Stdio::piped()).stderr(log).spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let Some(bound) = line.trim_end().strip_prefix(LISTENING) else {
        let _ = child.kill();
        panic!("the server did not start: {line:?}\n{}", log_of(dir));
    };
    (child, stdout, bound.parse().unwrap())
}

fn log_of(dir: &TempDir) -> String {
    std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default()
}
