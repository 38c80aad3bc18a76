//! No write lost or applied twice, against the real binary: a phone running the core engine (`phone.rs`) syncs
//! with a `guihai-server` process that crashes after a commit, fails before one, is restored from a backup, or
//! refuses a forged code. After each, the SQLite file is read directly and the member's other phone pulls.

use std::path::Path;

use guihai_core::engine::{backoff_ms, Reply, Step};
use guihai_core::qr::CodeError;
use guihai_core::sync::{Mutation, Op, Outcome, PushResponse, Record, Rejection};
use guihai_core::Id;
use guihai_server::faults::EXIT_AFTER_COMMIT_STATUS;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, SqliteConnection};

use crate::forged;
use crate::phone::{Phone, JITTER};
use crate::spawned::Spawned;

/// A member of the Hangzhou committee, whose secretary is `SECRETARY`.
const MEMBER: &str = "GH-M01";
const SECRETARY: &str = "GH-S01";

/// The secretary's phone, synced, and the check-in codes of their three activities (running, ended, upcoming),
/// got the way a secretary gets them.
async fn secretary_codes(server: &Spawned) -> (Phone, [String; 3]) {
    let mut secretary = Phone::sign_in(server, SECRETARY).await;
    assert_eq!(secretary.sync().await, Step::Done);
    let (running, ended, upcoming) = secretary.activities();
    let codes = [
        secretary.code(&running).await,
        secretary.code(&ended).await,
        secretary.code(&upcoming).await,
    ];
    (secretary, codes)
}

/// The secretary's phone and codes, and the member's phone with a first check-in (to the running activity)
/// already on the server.
async fn checked_in_once(server: &Spawned) -> (Phone, [String; 3], Phone, Id) {
    let (secretary, codes) = secretary_codes(server).await;
    let mut phone = Phone::sign_in(server, MEMBER).await;
    let first = phone.check_in(&codes[0]);
    assert_eq!(phone.sync().await, Step::Done);
    (secretary, codes, phone, first)
}

/// What the server holds for `phone`, read from its database: the client's `last_seq`, the member's check-in
/// ids (sorted, one per row) and the refusals recorded for the client.
async fn on_the_server(database: &Path, phone: &Phone) -> (u64, Vec<String>, Vec<(u64, Rejection)>) {
    let options = SqliteConnectOptions::new().filename(database).read_only(true);
    let mut db = SqliteConnection::connect_with(&options).await.unwrap();
    let (last_seq,): (i64,) = sqlx::query_as("SELECT last_seq FROM clients WHERE client_id = ?")
        .bind(phone.client_id.to_string())
        .fetch_one(&mut db)
        .await
        .unwrap();
    let check_ins: Vec<(String,)> = sqlx::query_as("SELECT id FROM check_ins WHERE person_id = ? ORDER BY id")
        .bind(phone.me.id.to_string())
        .fetch_all(&mut db)
        .await
        .unwrap();
    let refused: Vec<(i64, String)> =
        sqlx::query_as("SELECT seq, reason FROM rejected_mutations WHERE client_id = ? ORDER BY seq")
            .bind(phone.client_id.to_string())
            .fetch_all(&mut db)
            .await
            .unwrap();
    (
        last_seq as u64,
        check_ins.into_iter().map(|(id,)| id).collect(),
        refused
            .into_iter()
            .map(|(seq, reason)| (seq as u64, serde_json::from_str(&reason).unwrap()))
            .collect(),
    )
}

fn sorted(ids: &[Id]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(Id::to_string).collect();
    ids.sort();
    ids
}

/// The phone's outbox is empty, the server has settled every number it handed out, the member has exactly
/// `check_ins` on the server, one row each, and their other phone, signing in afresh, pulls exactly those.
async fn assert_landed_exactly_once(server: &Spawned, phone: &Phone, check_ins: &[Id]) {
    assert!(phone.outbox.is_empty(), "the outbox drained: {:?}", phone.outbox);
    assert_eq!(phone.meta.acked_seq, phone.meta.last_seq);
    let (last_seq, on_server, _) = on_the_server(&server.database(), phone).await;
    assert_eq!(
        last_seq, phone.meta.last_seq,
        "every number the phone handed out is settled"
    );
    assert_eq!(on_server, sorted(check_ins), "each check-in is on the server once");

    let mut other = Phone::sign_in(server, MEMBER).await;
    assert_eq!(other.sync().await, Step::Done);
    let pulled: Vec<Id> = other
        .records
        .values()
        .filter_map(|record| match record {
            Record::CheckIn(check_in) => Some(check_in.id),
            _ => None,
        })
        .collect();
    assert_eq!(
        sorted(&pulled),
        sorted(check_ins),
        "the member's other phone sees each once"
    );
}

/// The numbers of a push and what became of each.
fn seqs_and_outcomes((sent, answer): &(Vec<Mutation>, Reply<PushResponse>)) -> (Vec<u64>, Vec<Outcome>) {
    let Reply::Ok(response) = answer else {
        panic!("the push failed: {answer:?}")
    };
    (
        sent.iter().map(|m| m.seq).collect(),
        response.results.iter().map(|r| r.outcome.clone()).collect(),
    )
}

#[tokio::test]
async fn a_push_whose_answer_died_with_the_server_is_resent_after_a_restart_and_lands_once() {
    let mut server = Spawned::start("exit-after-commit:push:2");
    let (secretary, [_, ended, upcoming], mut phone, first) = checked_in_once(&server).await;

    // A forged code (the server judges every code again, whatever the phone thought of it) and two good ones:
    // the server commits that push and dies before it answers.
    phone.check_in(&forged(&secretary.activities().0, phone.keys[0].key_id));
    let later = [phone.check_in(&ended), phone.check_in(&upcoming)];
    assert_eq!(phone.sync().await, Step::RetryIn(backoff_ms(1, JITTER)));
    assert_eq!(server.exited().code(), Some(EXIT_AFTER_COMMIT_STATUS));
    assert_eq!(phone.outbox.len(), 3, "nothing is dropped without an answer");

    server.restart("");
    assert_eq!(phone.sync().await, Step::Done);
    let refusal = Rejection::Code(CodeError::Forged);
    assert_eq!(
        seqs_and_outcomes(phone.pushes.last().unwrap()),
        (
            vec![2, 3, 4],
            vec![
                Outcome::Rejected { reason: refusal },
                Outcome::Duplicate,
                Outcome::Duplicate
            ]
        ),
        "the resent push is recognised, and the refusal told again"
    );
    assert_eq!(
        phone.refusals(),
        [(2, refusal)],
        "the phone keeps it to show the member why"
    );
    assert_landed_exactly_once(&server, &phone, &[first, later[0], later[1]]).await;
    let (_, _, on_server) = on_the_server(&server.database(), &phone).await;
    assert_eq!(on_server, [(2, refusal)], "the refusal is recorded once");
}

#[tokio::test]
async fn a_push_that_fails_before_its_commit_changes_nothing_and_lands_on_a_later_round() {
    let server = Spawned::start("fail-before-commit:push:1,fail-before-commit:push:2");
    let (_, [running, ended, _]) = secretary_codes(&server).await;
    let mut phone = Phone::sign_in(&server, MEMBER).await;
    let check_ins = [phone.check_in(&running), phone.check_in(&ended)];
    assert!(server.log().contains("TEST FAULT ARMED"), "armed faults are announced");

    for failures in 1..=2 {
        assert_eq!(
            phone.sync().await,
            Step::RetryIn(backoff_ms(failures, JITTER)),
            "backs off further"
        );
        assert_eq!(
            on_the_server(&server.database(), &phone).await,
            (0, Vec::new(), Vec::new()),
            "nothing advanced on the server"
        );
        assert_eq!((phone.outbox.len(), phone.meta.acked_seq), (2, 0), "nor on the phone");
    }
    assert_eq!(phone.sync().await, Step::Done);
    assert_eq!(phone.meta.failures, 0);
    assert_landed_exactly_once(&server, &phone, &check_ins).await;
}

#[tokio::test]
async fn a_write_that_no_longer_reads_back_takes_no_number_and_the_rest_lands_once() {
    let server = Spawned::start("");
    let (_, [_, ended, upcoming], mut phone, first) = checked_in_once(&server).await;
    phone.check_in(&ended);
    phone.damage_latest_write();
    let later = phone.check_in(&upcoming);
    assert_eq!(phone.sync().await, Step::Done);
    let (sent, answer) = phone.pushes.last().unwrap();
    let seqs: Vec<(u64, bool)> = sent.iter().map(|m| (m.seq, m.op == Op::Skip)).collect();
    assert_eq!(
        seqs,
        [(2, false)],
        "the damaged write took no number, and nothing went as a skip"
    );
    assert!(
        matches!(answer, Reply::Ok(PushResponse { last_seq: 2, .. })),
        "{answer:?}"
    );
    assert_eq!(phone.damaged.len(), 1, "it is kept aside on the phone");
    assert_eq!(phone.meta.waiting, 0);
    assert_landed_exactly_once(&server, &phone, &[first, later]).await;
}

/// Ctrl-C, as before a backup or a restore: the server stops and leaves the whole database in its one file.
fn stop_cleanly(server: &mut Spawned) {
    server.interrupt();
    assert!(server.exited().success());
    let log = std::fs::metadata(server.database().with_extension("db-wal"));
    assert_eq!(
        log.map_or(0, |log| log.len()),
        0,
        "the write-ahead log was folded into the database"
    );
}

#[tokio::test]
async fn a_server_restored_from_a_backup_answers_409_and_gets_what_the_phone_still_holds_once() {
    let mut server = Spawned::start("");
    let (_, [_, ended, upcoming], mut phone, first) = checked_in_once(&server).await;
    stop_cleanly(&mut server);
    let backup = server.dir.path().join("backup.db");
    std::fs::copy(server.database(), &backup).unwrap();
    server.restart("");

    // Settled after the backup was taken, so the phone has let it go: restoring the backup loses it.
    phone.check_in(&ended);
    assert_eq!(phone.sync().await, Step::Done);
    let kept = phone.check_in(&upcoming);
    stop_cleanly(&mut server);
    std::fs::copy(&backup, server.database()).unwrap();
    server.restart("");

    assert_eq!(phone.sync().await, Step::Done);
    let wire: Vec<(Vec<u64>, bool)> = phone.pushes[2..]
        .iter()
        .map(|(sent, answer)| {
            (
                sent.iter().map(|m| m.seq).collect(),
                matches!(answer, Reply::Gap { last_seq: 1 }),
            )
        })
        .collect();
    assert_eq!(
        wire,
        [(vec![3], true), (vec![2, 3], false)],
        "409, then sent again from just after the server's last_seq"
    );
    assert_landed_exactly_once(&server, &phone, &[first, kept]).await;
}

#[tokio::test]
async fn a_forged_check_in_is_refused_with_its_reason_and_the_good_ones_behind_it_land() {
    let server = Spawned::start("");
    let (secretary, [running, ended, _]) = secretary_codes(&server).await;
    let mut phone = Phone::sign_in(&server, MEMBER).await;
    phone.check_in(&forged(&secretary.activities().0, phone.keys[0].key_id));
    let good = [phone.check_in(&running), phone.check_in(&ended)];

    assert_eq!(phone.sync().await, Step::Done);
    let refusal = Rejection::Code(CodeError::Forged);
    assert_eq!(
        seqs_and_outcomes(&phone.pushes[0]),
        (
            vec![1, 2, 3],
            vec![
                Outcome::Rejected { reason: refusal },
                Outcome::Applied,
                Outcome::Applied
            ]
        )
    );
    assert_eq!(
        phone.refusals(),
        [(1, refusal)],
        "the phone keeps it to show the member why"
    );
    assert_landed_exactly_once(&server, &phone, &good).await;
    let (_, _, on_server) = on_the_server(&server.database(), &phone).await;
    assert_eq!(on_server, [(1, refusal)]);
}

#[tokio::test]
async fn after_a_long_silence_the_phone_signs_in_again_and_its_writes_still_go_out_once() {
    let server = Spawned::start_with("", &["--session-idle-days", "30"]);
    let (_secretary, codes) = secretary_codes(&server).await;
    let mut phone = Phone::sign_in(&server, MEMBER).await;
    assert_eq!(phone.sync().await, Step::Done);
    let check_in = phone.check_in(&codes[0]);

    // Thirty-one days without a word from this phone (moved back in its database).
    let options = SqliteConnectOptions::new().filename(server.database());
    let mut db = SqliteConnection::connect_with(&options).await.unwrap();
    sqlx::query("UPDATE sessions SET last_seen_at = last_seen_at - 31 * 86400000")
        .execute(&mut db)
        .await
        .unwrap();
    db.close().await.unwrap();

    // Signed out, not revoked: the phone keeps its write and asks to sign in again.
    assert_eq!(phone.sync().await, Step::SignIn);
    assert_eq!(phone.outbox.len(), 1);
    assert!(phone
        .pushes
        .last()
        .is_some_and(|(_, reply)| *reply == Reply::Unauthorized));
    assert_eq!(phone.sign_in_again(MEMBER).await, Step::Done);
    assert_eq!(phone.outbox.len(), 0);
    let (_, check_ins, refusals) = on_the_server(&server.database(), &phone).await;
    assert_eq!(check_ins, [check_in.to_string()]);
    assert!(refusals.is_empty());
}
