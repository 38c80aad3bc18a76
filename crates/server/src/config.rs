//! The server's settings from the command line, with environment fallbacks: where to listen, where the database
//! and the built app live, whether to seed demo data, and (for tests of the real binary only) which faults to arm.

use std::net::SocketAddr;
use std::path::PathBuf;

use guihai_core::report::DEFAULT_LOST_AFTER_DAYS;

/// A phone silent this long signs in again: long enough for a season away from any network.
pub const DEFAULT_SESSION_IDLE_DAYS: u32 = 90;

use crate::faults::{self, Point};

pub const USAGE: &str = "\
usage: guihai-server [--addr 127.0.0.1:8080] [--data-dir ./data] [--keys-dir DIR] [--dist ./dist] [--demo]
                     [--lost-after-days 90] [--behind-proxy] [--test-faults LIST] [--test-clock-ahead-days N]
       guihai-server keys list|rotate|revoke KEY_ID [--data-dir ./data] [--keys-dir DIR]

  --addr ADDR      where to listen (port 0 picks a free port)      env GUIHAI_ADDR
  --data-dir DIR   where the database guihai.db is kept             env GUIHAI_DATA_DIR
  --keys-dir DIR   where the signing keys' secrets are kept, readable by this user only; back it up apart
                   from the database (default: DATA_DIR/keys)      env GUIHAI_KEYS_DIR
  --dist DIR       the built app (trunk build) to serve             env GUIHAI_DIST
  --demo           seed demo data into an empty database and print the demo sign-in codes
  --lost-after-days N  a member not heard from for N days is out of contact (失联)  env GUIHAI_LOST_AFTER_DAYS
  --public-url URL the address phones reach this server at, for every link it prints (posters, activation
                   sheets, codes), e.g. https://guihai.example.cn  env GUIHAI_PUBLIC_URL
  --session-idle-days N  a phone not heard from for N days signs in again (it keeps what it holds)
                   env GUIHAI_SESSION_IDLE_DAYS, default 90
  --behind-proxy   the client's address is the last one in X-Forwarded-For (set only behind a reverse proxy
                   that appends it; rate limits are per address)  env GUIHAI_BEHIND_PROXY=1
  --test-faults L  tests only: fail on purpose at the points in L, e.g. exit-after-commit:push:2 (see faults.rs)
  --test-clock-ahead-days N  tests only: the server's clock runs N days ahead

  keys list        the signing keys: which signs, which are trusted, which are revoked
  keys rotate      a new key signs from now on; codes signed before stay valid until they expire
  keys revoke ID   codes signed by key ID are refused from now on (a new key signs if it was the one signing)
                   A running server takes a rotation or revocation within seconds; phones at their next sync.";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    /// The signing keys' secrets (`keys::KeyDir`), apart from the database.
    pub keys_dir: PathBuf,
    pub dist: PathBuf,
    pub demo: bool,
    /// Days without a sync, check-in or report after which a member counts as out of contact.
    pub lost_after_days: u32,
    /// Days without a request after which a session ends: the phone asks for the PIN again and keeps its records.
    pub session_idle_days: u32,
    /// Fault points to arm; empty unless `--test-faults` is given (never from the environment).
    pub faults: Vec<Point>,
    /// Tests only: days the server's clock runs ahead (`clock::run_ahead`); 0 unless `--test-clock-ahead-days`
    /// is given (never from the environment).
    pub test_clock_ahead_days: u32,
    /// Trust the last address of `X-Forwarded-For` as the client's (`guard::ClientAddr`), and the proxy's
    /// `X-Forwarded-Host` and `-Proto` for printed links when `public_url` is not given.
    pub behind_proxy: bool,
    /// Where phones reach the server (scheme and host, no trailing slash), for every printed link.
    pub public_url: Option<String>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("help was asked for")]
    Help,
    #[error("unknown argument {0:?}")]
    Unknown(String),
    #[error("{0} needs a value")]
    MissingValue(&'static str),
    #[error("{0:?} is not an address like 127.0.0.1:8080")]
    BadAddr(String),
    #[error("{0} needs a whole number of days from 1, not {1:?}")]
    BadDays(&'static str, String),
    #[error("--public-url needs an address like https://guihai.example.cn, not {0:?}")]
    BadUrl(String),
    #[error("keys needs list, rotate or revoke KEY_ID, not {0:?}")]
    BadKeysCommand(String),
    #[error("--test-faults: {0}")]
    BadFaults(String),
}

/// What the server program is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Serve(Config),
    Keys(KeysCommand, Config),
}

/// `guihai-server keys ...`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeysCommand {
    List,
    Rotate,
    Revoke(u16),
}

impl Command {
    /// From this process's arguments and environment.
    pub fn from_env() -> Result<Command, ConfigError> {
        Command::parse(std::env::args().skip(1), |name| std::env::var(name).ok())
    }

    pub fn parse(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Command, ConfigError> {
        let mut args = args.into_iter().peekable();
        if args.peek().map(String::as_str) != Some("keys") {
            return Config::parse(args, env).map(Command::Serve);
        }
        args.next();
        let action = args.next().unwrap_or_default();
        let keys = match action.as_str() {
            "list" => KeysCommand::List,
            "rotate" => KeysCommand::Rotate,
            "revoke" => {
                let key_id = args.next().unwrap_or_default();
                KeysCommand::Revoke(
                    key_id
                        .parse()
                        .map_err(|_| ConfigError::BadKeysCommand(format!("revoke {key_id}")))?,
                )
            }
            _ => return Err(ConfigError::BadKeysCommand(action)),
        };
        Ok(Command::Keys(keys, Config::parse(args, env)?))
    }
}

impl Config {
    /// From `args` (without the program name), falling back to `env` for what they leave out.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut addr = env("GUIHAI_ADDR");
        let mut data_dir = env("GUIHAI_DATA_DIR");
        let mut keys_dir = env("GUIHAI_KEYS_DIR");
        let mut dist = env("GUIHAI_DIST");
        let mut lost_after_days = env("GUIHAI_LOST_AFTER_DAYS");
        let mut public_url = env("GUIHAI_PUBLIC_URL");
        let mut session_idle_days = env("GUIHAI_SESSION_IDLE_DAYS");
        let mut demo = false;
        let mut behind_proxy = env("GUIHAI_BEHIND_PROXY").is_some_and(|v| v == "1");
        let mut faults = Vec::new();
        let mut test_clock_ahead_days = None;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            // Both `--flag value` and `--flag=value`.
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value.to_owned())),
                _ => (arg.clone(), None),
            };
            match flag.as_str() {
                "--addr" => addr = Some(value(inline, &mut args, "--addr")?),
                "--data-dir" => data_dir = Some(value(inline, &mut args, "--data-dir")?),
                "--keys-dir" => keys_dir = Some(value(inline, &mut args, "--keys-dir")?),
                "--dist" => dist = Some(value(inline, &mut args, "--dist")?),
                "--demo" if inline.is_none() => demo = true,
                "--behind-proxy" if inline.is_none() => behind_proxy = true,
                "--public-url" => public_url = Some(value(inline, &mut args, "--public-url")?),
                "--session-idle-days" => session_idle_days = Some(value(inline, &mut args, "--session-idle-days")?),
                "--lost-after-days" => lost_after_days = Some(value(inline, &mut args, "--lost-after-days")?),
                "--test-faults" => {
                    faults =
                        faults::parse(&value(inline, &mut args, "--test-faults")?).map_err(ConfigError::BadFaults)?
                }
                "--test-clock-ahead-days" => {
                    test_clock_ahead_days = Some(value(inline, &mut args, "--test-clock-ahead-days")?)
                }
                "-h" | "--help" => return Err(ConfigError::Help),
                _ => return Err(ConfigError::Unknown(arg)),
            }
        }
        let addr = addr.unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let lost_after_days = days(lost_after_days, "--lost-after-days", DEFAULT_LOST_AFTER_DAYS)?;
        let session_idle_days = days(session_idle_days, "--session-idle-days", DEFAULT_SESSION_IDLE_DAYS)?;
        let data_dir = PathBuf::from(data_dir.unwrap_or_else(|| "data".to_owned()));
        Ok(Config {
            addr: addr.parse().map_err(|_| ConfigError::BadAddr(addr))?,
            keys_dir: keys_dir.map_or_else(|| data_dir.join("keys"), PathBuf::from),
            data_dir,
            dist: dist.unwrap_or_else(|| "dist".to_owned()).into(),
            demo,
            lost_after_days,
            session_idle_days,
            faults,
            test_clock_ahead_days: days(test_clock_ahead_days, "--test-clock-ahead-days", 0)?,
            behind_proxy,
            public_url: public_url.map(checked_url).transpose()?,
        })
    }
}

/// A number of days from 1 given for `flag`, or `default`.
fn days(given: Option<String>, flag: &'static str, default: u32) -> Result<u32, ConfigError> {
    match given {
        None => Ok(default),
        Some(days) => days
            .trim()
            .parse()
            .ok()
            .filter(|d| *d > 0)
            .ok_or(ConfigError::BadDays(flag, days)),
    }
}

/// A public URL as links use it: `http(s)://host[:port]`, without a trailing slash.
fn checked_url(url: String) -> Result<String, ConfigError> {
    let trimmed = url.trim().trim_end_matches('/');
    let host = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    match host {
        Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', ' ']) => Ok(trimmed.to_owned()),
        _ => Err(ConfigError::BadUrl(url)),
    }
}

fn value(
    inline: Option<String>,
    rest: &mut impl Iterator<Item = String>,
    flag: &'static str,
) -> Result<String, ConfigError> {
    inline.or_else(|| rest.next()).ok_or(ConfigError::MissingValue(flag))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::parse(args.iter().map(|a| a.to_string()), |name| {
            env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_listen_locally_with_data_and_dist_in_the_working_directory() {
        let config = parse(&[], &[]).unwrap();
        assert_eq!(config.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(
            (config.data_dir, config.dist, config.demo, config.faults),
            ("data".into(), "dist".into(), false, Vec::new())
        );
    }

    #[test]
    fn flags_win_over_the_environment() {
        let env = [
            ("GUIHAI_ADDR", "0.0.0.0:80"),
            ("GUIHAI_DATA_DIR", "/env/data"),
            ("GUIHAI_DIST", "/env/dist"),
        ];
        let config = parse(&["--addr", "127.0.0.1:0", "--dist=/flag/dist", "--demo"], &env).unwrap();
        assert_eq!(config.addr, "127.0.0.1:0".parse().unwrap());
        assert_eq!(config.data_dir, PathBuf::from("/env/data"));
        assert_eq!(config.dist, PathBuf::from("/flag/dist"));
        assert_eq!(config.keys_dir, PathBuf::from("/env/data/keys"));
        assert!(config.demo);
        let keys_dir = parse(&["--keys-dir", "/etc/guihai/keys"], &env).unwrap().keys_dir;
        assert_eq!(keys_dir, PathBuf::from("/etc/guihai/keys"));
    }

    #[test]
    fn the_keys_command_takes_an_action_and_the_same_flags() {
        let command = |args: &[&str]| Command::parse(args.iter().map(|a| a.to_string()), |_| None);
        assert!(matches!(command(&[]), Ok(Command::Serve(_))));
        let Ok(Command::Keys(KeysCommand::Revoke(3), config)) = command(&["keys", "revoke", "3", "--data-dir", "/d"])
        else {
            panic!("keys revoke 3 is read");
        };
        assert_eq!(config.keys_dir, PathBuf::from("/d/keys"));
        assert!(matches!(
            command(&["keys", "rotate"]),
            Ok(Command::Keys(KeysCommand::Rotate, _))
        ));
        assert!(matches!(
            command(&["keys", "list"]),
            Ok(Command::Keys(KeysCommand::List, _))
        ));
        assert_eq!(
            command(&["keys", "revoke", "x"]),
            Err(ConfigError::BadKeysCommand("revoke x".into()))
        );
        assert_eq!(command(&["keys"]), Err(ConfigError::BadKeysCommand(String::new())));
    }

    #[test]
    fn mistakes_are_named() {
        assert_eq!(parse(&["--addr"], &[]), Err(ConfigError::MissingValue("--addr")));
        assert_eq!(parse(&["--port", "1"], &[]), Err(ConfigError::Unknown("--port".into())));
        assert_eq!(
            parse(&["--demo=yes"], &[]),
            Err(ConfigError::Unknown("--demo=yes".into()))
        );
        assert_eq!(
            parse(&["--addr", "localhost"], &[]),
            Err(ConfigError::BadAddr("localhost".into()))
        );
        assert_eq!(parse(&["--help"], &[]), Err(ConfigError::Help));
        assert_eq!(
            parse(&["--lost-after-days", "0"], &[]),
            Err(ConfigError::BadDays("--lost-after-days", "0".into()))
        );
        assert_eq!(parse(&["--lost-after-days=30"], &[]).unwrap().lost_after_days, 30);
        assert_eq!(parse(&[], &[]).unwrap().lost_after_days, DEFAULT_LOST_AFTER_DAYS);
        assert_eq!(parse(&["--session-idle-days=30"], &[]).unwrap().session_idle_days, 30);
        assert_eq!(
            parse(&["--session-idle-days", "never"], &[]),
            Err(ConfigError::BadDays("--session-idle-days", "never".into()))
        );
        assert_eq!(
            parse(&["--public-url", "guihai.example.cn"], &[]),
            Err(ConfigError::BadUrl("guihai.example.cn".into()))
        );
        assert_eq!(
            parse(&["--public-url", "https://guihai.example.cn/app"], &[]),
            Err(ConfigError::BadUrl("https://guihai.example.cn/app".into()))
        );
        assert_eq!(
            parse(&[], &[("GUIHAI_PUBLIC_URL", "https://guihai.example.cn/")])
                .unwrap()
                .public_url,
            Some("https://guihai.example.cn".into())
        );
        assert!(matches!(
            parse(&["--test-faults", "crash:push:1"], &[]),
            Err(ConfigError::BadFaults(_))
        ));
    }

    #[test]
    fn faults_are_armed_by_the_flag_and_nothing_else() {
        let env = [("GUIHAI_TEST_FAULTS", "exit-after-commit:push:1")];
        assert_eq!(parse(&[], &env).unwrap().faults, []);
        let config = parse(&["--test-faults=exit-after-commit:push:1"], &env).unwrap();
        assert_eq!(config.faults, faults::parse("exit-after-commit:push:1").unwrap());
    }
}
