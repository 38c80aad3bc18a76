//! In-browser tests of what the phone keeps: the outbox, pulled records and a full store, against the real
//! localStorage of headless Chromium.

use gloo_storage::{LocalStorage, Storage};
use guihai::checkin::pending_check_ins;
use guihai::records;
use guihai::store::{self, StoreError};
use guihai::sync::outbox;
use guihai_core::checkin::{CheckIn, PendingCheckIn};
use guihai_core::domain::ActivityKind;
use guihai_core::engine::Settled;
use guihai_core::sync::{Change, Op, Record, Rejection};
use guihai_core::Id;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn clear() {
    LocalStorage::clear();
}

fn id(n: u8) -> Id {
    Id::new_v7(u64::from(n), [n; 10])
}

fn check_in(n: u8) -> Result<(), StoreError> {
    let shown = PendingCheckIn {
        id: id(n),
        activity_id: id(100 + n),
        title: format!("activity {n}"),
        org_name: "org".into(),
        scanned_at: i64::from(n),
        refused: None,
    };
    let record = vec![(format!("pending:{}", id(n)), serde_json::to_value(&shown).unwrap())];
    outbox::enqueue(
        Op::CheckIn {
            id: id(n),
            code: format!("code{n}"),
        },
        i64::from(n),
        record,
    )
}

#[wasm_bindgen_test]
fn each_write_is_its_own_key_numbered_in_order_only_when_synced() {
    clear();
    (1..=3).for_each(|n| check_in(n).unwrap());
    assert_eq!(store::keys_with_prefix("outbox:").len(), 3);
    assert_eq!(pending_check_ins().len(), 3);
    assert!(outbox::pending().is_empty(), "writing tabs never take a number");
    number();
    assert_eq!(outbox::pending().iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2, 3]);
    check_in(4).unwrap();
    number();
    assert_eq!(
        outbox::pending().iter().map(|m| m.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4],
        "numbers are kept"
    );
    assert_eq!(outbox::meta().last_seq, 4);
}

fn number() {
    let mut meta = outbox::meta();
    outbox::number_new(&mut meta).unwrap();
}

#[wasm_bindgen_test]
fn settling_drops_only_what_the_server_acknowledged_and_keeps_refusals() {
    clear();
    (1..=3).for_each(|n| check_in(n).unwrap());
    let mut meta = outbox::meta();
    let numbered = outbox::number_new(&mut meta).unwrap();
    let reason = Rejection::Forbidden;
    let settled = Settled {
        drop_through: 2,
        rejected: vec![(1, reason)],
    };
    outbox::settle(&meta, &settled, &numbered).unwrap();
    assert_eq!(outbox::pending().iter().map(|m| m.seq).collect::<Vec<_>>(), [3]);
    let refused = outbox::refused();
    assert_eq!(
        (refused.len(), refused[0].mutation.seq, refused[0].reason),
        (1, 1, reason)
    );
}

#[wasm_bindgen_test]
fn a_synced_check_in_replaces_its_pending_copy() {
    clear();
    check_in(1).unwrap();
    let synced = CheckIn {
        id: id(1),
        member_id: id(50),
        activity_id: id(101),
        org_id: id(60),
        title: "activity 1".into(),
        org_name: "org".into(),
        kind: ActivityKind::Study,
        scanned_at: 1,
        received_at: 2,
        flag: None,
    };
    records::apply_changes(&[Change::Upsert {
        record: Record::CheckIn(synced.clone()),
    }])
    .unwrap();
    assert!(pending_check_ins().is_empty());
    assert_eq!(records::synced_check_ins(), [synced]);
    records::apply_changes(&[Change::Delete {
        key: format!("checkin:{}", id(1)),
    }])
    .unwrap();
    assert!(records::synced_check_ins().is_empty());
}

#[wasm_bindgen_test]
fn a_full_store_refuses_the_write_and_keeps_everything_already_stored() {
    clear();
    check_in(1).unwrap();
    // Fill the store with filler until the browser refuses.
    let chunk = "x".repeat(256 * 1024);
    let mut n = 0;
    while LocalStorage::raw().set_item(&format!("filler{n}"), &chunk).is_ok() {
        n += 1;
    }
    let small = "y".repeat(1024);
    while LocalStorage::raw().set_item(&format!("filler{n}"), &small).is_ok() {
        n += 1;
    }
    assert_eq!(check_in(2), Err(StoreError::Full));
    assert_eq!(outbox::entries().len(), 1, "the earlier write survives");
    assert_eq!(pending_check_ins().len(), 1, "no half-written record is left behind");
    clear();
}

/// Version 1 kept a value under `old`; version 2 moved it to `new`; version 3 added `added`.
fn move_old_to_new() -> Result<(), StoreError> {
    if let Some(value) = store::get::<String>("old") {
        store::set("new", &value)?;
        store::remove("old");
    }
    Ok(())
}

fn add_added() -> Result<(), StoreError> {
    store::set("added", &true)
}

const STEPS: &[store::Migration] = &[
    store::Migration {
        from: 1,
        run: move_old_to_new,
    },
    store::Migration {
        from: 2,
        run: add_added,
    },
];

fn schema() -> Option<u32> {
    store::get(store::SCHEMA_KEY)
}

#[wasm_bindgen_test]
fn a_new_store_is_stamped_with_the_current_schema_and_nothing_runs() {
    clear();
    assert_eq!(store::open_with(3, STEPS), Ok(store::Opened::Ready));
    assert_eq!(schema(), Some(3));
    assert_eq!(store::get::<bool>("added"), None);
}

#[wasm_bindgen_test]
fn data_from_before_versions_were_kept_is_migrated_step_by_step() {
    clear();
    store::set("old", &"kept").unwrap();
    assert_eq!(store::open_with(3, STEPS), Ok(store::Opened::Ready));
    assert_eq!(store::get::<String>("new").as_deref(), Some("kept"));
    assert_eq!(store::get::<String>("old"), None);
    assert_eq!(store::get::<bool>("added"), Some(true));
    assert_eq!(schema(), Some(3));
    // Opening again changes nothing.
    assert_eq!(store::open_with(3, STEPS), Ok(store::Opened::Ready));
    assert_eq!(store::get::<String>("new").as_deref(), Some("kept"));
}

#[wasm_bindgen_test]
fn only_the_steps_after_the_stored_version_run() {
    clear();
    store::set(store::SCHEMA_KEY, &2u32).unwrap();
    store::set("old", &"left alone").unwrap();
    assert_eq!(store::open_with(3, STEPS), Ok(store::Opened::Ready));
    assert_eq!(store::get::<String>("old").as_deref(), Some("left alone"));
    assert_eq!(store::get::<bool>("added"), Some(true));
}

#[wasm_bindgen_test]
fn data_from_a_newer_build_is_left_untouched() {
    clear();
    store::set(store::SCHEMA_KEY, &5u32).unwrap();
    store::set("old", &"future").unwrap();
    assert_eq!(store::open_with(3, STEPS), Ok(store::Opened::Newer(5)));
    assert_eq!(schema(), Some(5));
    assert_eq!(store::get::<String>("old").as_deref(), Some("future"));
    assert_eq!(store::get::<bool>("added"), None);
}

#[wasm_bindgen_test]
fn this_builds_store_opens_ready() {
    clear();
    assert_eq!(store::open(), Ok(store::Opened::Ready));
    assert_eq!(schema(), Some(store::SCHEMA));
}
