//! Publishing and cancelling activities: only their organisation's secretary may, members of that organisation
//! (and no one else) receive them, and a cancelled one leaves the phones while check-ins made stay facts.

use axum::http::{Method, StatusCode};
use guihai_core::attendance::Attendance;
use guihai_core::domain::{Activity, ActivityKind, NewActivity, VolunteerTeam};
use guihai_core::sync::{Change, CodeResponse, Mutation, Op, Outcome, PushResponse, Record, Rejection};
use guihai_core::Id;

use crate::{check_in, fresh_id, now_ms, Server, Session};

const HOUR: i64 = 3_600_000;

fn study(secretary: &Session, title: &str) -> NewActivity {
    NewActivity {
        org_id: secretary.me.current_org.as_ref().unwrap().id,
        title: title.to_owned(),
        kind: ActivityKind::Study,
        starts_at: now_ms() - HOUR,
        ends_at: now_ms() + HOUR,
        place: Some("  钱江新城党群服务中心 ".to_owned()),
        team: None,
        notes: None,
        open_to_visitors: true,
        hours_tenths: None,
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

/// An activity of the secretary's organisation as their phone makes it, with an id of its own.
fn made_on_phone(secretary: &Session, title: &str) -> Activity {
    study(secretary, title).with_id(fresh_id())
}

fn publishing(seq: u64, activity: &Activity) -> Mutation {
    Mutation {
        seq,
        occurred_at: now_ms(),
        op: Op::PublishActivity(activity.clone()),
    }
}

fn cancelling(seq: u64, id: Id) -> Mutation {
    Mutation {
        seq,
        occurred_at: now_ms(),
        op: Op::CancelActivity { id },
    }
}

/// The outcome of the one mutation `session`'s phone pushes.
async fn pushed(server: &Server, session: &Session, mutation: Mutation) -> Outcome {
    let reply = server.push(session, vec![mutation]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
    let answer: PushResponse = reply.json();
    answer.results[0].outcome.clone()
}

fn published(records: &[Record], id: Id) -> Vec<&Activity> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Activity(a) if a.id == id => Some(a),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_secretary_s_phone_publishes_changes_and_cancels_through_its_outbox() {
    let server = Server::start().await;
    let secretary = server.sign_in("GH-S01").await;
    let member = server.sign_in("GH-M01").await;
    let greening = Activity {
        kind: ActivityKind::Volunteer,
        team: Some(VolunteerTeam::Greening),
        notes: Some("  带上手套和水  ".into()),
        open_to_visitors: true,
        hours_tenths: None,
        ..made_on_phone(&secretary, "江边植树")
    };
    assert_eq!(
        pushed(&server, &secretary, publishing(1, &greening)).await,
        Outcome::Applied
    );
    let records = server.pull_all(&member).await;
    let seen = published(&records, greening.id);
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].team, seen[0].notes.as_deref(), seen[0].place.as_deref()),
        (
            Some(VolunteerTeam::Greening),
            Some("带上手套和水"),
            Some("钱江新城党群服务中心")
        ),
        "checked and trimmed as the API does"
    );

    let changed = Activity {
        title: "江边植树（改到周日）".into(),
        starts_at: greening.starts_at + HOUR,
        ..greening.clone()
    };
    assert_eq!(
        pushed(&server, &secretary, publishing(2, &changed)).await,
        Outcome::Applied
    );
    let records = server.pull_all(&member).await;
    let seen = published(&records, greening.id);
    assert_eq!(
        (seen.len(), seen[0].title.as_str(), seen[0].starts_at),
        (1, "江边植树（改到周日）", changed.starts_at),
        "the same activity, changed"
    );
    let code: CodeResponse = server
        .get(
            &format!("/api/v1/activities/{}/code", greening.id),
            Some(&secretary.token),
        )
        .await
        .json();
    assert!(
        code.qr.is_some_and(|qr| qr.modules >= 21 && !qr.path.is_empty()),
        "drawn for the door"
    );

    let cursor = server.pull(&member, 0).await.cursor;
    assert_eq!(
        pushed(&server, &secretary, cancelling(3, greening.id)).await,
        Outcome::Applied
    );
    assert_eq!(
        server.pull(&member, cursor).await.changes,
        vec![Change::Delete {
            key: format!("activity:{}", greening.id)
        }]
    );
    assert_eq!(
        pushed(&server, &secretary, cancelling(4, greening.id)).await,
        Outcome::Applied,
        "cancelled already: so it stays"
    );
    assert_eq!(
        pushed(&server, &secretary, publishing(5, &changed)).await,
        Outcome::Rejected {
            reason: Rejection::UnknownActivity
        },
        "a cancelled activity stays cancelled"
    );
}

#[tokio::test]
async fn only_the_organisation_s_secretary_publishes_or_cancels_from_a_phone() {
    let server = Server::start().await;
    let secretary = server.sign_in("GH-S01").await;
    let other_secretary = server.sign_in("GH-S02").await;
    let member = server.sign_in("GH-M01").await;
    let forbidden = Outcome::Rejected {
        reason: Rejection::Forbidden,
    };
    let ours = made_on_phone(&secretary, "党课：党章学习");
    assert_eq!(pushed(&server, &other_secretary, publishing(1, &ours)).await, forbidden);
    assert_eq!(pushed(&server, &member, publishing(1, &ours)).await, forbidden);
    let nonsense = Activity {
        ends_at: ours.starts_at,
        ..ours.clone()
    };
    assert_eq!(
        pushed(&server, &secretary, publishing(1, &nonsense)).await,
        Outcome::Rejected {
            reason: Rejection::Invalid
        }
    );
    let team_for_a_study = Activity {
        team: Some(VolunteerTeam::Patrol),
        ..ours.clone()
    };
    assert_eq!(
        pushed(&server, &secretary, publishing(2, &team_for_a_study)).await,
        Outcome::Rejected {
            reason: Rejection::Invalid
        }
    );
    assert_eq!(
        server
            .count("SELECT count(*) FROM activities WHERE title = '党课：党章学习'")
            .await,
        0
    );

    // Another organisation's activity cannot be taken over by its id, nor cancelled.
    let theirs = made_on_phone(&other_secretary, "他们的主题党日");
    assert_eq!(
        pushed(&server, &other_secretary, publishing(2, &theirs)).await,
        Outcome::Applied
    );
    let taken_over = Activity {
        org_id: ours.org_id,
        ..theirs.clone()
    };
    assert_eq!(pushed(&server, &secretary, publishing(3, &taken_over)).await, forbidden);
    assert_eq!(pushed(&server, &secretary, cancelling(4, theirs.id)).await, forbidden);
    assert_eq!(pushed(&server, &member, cancelling(2, theirs.id)).await, forbidden);
    assert_eq!(
        pushed(&server, &secretary, cancelling(5, fresh_id())).await,
        Outcome::Rejected {
            reason: Rejection::UnknownActivity
        }
    );
    let records = server.pull_all(&other_secretary).await;
    assert_eq!(published(&records, theirs.id)[0].title, "他们的主题党日", "untouched");
}

#[tokio::test]
async fn the_secretary_sees_who_came_apart_from_visitors_and_gets_a_spreadsheet_excel_opens() {
    let server = Server::start().await;
    let secretary = server.sign_in("GH-S01").await;
    let member = server.sign_in("GH-M01").await;
    let visitor = server.sign_in("GH-M05").await;
    let activity = publish(&server, &secretary, &study(&secretary, "学习党章"))
        .await
        .1
        .unwrap();
    let code = server.code(&secretary, &activity).await;
    let scanned_at = now_ms() - 60_000;
    for session in [&member, &visitor] {
        assert_eq!(
            server.push(session, vec![check_in(1, &code, scanned_at)]).await.status,
            StatusCode::OK
        );
    }
    let path = format!("/api/v1/activities/{}/attendance", activity.id);
    let attendance: Attendance = server.get(&path, Some(&secretary.token)).await.json();
    assert_eq!(
        (attendance.came.len(), attendance.members_came(), attendance.visitors()),
        (2, 1, 1)
    );
    let came = |name: &str| attendance.came.iter().find(|a| a.name == name).unwrap();
    assert!(!came(&member.me.name).visitor);
    assert!(came(&visitor.me.name).visitor);
    assert!(
        attendance.expected >= 2,
        "the organisation's members now, GH-M01 and GH-M02 among them"
    );

    let reply = server.get(&format!("{path}.csv"), Some(&secretary.token)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers[axum::http::header::CONTENT_TYPE],
        "text/csv; charset=utf-8"
    );
    assert!(
        reply.body.starts_with(&[0xEF, 0xBB, 0xBF]),
        "a byte order mark, for Excel"
    );
    let text = String::from_utf8(reply.body[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "姓名,家乡组织,身份,签到方式,签到时间,服务器收到时间,标记,说明,志愿服务时长（小时）"
    );
    let member_line = lines.iter().find(|l| l.starts_with(&member.me.name)).unwrap();
    assert!(member_line.contains(",本组织党员,本人扫码,"), "{member_line}");
    let china = time::OffsetDateTime::from_unix_timestamp(scanned_at / 1000)
        .unwrap()
        .to_offset(time::macros::offset!(+8));
    let minute = format!(
        "{}-{:02}-{:02} {:02}:{:02}",
        china.year(),
        u8::from(china.month()),
        china.day(),
        china.hour(),
        china.minute()
    );
    assert!(
        member_line.contains(&minute),
        "scanned at {minute}, China time: {member_line}"
    );
    assert!(lines
        .iter()
        .any(|l| l.starts_with(&visitor.me.name) && l.contains(",来访党员,")));
}

#[tokio::test]
async fn a_secretary_who_is_no_member_of_their_organisation_still_gets_its_activities() {
    let server = Server::start().await;
    let secretary = server.sign_in("GH-S01").await;
    let other_secretary = server.sign_in("GH-S02").await;
    let hangzhou = secretary.me.current_org.as_ref().unwrap().id;
    assert_ne!(
        other_secretary.me.current_org.as_ref().map(|org| org.id),
        Some(hangzhou)
    );
    server
        .execute(&format!(
            "INSERT INTO roles (person_id, role, org_id) VALUES ('{}', 'secretary', '{hangzhou}')",
            other_secretary.me.id
        ))
        .await;
    let (_, activity) = publish(&server, &secretary, &study(&secretary, "杭州的学习")).await;
    let records = server.pull_all(&other_secretary).await;
    assert_eq!(published(&records, activity.unwrap().id).len(), 1);
}
