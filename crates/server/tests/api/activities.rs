//! Publishing and cancelling activities: only their organisation's secretary may, members of that organisation
//! (and no one else) receive them, and a cancelled one leaves the phones while check-ins made stay facts.

use axum::http::{Method, StatusCode};
use guihai_core::domain::{Activity, ActivityKind, NewActivity};
use guihai_core::sync::{Change, Outcome, Record, Rejection};

use crate::{check_in, now_ms, Server, Session};

const HOUR: i64 = 3_600_000;

fn study(secretary: &Session, title: &str) -> NewActivity {
    NewActivity {
        org_id: secretary.me.current_org.as_ref().unwrap().id,
        title: title.to_owned(),
        kind: ActivityKind::Study,
        starts_at: now_ms() - HOUR,
        ends_at: now_ms() + HOUR,
        place: Some("  钱江新城党群服务中心 ".to_owned()),
    }
}

async fn publish(server: &Server, session: &Session, new: &NewActivity) -> (StatusCode, Option<Activity>) {
    let reply = server
        .send(Method::POST, "/api/v1/activities", Some(&session.token), Some(new))
        .await;
    let activity = (reply.status == StatusCode::CREATED).then(|| reply.json());
    (reply.status, activity)
}

fn has_activity(records: &[Record], title: &str) -> bool {
    records
        .iter()
        .any(|r| matches!(r, Record::Activity(a) if a.title == title))
}

#[tokio::test]
async fn a_published_activity_reaches_its_organisations_members_only() {
    let server = Server::start().await;
    let secretary = server.sign_in("GH-S01").await;
    let member = server.sign_in("GH-M01").await;
    let elsewhere = server.sign_in("GH-M05").await;
    assert_ne!(member.me.current_org, elsewhere.me.current_org);

    let (status, activity) = publish(&server, &secretary, &study(&secretary, " 学习二十大精神 ")).await;
    assert_eq!(status, StatusCode::CREATED);
    let activity = activity.unwrap();
    assert_eq!(
        (activity.title.as_str(), activity.place.as_deref()),
        ("学习二十大精神", Some("钱江新城党群服务中心"))
    );
    assert!(has_activity(&server.pull_all(&member).await, "学习二十大精神"));
    assert!(!has_activity(&server.pull_all(&elsewhere).await, "学习二十大精神"));
}

#[tokio::test]
async fn only_the_organisations_secretary_publishes_and_nonsense_is_refused() {
    let server = Server::start().await;
    let secretary = server.sign_in("GH-S01").await;
    let other_secretary = server.sign_in("GH-S02").await;
    let member = server.sign_in("GH-M01").await;
    let new = study(&secretary, "学习");
    assert_eq!(publish(&server, &other_secretary, &new).await.0, StatusCode::FORBIDDEN);
    assert_eq!(publish(&server, &member, &new).await.0, StatusCode::FORBIDDEN);
    let backwards = NewActivity {
        ends_at: new.starts_at,
        ..new.clone()
    };
    assert_eq!(
        publish(&server, &secretary, &backwards).await.0,
        StatusCode::BAD_REQUEST
    );
    let untitled = NewActivity {
        title: "  ".into(),
        ..new
    };
    assert_eq!(publish(&server, &secretary, &untitled).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        server
            .count("SELECT count(*) FROM activities WHERE title = '学习'")
            .await,
        0
    );
}

#[tokio::test]
async fn a_cancelled_activity_leaves_the_phones_and_its_code_is_refused_but_check_ins_stay() {
    let server = Server::start().await;
    let secretary = server.sign_in("GH-S01").await;
    let member = server.sign_in("GH-M01").await;
    let late = server.sign_in("GH-M02").await;
    assert_eq!(late.me.current_org, member.me.current_org);
    let activity = publish(&server, &secretary, &study(&secretary, "志愿服务"))
        .await
        .1
        .unwrap();
    let code = server.code(&secretary, &activity).await;
    let answer = server.push(&member, vec![check_in(1, &code, now_ms())]).await;
    assert_eq!(answer.status, StatusCode::OK);
    let cursor = server.pull(&member, 0).await.cursor;

    let path = format!("/api/v1/activities/{}", activity.id);
    assert_eq!(
        server
            .send(Method::DELETE, &path, Some(&member.token), None::<&()>)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        server
            .send(Method::DELETE, &path, Some(&secretary.token), None::<&()>)
            .await
            .status,
        StatusCode::NO_CONTENT
    );

    let after = server.pull(&member, cursor).await;
    assert_eq!(
        after.changes,
        vec![Change::Delete {
            key: format!("activity:{}", activity.id)
        }]
    );
    let records = server.pull_all(&member).await;
    assert!(!has_activity(&records, "志愿服务"));
    assert!(
        records
            .iter()
            .any(|r| matches!(r, Record::CheckIn(c) if c.title == "志愿服务")),
        "check-ins stay"
    );

    let code_path = format!("/api/v1/activities/{}/code", activity.id);
    assert_eq!(
        server.get(&code_path, Some(&secretary.token)).await.status,
        StatusCode::NOT_FOUND
    );
    let reply = server.push(&late, vec![check_in(1, &code, now_ms())]).await;
    let answer: guihai_core::sync::PushResponse = reply.json();
    assert_eq!(
        answer.results[0].outcome,
        Outcome::Rejected {
            reason: Rejection::UnknownActivity
        }
    );
}
