//! Profile edits through push and pull: two phones of one member editing offline merge field by field, a clash
//! is kept for the member to settle, both phones converge, and a value no app would send is refused whole.

use axum::http::StatusCode;
use guihai_core::profile::{Conflict, Edit, Field, Profile};
use guihai_core::sync::{Mutation, Op, Outcome, PushResponse, Record, Rejection};

use crate::{now_ms, Server, Session};

fn edit(seq: u64, base_version: u64, fields: &[(Field, &str)]) -> Mutation {
    Mutation {
        seq,
        occurred_at: now_ms(),
        op: Op::EditProfile(Edit {
            base_version,
            fields: fields.iter().map(|(f, v)| (*f, v.to_string())).collect(),
        }),
    }
}

async fn profile(server: &Server, session: &Session) -> Profile {
    let records = server.pull_all(session).await;
    let mut profiles = records.into_iter().filter_map(|r| match r {
        Record::Profile(p) => Some(p),
        _ => None,
    });
    let profile = profiles.next().expect("a profile record");
    assert!(profiles.next().is_none(), "one profile record");
    profile
}

async fn push_ok(server: &Server, session: &Session, mutations: Vec<Mutation>) -> PushResponse {
    let reply = server.push(session, mutations).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
    reply.json()
}

#[tokio::test]
async fn two_phones_of_one_member_merge_field_by_field_and_converge() {
    let server = Server::start().await;
    let first = server.sign_in("GH-M02").await;
    let second = server.sign_in("GH-M02").await;
    let start = profile(&server, &first).await;
    assert!(
        !start.value(Field::Phone).is_empty(),
        "the roster's phone number is in the profile"
    );
    let base = start.version;

    // Both phones edit offline from the same version.
    push_ok(
        &server,
        &first,
        vec![edit(
            1,
            base,
            &[(Field::Phone, "13900000001"), (Field::Employer, "杭州建工")],
        )],
    )
    .await;
    let answer = push_ok(
        &server,
        &second,
        vec![edit(1, base, &[(Field::Phone, "13900000002"), (Field::Job, "钢筋工")])],
    )
    .await;
    assert_eq!(answer.results[0].outcome, Outcome::Applied);

    let on_first = profile(&server, &first).await;
    assert_eq!(on_first, profile(&server, &second).await, "both phones see one profile");
    assert_eq!(
        on_first.value(Field::Phone),
        "13900000001",
        "the server keeps its value"
    );
    assert_eq!(on_first.value(Field::Employer), "杭州建工");
    assert_eq!(
        on_first.value(Field::Job),
        "钢筋工",
        "a field changed on one side only merges"
    );
    assert_eq!(
        on_first.conflicts,
        vec![Conflict {
            field: Field::Phone,
            kept: "13900000001".into(),
            theirs: "13900000002".into(),
            version: on_first.version,
            // Which phone each value came from, for the member to tell them apart.
            kept_by: Some(first.client_id),
            theirs_by: Some(second.client_id),
        }]
    );

    // The member settles it on the first phone, choosing the second phone's number.
    push_ok(
        &server,
        &first,
        vec![edit(2, on_first.version, &[(Field::Phone, "13900000002")])],
    )
    .await;
    let settled = profile(&server, &second).await;
    assert_eq!(settled.value(Field::Phone), "13900000002");
    assert!(settled.conflicts.is_empty());
    assert_eq!(settled, profile(&server, &first).await);
}

#[tokio::test]
async fn an_edit_no_app_would_send_is_refused_whole() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M03").await;
    let before = profile(&server, &member).await;
    let answer = push_ok(
        &server,
        &member,
        vec![
            edit(1, before.version, &[(Field::City, "杭州"), (Field::Phone, "call me")]),
            edit(2, before.version, &[(Field::City, "  宁波  ")]),
        ],
    )
    .await;
    assert_eq!(
        answer.results[0].outcome,
        Outcome::Rejected {
            reason: Rejection::Invalid
        }
    );
    assert_eq!(answer.results[1].outcome, Outcome::Applied, "the queue moves on");
    let after = profile(&server, &member).await;
    assert_eq!(after.value(Field::City), "宁波", "stored trimmed");
    assert_eq!(after.value(Field::Phone), before.value(Field::Phone));
}

#[tokio::test]
async fn a_profile_reaches_only_its_owner() {
    let server = Server::start().await;
    let owner = server.sign_in("GH-M04").await;
    let other = server.sign_in("GH-M05").await;
    push_ok(
        &server,
        &owner,
        vec![edit(1, 0, &[(Field::Address, "西湖区文三路 1 号")])],
    )
    .await;
    let seen_by_other = profile(&server, &other).await;
    assert!(seen_by_other.values.values().all(|v| !v.contains("文三路")));
}
