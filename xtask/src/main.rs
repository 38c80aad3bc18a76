//! `cargo xtask`: the one entry point for running and testing Guihai (see `usage()`).

mod bench;
mod build;
mod compress;
mod process;
mod run;
mod server;
mod service_worker;
mod test;
mod tools;

use std::process::ExitCode;

use process::Workspace;

/// Every xtask function fails with a message meant for the person at the terminal.
type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

enum Task {
    Run { addr: String, data_dir: String },
    Test,
    EndToEnd(Vec<String>),
    Bench,
    Help,
}

fn usage() -> &'static str {
    "\
usage: cargo xtask <command>

commands:
  run [--addr A] [--data-dir D]   install missing tools, build the app, start the demo server
                                  (defaults: --addr 127.0.0.1:8080 --data-dir data)
  test                            install missing tools, then check formatting and lints, run the
                                  unit, in-browser and end-to-end tests (what CI runs)
  e2e [NAME ...]                  build the app and the server, run the end-to-end tests (all, or
                                  only tests/e2e/NAME.test.mjs)
  bench                           install missing tools, build the app and the server, measure the
                                  first-load size, the start time, syncing offline check-ins,
                                  decoding QR codes and pushes into the server into
                                  docs/benchmarks.md
  help                            show this text"
}

fn parse(args: &[String]) -> std::result::Result<Task, String> {
    let Some((command, rest)) = args.split_first() else {
        return Err("no command given".into());
    };
    match command.as_str() {
        "run" => {
            let mut addr = "127.0.0.1:8080".to_string();
            let mut data_dir = "data".to_string();
            let mut rest = rest.iter();
            while let Some(flag) = rest.next() {
                let slot = match flag.as_str() {
                    "--addr" => &mut addr,
                    "--data-dir" => &mut data_dir,
                    other => return Err(format!("unknown option for run: {other}")),
                };
                *slot = rest.next().ok_or_else(|| format!("{flag} needs a value"))?.clone();
            }
            Ok(Task::Run { addr, data_dir })
        }
        "test" if rest.is_empty() => Ok(Task::Test),
        "e2e" => Ok(Task::EndToEnd(rest.to_vec())),
        "bench" if rest.is_empty() => Ok(Task::Bench),
        "test" | "bench" => Err(format!("{command} takes no options")),
        "help" | "--help" | "-h" => Ok(Task::Help),
        other => Err(format!("unknown command: {other}")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = match parse(&args) {
        Ok(task) => task,
        Err(message) => {
            eprintln!("error: {message}\n\n{}", usage());
            return ExitCode::from(2);
        }
    };
    let result = Workspace::locate().and_then(|ws| match task {
        Task::Run { addr, data_dir } => run::run(&ws, &addr, &data_dir),
        Task::Test => test::test(&ws),
        Task::EndToEnd(only) => test::end_to_end(&ws, &only),
        Task::Bench => bench::bench(&ws),
        Task::Help => {
            println!("{}", usage());
            Ok(())
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(args: &[&str]) -> std::result::Result<Task, String> {
        parse(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn run_has_defaults_and_takes_overrides() {
        let Ok(Task::Run { addr, data_dir }) = parsed(&["run"]) else {
            panic!("run should parse");
        };
        assert_eq!((addr.as_str(), data_dir.as_str()), ("127.0.0.1:8080", "data"));

        let Ok(Task::Run { addr, data_dir }) = parsed(&["run", "--data-dir", "/tmp/d", "--addr", "0.0.0.0:9000"])
        else {
            panic!("run with options should parse");
        };
        assert_eq!((addr.as_str(), data_dir.as_str()), ("0.0.0.0:9000", "/tmp/d"));
    }

    #[test]
    fn test_and_bench_stand_alone() {
        assert!(matches!(parsed(&["test"]), Ok(Task::Test)));
        assert!(matches!(parsed(&["bench"]), Ok(Task::Bench)));
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(parsed(&[]).is_err());
        assert!(parsed(&["deploy"]).is_err());
        assert!(parsed(&["run", "--addr"]).is_err());
        assert!(parsed(&["run", "--port", "1"]).is_err());
        assert!(parsed(&["test", "--fast"]).is_err());
        assert!(parsed(&["bench", "--runs", "9"]).is_err());
    }
}
