//! Fault points for the tests that run the real binary (`tests/api/exactly_once.rs`): crash or fail a push at
//! the worst moment. Nothing here can be armed by accident: only the `--test-faults LIST` flag arms it (no
//! environment variable, no default), and the server says so loudly at start.
//!
//! `LIST` is comma-separated points `WHAT:push:N`, where N counts the push requests this process has taken,
//! from 1:
//! - `exit-after-commit:push:N` ends the process (`std::process::exit`) right after the Nth push commits and
//!   before its answer is written: the writes stay, the answer is lost.
//! - `fail-before-commit:push:N` answers 500 after the Nth push has made all its writes, without committing
//!   them: a passing failure that must change nothing.
//! - `forget-codes:push:N` finds none of the codes the server keeps for the Nth push, as a server that signed
//!   them before it kept them: a push naming codes by their signature is asked for them whole.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

/// The exit status of a process ended by `exit-after-commit`, so a test can tell it from a crash.
pub const EXIT_AFTER_COMMIT_STATUS: i32 = 86;

/// What a fault point does to its push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    ExitAfterCommit,
    FailBeforeCommit,
    ForgetCodes,
}

/// One armed fault point: `fault` strikes the `nth` push request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    pub fault: Fault,
    pub nth: u64,
}

impl FromStr for Point {
    type Err = String;

    fn from_str(text: &str) -> Result<Point, String> {
        let bad = || format!("{text:?} is not a fault point like exit-after-commit:push:2");
        let (fault, nth) = match text.trim().split(':').collect::<Vec<_>>()[..] {
            [fault, "push", nth] => (fault, nth),
            _ => return Err(bad()),
        };
        let fault = match fault {
            "exit-after-commit" => Fault::ExitAfterCommit,
            "fail-before-commit" => Fault::FailBeforeCommit,
            "forget-codes" => Fault::ForgetCodes,
            _ => return Err(bad()),
        };
        match nth.parse() {
            Ok(nth) if nth > 0 => Ok(Point { fault, nth }),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fault = match self.fault {
            Fault::ExitAfterCommit => "exit-after-commit",
            Fault::FailBeforeCommit => "fail-before-commit",
            Fault::ForgetCodes => "forget-codes",
        };
        write!(f, "{fault}:push:{}", self.nth)
    }
}

/// Parses a `--test-faults` list.
pub fn parse(list: &str) -> Result<Vec<Point>, String> {
    list.split(',').map(str::parse).collect()
}

/// The armed points of a running server, with the count of push requests they refer to.
#[derive(Debug, Default)]
pub struct Faults {
    points: Vec<Point>,
    pushes: AtomicU64,
}

impl Faults {
    /// Arms `points`, warning on stderr for each one: a server with faults armed must never go unnoticed.
    pub fn arm(points: Vec<Point>) -> Faults {
        for point in &points {
            tracing::warn!(%point, "TEST FAULT ARMED: this server will fail on purpose; never run it in production");
        }
        Faults {
            points,
            pushes: AtomicU64::new(0),
        }
    }

    /// Counts one push request and returns the fault armed for it, if any.
    pub fn on_push(&self) -> Option<Fault> {
        if self.points.is_empty() {
            return None;
        }
        let nth = self.pushes.fetch_add(1, Ordering::SeqCst) + 1;
        let fault = self
            .points
            .iter()
            .find(|point| point.nth == nth)
            .map(|point| point.fault);
        if let Some(fault) = fault {
            tracing::warn!(?fault, nth, "TEST FAULT strikes this push");
        }
        fault
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_names_what_strikes_which_push() {
        assert_eq!(
            parse("exit-after-commit:push:2, fail-before-commit:push:1,forget-codes:push:3"),
            Ok(vec![
                Point {
                    fault: Fault::ExitAfterCommit,
                    nth: 2
                },
                Point {
                    fault: Fault::FailBeforeCommit,
                    nth: 1
                },
                Point {
                    fault: Fault::ForgetCodes,
                    nth: 3
                },
            ])
        );
        for bad in [
            "",
            "exit-after-commit",
            "exit-after-commit:pull:1",
            "crash:push:1",
            "exit-after-commit:push:0",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_point_strikes_only_its_own_push() {
        let faults = Faults::arm(parse("fail-before-commit:push:2").unwrap());
        let struck: Vec<Option<Fault>> = (0..3).map(|_| faults.on_push()).collect();
        assert_eq!(struck, [None, Some(Fault::FailBeforeCommit), None]);
        assert_eq!(Faults::default().on_push(), None);
    }

    #[test]
    fn a_point_reads_back_as_written() {
        let point: Point = "exit-after-commit:push:3".parse().unwrap();
        assert_eq!(point.to_string(), "exit-after-commit:push:3");
    }
}
