//! In-browser tests of the phone's store against the real IndexedDB of headless Chromium: a check-in is one
//! transaction and found again by its activity, numbering is lazy and in row order, settling keeps refusals,
//! an entry that no longer reads back is set aside (never numbered, never a skip), a waiting code is sent back
//! byte for byte, and the localStorage build's data moves in once.

#[path = "support/legacy_build.rs"]
mod legacy_build;

use ed25519_dalek::SigningKey;
use gloo_storage::{LocalStorage, Storage};
use guihai::store::checkins::{self, Scanned};
use guihai::store::{cache, outbox, records, StoreError};
use guihai_core::checkin::{CheckIn, PendingCheckIn};
use guihai_core::domain::{Activity, ActivityKind, Me, OrgKind, OrgRef, Role};
use guihai_core::engine::{Reply, Round, Settled, Step};
use guihai_core::qr::{
    encode_public_key, signature_of, Code, CodeError, CodeSignature, DoorCertificate, Subject, TrustedKey,
};
use guihai_core::report::OrgCodeSince;
use guihai_core::sync::{
    Change, Mutation, MutationResult, Op, Outcome, PullResponse, PushResponse, Record, Rejection, SessionResponse,
    FEW_CODES, FIRST_PUSH_BATCH,
};
use guihai_core::Id;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/support/idb.js")]
extern "C" {
    #[wasm_bindgen(js_name = clearAll)]
    async fn clear_all();
    #[wasm_bindgen(js_name = putRaw)]
    async fn put_raw(store: &str, key: JsValue, value: JsValue);
    #[wasm_bindgen(js_name = getRaw)]
    async fn get_raw(store: &str, key: JsValue) -> JsValue;
    async fn count(store: &str) -> JsValue;
    #[wasm_bindgen(js_name = hideGetAllRecords)]
    fn hide_get_all_records(hidden: bool);
}

/// An empty store, opened.
async fn fresh() {
    guihai::store::open().await.expect("the store opens");
    clear_all().await;
    cache::reload().await.unwrap();
}

async fn stored(store: &str) -> u32 {
    count(store).await.as_f64().unwrap() as u32
}

fn id(n: u8) -> Id {
    Id::new_v7(1_700_000_000_000 + u64::from(n), [n; 10])
}

const ORG: u8 = 200;
const NOW_SECS: u32 = 1_800_000_000;

fn signing_key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

/// The signed code of activity `n`, as its organisation's secretary shows it.
fn code(n: u8, title: &str) -> (Code, String) {
    let code = Code {
        subject: Subject::Activity {
            activity_id: id(n),
            org_id: id(ORG),
        },
        key_id: 1,
        valid_from: NOW_SECS - 3_600,
        valid_until: NOW_SECS + 3_600,
        name: title.to_owned(),
        detail: "灌南县驻杭州流动党委".to_owned(),
        door: None,
    };
    let payload = code.sign(&signing_key());
    (code, payload)
}

async fn check_in(n: u8, title: &str, at: i64) -> Scanned {
    let (code, payload) = code(n, title);
    checkins::check_in((id(n), id(ORG)), &payload, || Ok(code), id(100 + n), at, false)
        .await
        .expect("stored")
}

fn waiting() -> u64 {
    cache::with(|c| c.waiting())
}

async fn numbered_head() -> Vec<(u64, Op)> {
    let (_, head, _) = outbox::head(FIRST_PUSH_BATCH, None, false).await.unwrap();
    sent(head)
}

/// `count` check-ins, to activities 1 and on, on an empty store.
async fn checked_in(count: u8) {
    fresh().await;
    for n in 1..=count {
        check_in(n, "学习会", i64::from(n)).await;
    }
}

/// The head of at most `limit` that the sync round pushes, with the round pushing it.
async fn pushing(limit: usize) -> (Round, Vec<Mutation>, outbox::Front) {
    let (meta, head, front) = outbox::head(limit, None, false).await.unwrap();
    let mut round = Round::new();
    assert!(matches!(round.next(&meta, &head), Step::Push(_)));
    (round, head, front)
}

/// Pushes the head of the outbox, as the sync round does, and takes `answer` to it.
async fn push_answered(answer: Reply<PushResponse>) {
    let (mut round, head, front) = pushing(FIRST_PUSH_BATCH).await;
    outbox::after_push(&mut round, answer, 0.0, head.len(), &front)
        .await
        .unwrap();
}

fn check_in_op(n: u8, title: &str) -> Op {
    Op::CheckIn {
        id: id(100 + n),
        code: code(n, title).1,
    }
}

#[wasm_bindgen_test]
async fn a_check_in_is_one_write_and_found_again_by_its_activity() {
    fresh().await;
    assert!(matches!(check_in(1, "学习会", 1_000).await, Scanned::New(_)));
    assert_eq!(waiting(), 1);
    let Scanned::Already(again) = check_in(1, "学习会", 2_000).await else {
        panic!("the second scan finds the first")
    };
    assert_eq!((again.title.as_str(), again.scanned_at), ("学习会", 1_000));
    assert!(matches!(check_in(2, "主题党日", 3_000).await, Scanned::New(_)));
    assert_eq!(waiting(), 2, "a kept count");
    assert_eq!((stored("outbox").await, stored("activities").await), (2, 2));
}

#[wasm_bindgen_test]
async fn a_code_that_fails_its_check_stores_nothing() {
    fresh().await;
    let (_, payload) = code(1, "学习会");
    let refused = checkins::check_in(
        (id(1), id(ORG)),
        &payload,
        || Err(CodeError::Forged),
        id(101),
        1_000,
        false,
    )
    .await
    .expect("nothing to store is no failure");
    assert_eq!(refused, Scanned::Refused(CodeError::Forged));
    assert_eq!(
        (stored("outbox").await, stored("activities").await, waiting()),
        (0, 0, 0)
    );
    // A code of another activity than it claimed (it cannot be, as the claim is read from it) is not stored.
    let (other, _) = code(2, "主题党日");
    let wrong = checkins::check_in((id(1), id(ORG)), &payload, || Ok(other), id(101), 1_000, false).await;
    assert!(wrong.is_err());
    assert_eq!(stored("outbox").await, 0);
}

#[wasm_bindgen_test]
async fn a_rehearsed_check_in_goes_all_the_way_and_keeps_nothing() {
    fresh().await;
    check_in(1, "学习会", 1_000).await;
    let (payload, verifier) = guihai_core::qr::door::rehearsal();
    let code = verifier
        .verify(&format!("{}{payload}", guihai_core::qr::LINK_PATH))
        .unwrap();
    let Subject::Activity { activity_id, org_id } = code.subject else {
        panic!("the rehearsal is an activity's code")
    };
    let rehearsed = checkins::check_in((activity_id, org_id), payload, || Ok(code), id(102), 2_000, true).await;
    let Ok(Scanned::New(read_back)) = rehearsed else {
        panic!("the rehearsal reads back what it wrote: {rehearsed:?}")
    };
    assert_eq!(read_back.scanned_at, 2_000);
    assert_eq!(
        (stored("outbox").await, stored("activities").await, waiting()),
        (1, 1, 1),
        "undone: only the real check-in is kept"
    );
    check_in(2, "主题党日", 3_000).await;
    assert_eq!(
        numbered_head().await,
        [(1, check_in_op(1, "学习会")), (2, check_in_op(2, "主题党日"))],
        "and the next real one is numbered as if nothing had happened"
    );
}

#[wasm_bindgen_test]
async fn writes_are_numbered_only_by_the_syncing_tab_in_row_order_and_sent_byte_for_byte() {
    fresh().await;
    check_in(1, "学习会", 1_000).await;
    check_in(2, "主题党日", 900).await;
    assert_eq!(
        numbered_head().await,
        [(1, check_in_op(1, "学习会")), (2, check_in_op(2, "主题党日"))],
        "in the order they were stored, whatever their clocks said"
    );
    check_in(3, "党课", 800).await;
    check_in(4, "培训", 700).await;
    let (_, head, _) = outbox::head(3, None, false).await.unwrap();
    assert_eq!(
        head.iter().map(|m| m.seq).collect::<Vec<_>>(),
        [1, 2, 3],
        "numbers are kept; new rows are numbered as far as the push goes"
    );
    assert_eq!(cache::with(|c| (c.meta.last_seq, c.meta.numbered_row)), (3, 3));
    assert_eq!(waiting(), 4, "numbered or not, all four wait");
    let head = numbered_head().await;
    assert_eq!(head.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
}

/// A check-in to activity `n` by the rotating code a secretary's phone signs at the door; its code as scanned.
async fn door_check_in(n: u8, at: i64) -> String {
    let door_key = SigningKey::from_bytes(&[9; 32]);
    let certificate = DoorCertificate::certify(
        &signing_key(),
        1,
        id(ORG),
        door_key.verifying_key().as_bytes(),
        NOW_SECS + 86_400,
    );
    let payload = certificate
        .sign_code(&door_key, id(n), NOW_SECS, "主题党日", "灌南县驻杭州流动党委")
        .unwrap();
    let code = guihai_core::qr::read_unverified(&payload).unwrap();
    assert!(code.door.is_some());
    checkins::check_in((id(n), id(ORG)), &payload, || Ok(code), id(100 + n), at, false)
        .await
        .unwrap();
    payload
}

#[wasm_bindgen_test]
async fn a_door_code_check_in_waits_with_its_signer_and_is_sent_byte_for_byte() {
    fresh().await;
    check_in(1, "学习会", 1_000).await;
    let payload = door_check_in(2, 2_000).await;
    assert_eq!(
        numbered_head().await,
        [
            (1, check_in_op(1, "学习会")),
            (
                2,
                Op::CheckIn {
                    id: id(102),
                    code: payload
                }
            )
        ],
        "a server-signed code and a door code, each as scanned"
    );
}

#[wasm_bindgen_test]
async fn settling_keeps_the_member_s_check_ins_and_the_refusals() {
    checked_in(3).await;
    let results = vec![
        MutationResult {
            seq: 1,
            outcome: Outcome::Rejected {
                reason: Rejection::Forbidden,
            },
        },
        MutationResult {
            seq: 2,
            outcome: Outcome::Applied,
        },
    ];
    push_answered(Reply::Ok(PushResponse { last_seq: 2, results })).await;

    assert_eq!(waiting(), 1);
    assert_eq!(
        (
            stored("outbox").await,
            stored("checkins").await,
            stored("refused").await
        ),
        (2, 0, 1),
        "the synced check-in stays in the outbox, written nowhere else, until a pull brings it back"
    );
    let refused = cache::with(|c| c.refused.clone());
    assert_eq!((refused[0].mutation.seq, refused[0].reason), (1, Rejection::Forbidden));
    assert_eq!(refused[0].mutation.op, check_in_op(1, "学习会"), "kept as it was sent");
    assert!(
        matches!(check_in(1, "学习会", 10).await, Scanned::New(_)),
        "a refused check-in may be made again"
    );
    assert!(matches!(check_in(2, "学习会", 10).await, Scanned::Already(_)));
    let (rows, more) = checkins::newest(10).await.unwrap();
    let states: Vec<_> = rows.iter().map(|r| (r.id, r.state)).collect();
    use guihai_core::checkin::RowState;
    assert_eq!(
        states,
        [
            (id(101), RowState::Waiting),
            (id(103), RowState::Waiting),
            (id(102), RowState::Synced),
            (id(101), RowState::Refused(Rejection::Forbidden)),
        ]
    );
    assert!(!more);

    // A pull of two pages: the first leaves it where it is; the last, which has brought it back, forgets it.
    let mut round = Round::new();
    let first = records::after_pull(&mut round, pull_page(vec![], true), 0, 0.0, None)
        .await
        .unwrap();
    assert_eq!(stored("outbox").await, 3);
    let back = Change::Upsert {
        record: Record::CheckIn(pulled_check_in(102, 2)),
    };
    records::after_pull(&mut round, pull_page(vec![back], false), 0, 0.0, Some(first))
        .await
        .unwrap();
    assert_eq!(
        (stored("outbox").await, stored("checkins").await, waiting()),
        (2, 1, 2),
        "the two waiting stay"
    );
    let (again, _) = checkins::newest(10).await.unwrap();
    assert_eq!(again.iter().map(|r| (r.id, r.state)).collect::<Vec<_>>(), states);
}

/// The server's record of the member's check-in `id` at activity `n`.
fn pulled_check_in(id_n: u8, n: u8) -> CheckIn {
    CheckIn {
        id: id(id_n),
        member_id: me().id,
        activity_id: id(n),
        org_id: id(ORG),
        title: "学习会".into(),
        org_name: "灌南县驻杭州流动党委".into(),
        kind: ActivityKind::Study,
        scanned_at: i64::from(n),
        received_at: 5,
        flag: None,
        hours_tenths: None,
    }
}

/// Settling from the head (`outbox::Front`) ends where reading the rows again ends.
#[wasm_bindgen_test]
async fn a_push_of_check_ins_all_taken_settles_from_its_head_as_reading_its_rows_would() {
    let mut ends = Vec::new();
    for from_head in [true, false] {
        checked_in(3).await;
        let (mut round, head, front) = pushing(2).await;
        let front = if from_head { front } else { outbox::Front::default() };
        outbox::after_push(&mut round, all_applied(1..=2), 0.0, head.len(), &front)
            .await
            .unwrap();
        ends.push((cache::with(|c| c.meta.clone()), waiting(), stored("outbox").await));
    }
    assert_eq!(ends[0], ends[1]);
    let (meta, waiting, kept) = &ends[0];
    assert_eq!((meta.synced_row, meta.acked_seq, *waiting, *kept), (2, 2, 1, 3));
}

/// The head of the outbox as the sync round reads it: each mutation's number and write.
fn sent(head: Vec<Mutation>) -> Vec<(u64, Op)> {
    head.into_iter().map(|m| (m.seq, m.op)).collect()
}

fn all_applied(seqs: std::ops::RangeInclusive<u64>) -> Reply<PushResponse> {
    Reply::Ok(PushResponse {
        last_seq: *seqs.end(),
        results: seqs
            .map(|seq| MutationResult {
                seq,
                outcome: Outcome::Applied,
            })
            .collect(),
    })
}

/// The sync round reads the rows after a push while it is out (`outbox::read_ahead`), and the next head numbers
/// and sends them without reading them again; a check-in another tab writes meanwhile comes after them, in the
/// push after. Every write goes once, numbered in row order, as when the head reads them itself; a push that
/// did not settle its head leaves the rows read ahead unused. The push the rows read ahead make (encoded while
/// the push is out, `ReadAhead::next_push`) is the next head's when the push settled it all, and not otherwise.
#[wasm_bindgen_test]
async fn rows_read_ahead_while_a_push_is_out_go_next_once_each_in_order() {
    let ops = |ns: std::ops::RangeInclusive<u8>| -> Vec<(u64, Op)> {
        ns.map(|n| (u64::from(n), check_in_op(n, "学习会"))).collect()
    };
    for (read_ahead, answered) in [(true, true), (false, true), (true, false)] {
        checked_in(4).await;
        let (mut round, head, front) = pushing(2).await;
        let ahead = match read_ahead {
            true => Some(
                outbox::read_ahead(&front, 8, false)
                    .await
                    .expect("rows 3 and 4 read ahead"),
            ),
            false => None,
        };
        // Another tab's check-in while the push is out.
        check_in(5, "学习会", 5).await;
        let answer = match answered {
            true => all_applied(1..=2),
            false => Reply::Failed,
        };
        outbox::after_push(&mut round, answer, 0.0, head.len(), &front)
            .await
            .unwrap();
        let predicted = ahead.as_ref().and_then(|ahead| ahead.next_push(&front, false));
        assert_eq!(predicted.is_some(), read_ahead);
        let (_, next, _) = outbox::head(8, ahead, false).await.unwrap();
        if let Some(predicted) = predicted {
            assert_eq!(predicted == next, answered, "answered {answered}");
        }
        let expected = match (read_ahead, answered) {
            (true, true) => ops(3..=4),
            (false, true) => ops(3..=5),
            (_, false) => ops(1..=5),
        };
        assert_eq!(sent(next), expected, "read ahead {read_ahead}, answered {answered}");
        let (_, again, _) = outbox::head(8, None, false).await.unwrap();
        let first = if answered { 3 } else { 1 };
        assert_eq!(
            sent(again),
            ops(first..=5),
            "the check-in written meanwhile follows, once"
        );
    }
}

/// A head of more than `sync::FEW_CODES` names each code the server issued by its signature alone; a door code,
/// which the server never issued, goes whole. Asked for them whole (`in_full`), the same head goes whole, also
/// from rows read ahead for a compact push (whose activities were not read).
#[wasm_bindgen_test]
async fn a_big_head_names_the_servers_codes_by_their_signature_and_goes_whole_when_asked() {
    let many = FEW_CODES as u8 + 2;
    let door = many + 1;
    let named = |n: u8| Op::CheckInIssued {
        id: id(100 + n),
        signature: CodeSignature(signature_of(&code(n, "学习会").1).unwrap()),
    };
    let expected = |compact: bool, payload: &str, ns: std::ops::RangeInclusive<u8>| -> Vec<(u64, Op)> {
        let door_op = Op::CheckIn {
            id: id(100 + door),
            code: payload.to_owned(),
        };
        ns.map(|n| {
            let op = match (n == door, compact) {
                (true, _) => door_op.clone(),
                (false, true) => named(n),
                (false, false) => check_in_op(n, "学习会"),
            };
            (u64::from(n), op)
        })
        .collect()
    };
    for in_full in [false, true] {
        checked_in(many).await;
        let payload = door_check_in(door, 10_000).await;
        let (_, head, _) = outbox::head(FIRST_PUSH_BATCH, None, in_full).await.unwrap();
        assert_eq!(sent(head), expected(!in_full, &payload, 1..=door), "in full: {in_full}");
    }

    checked_in(many).await;
    let payload = door_check_in(door, 10_000).await;
    let (mut round, head, front) = pushing(1).await;
    assert_eq!(sent(head), expected(false, &payload, 1..=1), "a head of few goes whole");
    let ahead = outbox::read_ahead(&front, FIRST_PUSH_BATCH, false).await;
    let read = ahead.as_ref().expect("the rows after the first");
    assert!(read.next_push(&front, false).is_some(), "a compact push, read ahead");
    assert!(
        read.next_push(&front, true).is_none(),
        "asked for codes whole: their facts were not read"
    );
    outbox::after_push(&mut round, all_applied(1..=1), 0.0, 1, &front)
        .await
        .unwrap();
    let (_, next, _) = outbox::head(FIRST_PUSH_BATCH, ahead, true).await.unwrap();
    assert_eq!(sent(next), expected(false, &payload, 2..=door));
}

/// Rows read ahead of a member who signs out before the next head: nothing of them goes with the next
/// member's pushes (the bookkeeping starts over, so they no longer follow the last numbered row).
#[wasm_bindgen_test]
async fn rows_read_ahead_before_a_sign_out_are_not_sent_after_it() {
    checked_in(3).await;
    let (_, _, front) = pushing(1).await;
    let ahead = outbox::read_ahead(&front, 4, false).await;
    assert!(ahead.is_some());
    guihai::store::wipe().await.unwrap();
    // The next member's first check-in on this phone.
    check_in(7, "学习会", 7).await;
    let (_, next, _) = outbox::head(4, ahead, false).await.unwrap();
    assert_eq!(sent(next), [(1, check_in_op(7, "学习会"))]);
}

/// A waiting check-in read ahead, whose activity is renamed before the next head: the row takes its own copy of
/// the code's texts meanwhile, and the head built from the rows and activities read ahead (of one moment) still
/// sends the code as it was scanned.
#[wasm_bindgen_test]
async fn a_code_read_ahead_is_sent_as_scanned_though_its_activity_is_renamed_meanwhile() {
    fresh().await;
    let known = |n| Change::Upsert {
        record: Record::Activity(activity(n, "学习会")),
    };
    pull(vec![known(1), known(2)]).await;
    for n in 1..=2 {
        check_in(n, "学习会", i64::from(n)).await;
    }
    let (mut round, head, front) = pushing(1).await;
    let ahead = outbox::read_ahead(&front, 4, false).await;
    assert!(ahead.is_some());
    pull(vec![Change::Upsert {
        record: Record::Activity(activity(2, "改名后的学习会")),
    }])
    .await;
    outbox::after_push(&mut round, all_applied(1..=1), 0.0, head.len(), &front)
        .await
        .unwrap();
    let (_, next, _) = outbox::head(4, ahead, false).await.unwrap();
    assert_eq!(sent(next), [(2, check_in_op(2, "学习会"))]);
}

#[wasm_bindgen_test]
async fn a_synced_check_in_the_server_takes_away_before_the_pull_brings_it_back_leaves_the_phone() {
    fresh().await;
    check_in(1, "学习会", 1).await;
    check_in(2, "学习会", 2).await;
    let applied = |seq| MutationResult {
        seq,
        outcome: Outcome::Applied,
    };
    push_answered(Reply::Ok(PushResponse {
        last_seq: 2,
        results: vec![applied(1), applied(2)],
    }))
    .await;
    assert_eq!((stored("outbox").await, waiting()), (2, 0));
    // A secretary removed check-in 101 before this phone pulled: the first page says so; the next brings 102.
    let mut round = Round::new();
    let removed = Change::Delete {
        key: format!("checkin:{}", id(101)),
    };
    let first = records::after_pull(&mut round, pull_page(vec![removed], true), 0, 0.0, None)
        .await
        .unwrap();
    let listed = || async {
        checkins::newest(10)
            .await
            .unwrap()
            .0
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(listed().await, [id(102)], "gone at once, not when the pull ends");
    let back = Change::Upsert {
        record: Record::CheckIn(pulled_check_in(102, 2)),
    };
    records::after_pull(&mut round, pull_page(vec![back], false), 0, 0.0, Some(first))
        .await
        .unwrap();
    assert_eq!(listed().await, [id(102)]);
    assert!(
        matches!(check_in(1, "学习会", 3).await, Scanned::New(_)),
        "the member may check in there again"
    );
    assert_eq!((stored("outbox").await, stored("checkins").await), (1, 1));
}

/// Chromium reads a range's keys and values in one request (`getAllRecords`); other browsers ask for them apart,
/// and read the same rows in the same order.
#[wasm_bindgen_test]
async fn without_get_all_records_the_outbox_reads_the_same() {
    hide_get_all_records(true);
    fresh().await;
    check_in(1, "学习会", 1_000).await;
    outbox::enqueue_op(Op::Leave { stop_id: id(70) }, 1_100, None)
        .await
        .unwrap();
    check_in(2, "主题党日", 900).await;
    cache::reload().await.unwrap();
    let others = cache::with(|c| {
        c.others
            .iter()
            .map(|other| (other.row, other.queued.op.clone()))
            .collect::<Vec<_>>()
    });
    let head = numbered_head().await;
    hide_get_all_records(false);
    assert_eq!(
        others,
        [(2, Op::Leave { stop_id: id(70) })],
        "the other writes, from the index"
    );
    assert_eq!(
        head,
        [
            (1, check_in_op(1, "学习会")),
            (2, Op::Leave { stop_id: id(70) }),
            (3, check_in_op(2, "主题党日"))
        ],
        "every row, in row order"
    );
}

#[wasm_bindgen_test]
async fn an_entry_that_no_longer_reads_back_is_kept_aside_never_numbered_and_the_rest_syncs() {
    fresh().await;
    for n in 1..=2 {
        check_in(n, "学习会", i64::from(n)).await;
    }
    // Row 2 is overwritten with what no build could read (as a faulty build could leave it).
    put_raw("outbox", JsValue::from_f64(2.0), JsValue::from_str("garbage")).await;
    check_in(3, "党课", 3).await;
    assert_eq!(
        numbered_head().await,
        [(1, check_in_op(1, "学习会")), (2, check_in_op(3, "党课"))],
        "contiguous numbers, and no skip in its place"
    );
    assert_eq!(waiting(), 2);
    assert_eq!(cache::with(|c| c.damaged), 1, "counted");
    assert_eq!(
        outbox::damaged().await.unwrap(),
        ["\"garbage\""],
        "shown as it was stored"
    );
    let export = outbox::export().await.unwrap();
    assert_eq!(
        export["damaged"][0]["stored"], "\"garbage\"",
        "exported as it was stored"
    );
    assert_eq!(export["waiting"].as_array().unwrap().len(), 2);
}

/// A write numbered for a push that got no answer, then damaged: it is set aside as the unnumbered one is, and
/// its number goes as a skip, so that the writes after it are not held back behind it for ever.
#[wasm_bindgen_test]
async fn a_numbered_entry_that_no_longer_reads_back_is_set_aside_and_the_rest_syncs() {
    checked_in(3).await;
    assert_eq!(numbered_head().await.len(), 3, "numbered for a push that got no answer");
    put_raw("outbox", JsValue::from_f64(2.0), JsValue::from_str("garbage")).await;

    let (meta, head, _) = outbox::head(FIRST_PUSH_BATCH, None, false).await.unwrap();
    assert_eq!(
        sent(head.clone()),
        [(1, check_in_op(1, "学习会")), (3, check_in_op(3, "学习会"))]
    );
    let Step::Push(pushed) = Round::new().next(&meta, &head) else {
        panic!("a push")
    };
    assert_eq!(
        sent(pushed),
        [
            (1, check_in_op(1, "学习会")),
            (2, Op::Skip),
            (3, check_in_op(3, "学习会"))
        ],
        "its number as a skip"
    );
    assert_eq!(waiting(), 2);
    assert_eq!(cache::with(|c| c.damaged), 1, "counted");
    assert_eq!(outbox::damaged().await.unwrap(), ["\"garbage\""], "kept as stored");

    push_answered(all_applied(1..=3)).await;
    assert_eq!(waiting(), 0, "the rest synced");
    assert_eq!(numbered_head().await, []);
    assert_eq!(outbox::damaged().await.unwrap(), ["\"garbage\""], "still kept");
}

fn activity(n: u8, title: &str) -> Activity {
    Activity {
        id: id(n),
        org_id: id(ORG),
        title: title.to_owned(),
        kind: ActivityKind::Study,
        starts_at: 0,
        ends_at: 1,
        place: None,
        team: None,
        notes: None,
        open_to_visitors: true,
        hours_tenths: None,
    }
}

/// A page of a pull bringing `changes`.
fn pull_page(changes: Vec<Change>, has_more: bool) -> Reply<PullResponse> {
    Reply::Ok(PullResponse {
        cursor: 1,
        has_more,
        last_seq: 0,
        changes,
        server_time: 0,
    })
}

/// A whole pull of one page bringing `changes`.
async fn pull(changes: Vec<Change>) {
    records::after_pull(&mut Round::new(), pull_page(changes, false), 0, 0.0, None)
        .await
        .unwrap();
}

#[wasm_bindgen_test]
async fn many_activities_close_together_or_spread_are_read_at_once_and_each_found_as_its_own() {
    fresh().await;
    let title = |n: u8| format!("学习会 {n}");
    pull(
        (1..=155)
            .map(|n| Change::Upsert {
                record: Record::Activity(activity(n, &title(n))),
            })
            .collect(),
    )
    .await;
    // A run of neighbours, then every eighth: more apart than one range read takes, so its end is asked alone.
    let chosen: Vec<u8> = (1..=20).chain((30..=155).step_by(8)).collect();
    for (at, n) in chosen.iter().enumerate() {
        check_in(*n, &title(*n), at as i64).await;
    }
    let expected: Vec<(u64, Op)> = chosen
        .iter()
        .enumerate()
        .map(|(at, n)| (at as u64 + 1, check_in_op(*n, &title(*n))))
        .collect();
    assert_eq!(
        numbered_head().await,
        expected,
        "each code rebuilt from its own activity"
    );
    push_answered(Reply::Ok(PushResponse {
        last_seq: chosen.len() as u64,
        results: Vec::new(),
    }))
    .await;
    // The pull after the push brings them back.
    pull(
        chosen
            .iter()
            .map(|n| Change::Upsert {
                record: Record::CheckIn(pulled_check_in(100 + n, *n)),
            })
            .collect(),
    )
    .await;
    // The server takes most of them away: each one's activity is found, and the member may scan it again.
    let kept = chosen[7];
    pull(
        chosen
            .iter()
            .filter(|n| **n != kept)
            .map(|n| Change::Delete {
                key: format!("checkin:{}", id(100 + n)),
            })
            .collect(),
    )
    .await;
    let (rows, _) = checkins::newest(100).await.unwrap();
    assert_eq!(rows.iter().map(|row| row.id).collect::<Vec<_>>(), [id(100 + kept)]);
    assert!(matches!(
        check_in(chosen[0], &title(chosen[0]), 99).await,
        Scanned::New(_)
    ));
    assert!(matches!(
        check_in(chosen[30], &title(chosen[30]), 99).await,
        Scanned::New(_)
    ));
    assert!(matches!(check_in(kept, &title(kept), 99).await, Scanned::Already(_)));
}

#[wasm_bindgen_test]
async fn a_waiting_code_is_sent_as_scanned_even_after_its_activity_was_renamed() {
    fresh().await;
    pull(vec![Change::Upsert {
        record: Record::Activity(activity(1, "学习会")),
    }])
    .await;
    check_in(1, "学习会", 1).await;
    pull(vec![Change::Upsert {
        record: Record::Activity(activity(1, "改名后的学习会")),
    }])
    .await;
    assert_eq!(numbered_head().await, [(1, check_in_op(1, "学习会"))]);
    let (rows, _) = checkins::newest(10).await.unwrap();
    assert_eq!(
        rows[0].title, "改名后的学习会",
        "the list shows the activity as it is now"
    );
}

fn host_org(name: &str) -> Record {
    Record::Organisation(OrgRef {
        id: id(ORG),
        name: name.to_owned(),
        kind: OrgKind::MobileCommittee,
        city: None,
    })
}

#[wasm_bindgen_test]
async fn an_organisation_s_name_is_kept_once_and_waiting_codes_survive_its_renaming_and_removal() {
    fresh().await;
    pull(vec![
        Change::Upsert {
            record: host_org("灌南县驻杭州流动党委"),
        },
        Change::Upsert {
            record: Record::Activity(activity(1, "学习会")),
        },
        Change::Upsert {
            record: Record::Activity(activity(2, "主题党日")),
        },
        Change::Upsert {
            record: Record::Activity(activity(3, "党课")),
        },
    ])
    .await;
    check_in(1, "学习会", 1).await;
    check_in(2, "主题党日", 2).await;
    assert_eq!(raw_org_name(1).await, "", "the name is the record's, kept there only");
    let Scanned::Already(shown) = check_in(1, "学习会", 3).await else {
        panic!("found again")
    };
    assert_eq!(shown.org_name, "灌南县驻杭州流动党委", "filled in from the record");

    // Renamed in a page that also changes one of its activities, after it: both waiting codes go as scanned.
    pull(vec![
        Change::Upsert {
            record: host_org("灌南县驻杭州流动党员委员会"),
        },
        Change::Upsert {
            record: Record::Activity(activity(2, "主题党日（改）")),
        },
    ])
    .await;
    assert_eq!(
        numbered_head().await,
        [(1, check_in_op(1, "学习会")), (2, check_in_op(2, "主题党日"))]
    );
    assert_eq!(
        raw_org_name(1).await,
        "灌南县驻杭州流动党委",
        "the old name, kept by the activity"
    );
    assert_eq!(raw_org_name(3).await, "灌南县驻杭州流动党委");

    // The record goes away: what the activities show stays.
    pull(vec![Change::Delete {
        key: format!("org:{}", id(ORG)),
    }])
    .await;
    let (rows, _) = checkins::newest(10).await.unwrap();
    assert!(rows.iter().all(|row| row.org_name == "灌南县驻杭州流动党委"));
    assert_eq!(
        numbered_head().await,
        [(1, check_in_op(1, "学习会")), (2, check_in_op(2, "主题党日"))]
    );
}

/// Facts as the build before `details` stored them: the same fields, without the last.
#[derive(serde::Serialize)]
struct FactsBeforeDetails {
    org_id: [u8; 16],
    title: String,
    org_name: String,
    kind: Option<String>,
    listed: Option<(i64, i64, Option<String>)>,
    mine: Option<([u8; 16], i64, u64)>,
}

#[wasm_bindgen_test]
async fn activities_stored_before_their_details_still_read_and_list_with_them_after_a_pull() {
    fresh().await;
    let before = FactsBeforeDetails {
        org_id: *id(ORG).as_bytes(),
        title: "学习会".into(),
        org_name: "灌南县驻杭州流动党委".into(),
        kind: Some("study".into()),
        listed: Some((0, 1, Some("党群服务中心".into()))),
        mine: Some((*id(101).as_bytes(), 5, 0)),
    };
    let bytes = postcard::to_allocvec(&before).unwrap();
    let key: JsValue = js_sys::Uint8Array::from(&id(1).as_bytes()[..]).into();
    put_raw("activities", key, js_sys::Uint8Array::from(&bytes[..]).into()).await;
    let listed = guihai::store::activities::published().await.unwrap();
    assert_eq!(listed.len(), 1);
    let (stored, attended) = &listed[0];
    assert_eq!(
        (
            stored.title.as_str(),
            stored.place.as_deref(),
            stored.notes.as_deref(),
            *attended
        ),
        ("学习会", Some("党群服务中心"), None, true)
    );
    assert!(
        matches!(check_in(1, "学习会", 9).await, Scanned::Already(_)),
        "the member's mark is read from the older record"
    );
    let detailed = Activity {
        kind: ActivityKind::Volunteer,
        team: Some(guihai_core::domain::VolunteerTeam::Cleaning),
        notes: Some("带扫帚".into()),
        // Who may come and the hours follow the facts' fields (`Facts::terms`): they too read back.
        open_to_visitors: false,
        hours_tenths: Some(25),
        ..activity(1, "学习会")
    };
    pull(vec![Change::Upsert {
        record: Record::Activity(detailed.clone()),
    }])
    .await;
    let listed = guihai::store::activities::published().await.unwrap();
    assert_eq!(
        listed,
        [(detailed, true)],
        "the pull's details are kept, the mark stays"
    );
}

/// The organisation name activity `n`'s record keeps itself ("" when its organisation's record has it).
async fn raw_org_name(n: u8) -> String {
    let key: JsValue = js_sys::Uint8Array::from(&id(n).as_bytes()[..]).into();
    let bytes = bytes_of(&get_raw("activities", key).await);
    postcard::from_bytes::<guihai::store::activities::Facts>(&bytes)
        .expect("facts read back")
        .org_name
}

/// A binary value as the store keeps it: a string of one-byte characters.
fn bytes_of(value: &JsValue) -> Vec<u8> {
    let text = value.as_string().expect("binary is kept as a string of bytes");
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("one byte a character"))
        .collect()
}

#[wasm_bindgen_test]
async fn a_check_in_keeps_its_time_in_its_id_and_rows_of_earlier_builds_read_back() {
    fresh().await;
    let at = 1_800_000_000_123;
    let (code1, payload1) = code(1, "学习会");
    let stamped = Id::new_v7(at as u64, [9; 10]);
    checkins::check_in((id(1), id(ORG)), &payload1, || Ok(code1), stamped, at, false)
        .await
        .expect("stored");
    // An id not made at the check-in's time (as the localStorage build's were): the longer layout.
    check_in(2, "主题党日", at + 1).await;
    let compact = bytes_of(&get_raw("outbox", JsValue::from_f64(1.0)).await);
    let longer = bytes_of(&get_raw("outbox", JsValue::from_f64(2.0)).await);
    assert_eq!(compact[0], 2, "the compact layout's tag");
    assert_eq!(longer[0], 0, "the earlier layout: no number kept in the row");
    assert_eq!(
        compact.len() + 10,
        longer.len(),
        "time, validity and signature length saved"
    );
    // A row as the build before stored it: a Uint8Array.
    let (code3, payload3) = code(3, "党课");
    let signature = guihai_core::qr::signature_of(&payload3).unwrap();
    let earlier = outbox::QueuedCheckIn::new(id(103), at, &code3, signature, None).unwrap();
    let bytes = postcard::to_allocvec(&earlier).unwrap();
    put_raw(
        "outbox",
        JsValue::from_f64(3.0),
        js_sys::Uint8Array::from(&bytes[..]).into(),
    )
    .await;
    assert_eq!(
        numbered_head().await,
        [
            (
                1,
                Op::CheckIn {
                    id: stamped,
                    code: payload1
                }
            ),
            (2, check_in_op(2, "主题党日")),
            (3, check_in_op(3, "党课"))
        ],
        "each code sent back byte for byte"
    );
}

fn me() -> Me {
    let org = |n: u8, name: &str, kind| OrgRef {
        id: id(n),
        name: name.to_owned(),
        kind,
        city: None,
    };
    Me {
        id: id(50),
        name: "王建国".into(),
        home_org: org(60, "新安镇党委", OrgKind::Township),
        current_org: Some(org(ORG, "灌南县驻杭州流动党委", OrgKind::MobileCommittee)),
        certificate_no: Some("GN-0001".into()),
        roles: vec![Role::Member],
        returned_home_at: None,
    }
}

fn pending(n: u8, title: &str, at: i64) -> PendingCheckIn {
    PendingCheckIn {
        id: id(100 + n),
        activity_id: id(n),
        title: title.to_owned(),
        org_name: "灌南县驻杭州流动党委".into(),
        scanned_at: at,
        refused: None,
    }
}

fn gh1_keys() -> Vec<String> {
    js_sys::Object::keys(LocalStorage::raw().as_ref())
        .iter()
        .filter_map(|key| key.as_string())
        .filter(|key| key.starts_with("gh1:"))
        .collect()
}

/// What the localStorage build left on a phone: signed in, three writes numbered and pushed (the first
/// refused, the second acknowledged), a report numbered and not yet sent, one check-in not numbered yet.
fn legacy_phone(client_id: Id) {
    let key = TrustedKey {
        key_id: 1,
        public_key: encode_public_key(&signing_key().verifying_key()),
        revoked: false,
    };
    let records = [
        Record::Me(me()),
        Record::Key(key),
        Record::Activity(activity(2, "主题党日")),
        Record::OrgCode(OrgCodeSince {
            org_id: id(ORG),
            valid_since: 0,
        }),
    ];
    legacy_build::signed_in("token", client_id, &records);
    LocalStorage::set("gh1:locale", "en").unwrap();
    legacy_build::check_in(id(101), pending(1, "学习会", 1_000), code(1, "学习会").1);
    legacy_build::check_in(id(102), pending(2, "主题党日", 2_000), code(2, "主题党日").1);
    legacy_build::check_in(id(103), pending(3, "党课", 3_000), code(3, "党课").1);
    legacy_build::enqueue(Op::Leave { stop_id: id(70) }, 4_000);
    legacy_build::number();
    legacy_build::settle(
        2,
        &Settled {
            drop_through: 2,
            rejected: vec![(1, Rejection::Forbidden)],
        },
    );
    legacy_build::check_in(id(105), pending(5, "志愿服务", 5_000), code(5, "志愿服务").1);
}

#[wasm_bindgen_test]
async fn the_local_storage_build_s_data_moves_in_once_with_its_numbers_and_refusals() {
    fresh().await;
    let client_id = id(90);
    legacy_phone(client_id);
    guihai::store::open().await.unwrap();

    assert_eq!(gh1_keys(), ["gh1:locale"], "the old keys are gone, the language stays");
    assert_eq!(
        records::session().map(|s| (s.token, s.client_id)),
        Some(("token".into(), client_id))
    );
    assert_eq!(records::me(), Some(me()));
    assert_eq!(
        waiting(),
        3,
        "the check-in and leaving notice numbered 3 and 4, and the new one"
    );
    let refused = cache::with(|c| c.refused.clone());
    assert_eq!((refused[0].mutation.seq, refused[0].reason), (1, Rejection::Forbidden));
    assert!(
        matches!(check_in(3, "党课", 9_000).await, Scanned::Already(_)),
        "a waiting check-in is found by its activity"
    );
    let head = numbered_head().await;
    assert_eq!(
        head,
        [
            (3, check_in_op(3, "党课")),
            (4, Op::Leave { stop_id: id(70) }),
            (5, check_in_op(5, "志愿服务")),
        ],
        "numbers given stay, the new write takes the next, each code byte for byte"
    );

    // The tab was closed after the move committed and before the old keys were removed: they are there again.
    legacy_phone(client_id);
    guihai::store::open().await.unwrap();
    assert_eq!(gh1_keys(), ["gh1:locale"]);
    assert_eq!(waiting(), 3, "nothing moved in twice");
    assert_eq!(numbered_head().await, head);

    // A tab of the old build, still open, checked in after the move: that write moves in too, as a new one.
    legacy_build::check_in(id(106), pending(6, "党员大会", 6_000), code(6, "党员大会").1);
    guihai::store::open().await.unwrap();
    assert_eq!(gh1_keys(), ["gh1:locale"]);
    assert_eq!(waiting(), 4);
    let mut more = head.clone();
    more.push((6, check_in_op(6, "党员大会")));
    assert_eq!(numbered_head().await, more);
    LocalStorage::delete("gh1:locale");
}

fn session(client_id: Id, member: Me) -> (SessionResponse, Id) {
    let response = SessionResponse {
        token: "token".into(),
        me: member,
        keys: Vec::new(),
        pin_set: true,
    };
    (response, client_id)
}

/// The entry app's sign-in (built with the crate's `entry` feature; xtask runs this file so too): on a phone that
/// holds nobody's data it keeps what `save_session` would, and the member app reads it; on one that holds a
/// member's data it writes nothing, whatever the loader guessed.
#[cfg(feature = "entry")]
#[wasm_bindgen_test]
async fn the_entry_app_signs_in_only_a_phone_that_holds_nobodys_data() {
    fresh().await;
    assert_eq!(records::fresh().await, Ok(true));
    let (response, client) = session(id(90), me());
    assert_eq!(records::save_first_session(response, client).await, Ok(true));
    cache::reload().await.unwrap();
    assert_eq!(
        records::session().map(|s| (s.token, s.client_id)),
        Some(("token".into(), id(90)))
    );
    assert_eq!(records::me(), Some(me()));

    assert_eq!(records::fresh().await, Ok(false), "a member's data is here now");
    let other = Me { id: id(51), ..me() };
    let (response, client) = session(id(91), other);
    assert_eq!(records::save_first_session(response, client).await, Ok(false));
    cache::reload().await.unwrap();
    assert_eq!(
        (records::me(), records::session().map(|s| s.client_id)),
        (Some(me()), Some(id(90)))
    );
}

#[wasm_bindgen_test]
async fn a_refusal_outlives_a_new_client_id_and_another_member_waits_for_the_writes_before() {
    fresh().await;
    let (response, client) = session(id(90), me());
    records::save_session(response, client).await.unwrap();
    check_in(1, "学习会", 1).await;
    let refuse = |seq| {
        let results = vec![MutationResult {
            seq,
            outcome: Outcome::Rejected {
                reason: Rejection::Forbidden,
            },
        }];
        Reply::Ok(PushResponse { last_seq: seq, results })
    };
    push_answered(refuse(1)).await;

    // The same member signs in again on a new client id: numbers start over, the refusal stays.
    let (response, client) = session(id(91), me());
    records::save_session(response, client).await.unwrap();
    check_in(2, "主题党日", 2).await;
    assert_eq!(numbered_head().await, [(1, check_in_op(2, "主题党日"))]);
    push_answered(refuse(1)).await;
    assert_eq!(
        cache::with(|c| c.refused.len()),
        2,
        "both refusals kept, neither overwritten"
    );

    // Another member while a write of this one waits: refused, and nothing of this one changes.
    check_in(3, "党课", 3).await;
    let other = Me { id: id(51), ..me() };
    let (response, client) = session(id(92), other);
    assert_eq!(records::save_session(response, client).await, Err(StoreError::Unsynced));
    assert_eq!((records::me(), waiting()), (Some(me()), 1));
}

#[wasm_bindgen_test]
async fn a_waiting_code_keeps_its_texts_when_another_phone_s_check_in_takes_the_activity() {
    fresh().await;
    pull(vec![Change::Upsert {
        record: Record::Activity(activity(1, "学习会")),
    }])
    .await;
    check_in(1, "学习会", 1).await;
    let from_another_phone = CheckIn {
        id: id(150),
        member_id: id(50),
        activity_id: id(1),
        org_id: id(ORG),
        title: "学习会".into(),
        org_name: "灌南县驻杭州流动党委".into(),
        kind: ActivityKind::Study,
        scanned_at: 1,
        received_at: 2,
        flag: None,
        hours_tenths: None,
    };
    pull(vec![Change::Upsert {
        record: Record::CheckIn(from_another_phone),
    }])
    .await;
    pull(vec![Change::Upsert {
        record: Record::Activity(activity(1, "改名后的学习会")),
    }])
    .await;
    assert_eq!(
        numbered_head().await,
        [(1, check_in_op(1, "学习会"))],
        "sent as scanned, for the server to answer as a duplicate"
    );
}
