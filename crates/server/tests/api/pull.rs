//! Pull: what each user sees, in server order, page by page.

use std::collections::HashSet;

use guihai_core::domain::OrgKind;
use guihai_core::sync::{Record, PULL_PAGE};

use crate::{check_in, now_ms, Server, When};

/// What `GH-M01` pulls first: their own record and profile, their two organisations, the three activities of
/// the one they are at, the signing key, two stops (one earlier, one now) and last year's review.
const FIRST_PULL: usize = 11;

#[tokio::test]
async fn a_first_pull_brings_my_record_my_organisations_their_activities_and_the_keys() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let records = server.pull_all(&member).await;

    let current = member.me.current_org.clone().unwrap();
    assert!(records.contains(&Record::Me(member.me.clone())));
    assert!(records.contains(&Record::Organisation(member.me.home_org.clone())));
    assert!(records.contains(&Record::Organisation(current.clone())));
    let activities: Vec<_> = records.iter().filter(|r| matches!(r, Record::Activity(_))).collect();
    assert_eq!(activities.len(), 3);
    assert!(records
        .iter()
        .all(|r| !matches!(r, Record::Activity(a) if a.org_id != current.id)));
    assert!(records
        .iter()
        .all(|r| !matches!(r, Record::Organisation(o) if o.kind == OrgKind::County)));
    let keys: Vec<_> = records
        .iter()
        .filter_map(|r| if let Record::Key(k) = r { Some(k.clone()) } else { None })
        .collect();
    assert_eq!(keys, server.state.keys().trusted());
    assert_eq!(records.iter().filter(|r| matches!(r, Record::Profile(_))).count(), 1);
    assert_eq!(
        records
            .iter()
            .filter(|r| matches!(r, Record::Stop(_) | Record::Review(_)))
            .count(),
        3
    );
    assert_eq!(records.len(), FIRST_PULL);
}

#[tokio::test]
async fn pull_returns_my_check_in_and_not_another_members() {
    let server = Server::start().await;
    let me = server.sign_in("GH-M01").await;
    let colleague = server.sign_in("GH-M02").await; // same organisation, same activity
    let (running, code) = server.hangzhou_code(&me, When::Running).await;
    for session in [&me, &colleague] {
        server.push(session, vec![check_in(1, &code, now_ms())]).await;
    }

    let check_ins: Vec<_> = server
        .pull_all(&me)
        .await
        .into_iter()
        .filter_map(|record| {
            if let Record::CheckIn(check_in) = record {
                Some(check_in)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(check_ins.len(), 1);
    assert_eq!(check_ins[0].member_id, me.me.id);
    assert_eq!(
        (check_ins[0].title.as_str(), check_ins[0].org_name.as_str()),
        (running.title.as_str(), "灌南县驻杭州流动党委")
    );
}

#[tokio::test]
async fn a_pull_from_the_cursor_brings_only_what_changed_since() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let secretary = server.sign_in("GH-S01").await;
    let cursor = server.pull(&member, 0).await.cursor;
    assert!(server.pull(&member, cursor).await.changes.is_empty());

    let (running, _, _) = server.activities(&member).await;
    let code = server.code(&secretary, &running).await;
    server.push(&member, vec![check_in(1, &code, now_ms())]).await;
    let page = server.pull(&member, cursor).await;
    assert_eq!(page.changes.len(), 1);
    assert!(page.cursor > cursor);
}

#[tokio::test]
async fn pull_pages_with_has_more_and_never_repeats_or_skips() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let org_id = member.me.current_org.clone().unwrap().id.to_string();
    let extra = PULL_PAGE + 100;
    // Many activities published by the member's organisation, logged the way the server logs them.
    sqlx::query(
        "INSERT INTO activities (id, org_id, title, kind, starts_at, ends_at)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)
         SELECT printf('00000000-0000-7000-8000-%012d', i), ?1, 'bulk ' || i, 'study', 0, 1 FROM n",
    )
    .bind(&org_id)
    .bind(extra as i64)
    .execute(&server.state.db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO changes (key, audience)
         SELECT 'activity:' || id, 'org:' || org_id FROM activities WHERE title LIKE 'bulk %' ORDER BY id",
    )
    .execute(&server.state.db)
    .await
    .unwrap();

    let first = server.pull(&member, 0).await;
    assert!(first.has_more);
    assert_eq!(first.changes.len(), PULL_PAGE);
    let second = server.pull(&member, first.cursor).await;
    assert!(!second.has_more);
    assert_eq!(second.changes.len(), FIRST_PULL + extra - PULL_PAGE);
    let last = server.pull(&member, second.cursor).await;
    assert_eq!(
        (last.changes.len(), last.cursor, last.has_more),
        (0, second.cursor, false)
    );

    let keys: HashSet<String> = first
        .changes
        .iter()
        .chain(&second.changes)
        .map(|change| match change {
            guihai_core::sync::Change::Upsert { record } => record.key(),
            guihai_core::sync::Change::Delete { key } => key.clone(),
        })
        .collect();
    assert_eq!(keys.len(), FIRST_PULL + extra, "every record once");
}
