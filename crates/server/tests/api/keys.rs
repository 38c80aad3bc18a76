//! The signing keys as an operator handles them, through the real binary: the secret in a file of the key
//! directory that only the server's user reads, never in the database; `guihai-server keys rotate` and
//! `revoke` run beside the running server, which takes them within seconds, and phones at their next sync.

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use guihai_core::qr::{CodeError, TrustedKey, Verifier};
use guihai_core::sync::{Record, Rejection};

use crate::phone::Phone;
use crate::spawned::Spawned;

fn key_file(server: &Spawned, key_id: u16) -> PathBuf {
    server
        .dir
        .path()
        .join("data")
        .join("keys")
        .join(format!("{key_id}.key"))
}

fn secret(server: &Spawned, key_id: u16) -> Vec<u8> {
    let text = std::fs::read_to_string(key_file(server, key_id)).unwrap();
    URL_SAFE_NO_PAD.decode(text.trim()).unwrap()
}

/// `guihai-server ARGS --data-dir ...` on the server's data, run to its end: whether it succeeded, and what it
/// printed (stdout, then stderr).
fn run(server: &Spawned, args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_guihai-server"))
        .args(args)
        .arg("--data-dir")
        .arg(server.dir.path().join("data"))
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), printed)
}

/// Starts the server on its data while it is stopped, expecting it to refuse: what it said.
fn start_fails(server: &Spawned) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_guihai-server"))
        .args(["--addr", "127.0.0.1:0", "--data-dir"])
        .arg(server.dir.path().join("data"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server started");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The database's bytes, with its write-ahead log.
fn database_bytes(server: &Spawned) -> Vec<u8> {
    let mut bytes = std::fs::read(server.database()).unwrap();
    bytes.extend(std::fs::read(server.database().with_extension("db-wal")).unwrap_or_default());
    bytes
}

fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

async fn public_keys(server: &Spawned) -> Vec<TrustedKey> {
    let reply: serde_json::Value = reqwest::get(format!("http://{}/api/v1/keys", server.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    serde_json::from_value(reply["keys"].clone()).unwrap()
}

/// Waits (at most 15 s: the server looks every 5) until the server's published keys satisfy `done`.
async fn until_keys(server: &Spawned, done: impl Fn(&[TrustedKey]) -> bool) -> Vec<TrustedKey> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let keys = public_keys(server).await;
        if done(&keys) {
            return keys;
        }
        assert!(
            Instant::now() < deadline,
            "the running server did not take the keys: {keys:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The key id a code was signed with.
fn key_of(code: &str, keys: &[TrustedKey]) -> u16 {
    Verifier::new(keys).verify(&format!("/q/{code}")).unwrap().key_id
}

#[tokio::test]
async fn the_secret_is_in_a_file_only_the_server_reads_and_never_in_the_database() {
    let mut server = Spawned::start("");
    let file = key_file(&server, 1);
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let dir = file.parent().unwrap();
    assert_eq!(std::fs::metadata(dir).unwrap().permissions().mode() & 0o777, 0o700);
    let secret = secret(&server, 1);
    assert_eq!(secret.len(), 32);
    server.interrupt();
    assert!(server.exited().success());
    assert!(
        !holds(&database_bytes(&server), &secret),
        "the database holds the secret"
    );

    // A key directory left behind, or opened to others, stops the start with what to do.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(start_fails(&server).contains("chmod 600"));
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let aside = file.with_extension("aside");
    std::fs::rename(&file, &aside).unwrap();
    let said = start_fails(&server);
    assert!(said.contains("1.key") && said.contains("keys revoke 1"), "{said}");
    std::fs::rename(&aside, &file).unwrap();
    server.restart("");
}

#[tokio::test]
async fn a_database_that_kept_the_secret_hands_it_to_the_key_directory_and_forgets_it() {
    let mut server = Spawned::start("");
    server.interrupt();
    assert!(server.exited().success());
    // As a database from before key files (migration 0011 set the secret aside to be moved): no file yet.
    let secret = secret(&server, 1);
    std::fs::remove_file(key_file(&server, 1)).unwrap();
    {
        let db = rusqlite::Connection::open(server.database()).unwrap();
        db.execute(
            "INSERT INTO signing_key_secrets_to_move (key_id, secret_key) VALUES (1, ?)",
            [&secret],
        )
        .unwrap();
    }
    server.restart("");
    server.interrupt();
    assert!(server.exited().success());
    assert_eq!(self::secret(&server, 1), secret);
    assert_eq!(
        std::fs::metadata(key_file(&server, 1)).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        !holds(&database_bytes(&server), &secret),
        "the database still holds the secret"
    );
}

#[tokio::test]
async fn a_rotated_key_signs_from_then_on_and_a_revoked_one_is_refused_with_its_reason() {
    let server = Spawned::start("");
    let mut member = Phone::sign_in(&server, "GH-M01").await;
    let mut other = Phone::sign_in(&server, "GH-M02").await;
    let secretary = Phone::sign_in(&server, "GH-S01").await;
    member.sync().await;
    let (running, _, _) = member.activities();
    let before = secretary.code(&running).await;
    assert_eq!(key_of(&before, &public_keys(&server).await), 1);

    let (ok, said) = run(&server, &["keys", "rotate"]);
    assert!(ok && said.contains("made signing key 2"), "{said}");
    let keys = until_keys(&server, |keys| keys.len() == 2).await;
    let after = secretary.code(&running).await;
    assert_eq!(key_of(&after, &keys), 2, "the new key signs");

    // A code signed before the rotation still counts; the phone learns the new key in its next pull.
    member.check_in(&before);
    member.sync().await;
    assert_eq!(member.refusals(), []);
    assert!(
        member.records.contains_key("key:2"),
        "the member's phone learnt the new key"
    );

    let (ok, said) = run(&server, &["keys", "revoke", "1"]);
    assert!(ok && said.contains("revoked signing key 1"), "{said}");
    until_keys(&server, |keys| keys.iter().any(|key| key.key_id == 1 && key.revoked)).await;
    other.check_in(&before);
    other.check_in(&after);
    other.sync().await;
    let refused: Vec<Rejection> = other.refusals().into_iter().map(|(_, reason)| reason).collect();
    assert_eq!(
        refused,
        [Rejection::Code(CodeError::Revoked)],
        "only the code of the revoked key"
    );
    assert!(
        matches!(other.records.get("key:1"), Some(Record::Key(key)) if key.revoked),
        "the phone learnt of the revocation"
    );

    let (ok, listed) = run(&server, &["keys", "list"]);
    assert!(ok, "{listed}");
    let rows: Vec<&str> = listed.lines().skip(1).collect();
    assert!(rows[0].starts_with("1 ") && rows[0].ends_with("revoked"), "{listed}");
    assert!(rows[1].starts_with("2 ") && rows[1].ends_with("signs"), "{listed}");
    let (ok, said) = run(&server, &["keys", "revoke", "9"]);
    assert!(!ok && said.contains("no signing key 9"), "{said}");
}

#[tokio::test]
async fn revoking_the_key_that_signs_makes_a_new_one() {
    let server = Spawned::start("");
    let (ok, said) = run(&server, &["keys", "revoke", "1"]);
    assert!(ok && said.contains("made signing key 2"), "{said}");
    let keys = until_keys(&server, |keys| keys.len() == 2).await;
    assert!(keys[0].revoked && !keys[1].revoked);
    let secretary = Phone::sign_in(&server, "GH-S01").await;
    let mut member = Phone::sign_in(&server, "GH-M01").await;
    member.sync().await;
    let (running, _, _) = member.activities();
    assert_eq!(key_of(&secretary.code(&running).await, &keys), 2);
}
