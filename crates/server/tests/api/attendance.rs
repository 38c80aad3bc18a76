//! Attendance a secretary records on their phone (`Op::RecordAttendance`): a member's card scanned at the door or
//! an entry by hand with its reason; only at their own organisation's activity; a member who also scanned the
//! activity's code counts once; a card expired when scanned, or not signed by the server, is refused with why.

use axum::http::StatusCode;
use guihai_core::attendance::{Attendance, How, TeamHours, VolunteerHours};
use guihai_core::certificate::MemberCard;
use guihai_core::domain::{Activity, ActivityKind, NewActivity, VolunteerTeam};
use guihai_core::qr::{Code, CodeError, Subject};
use guihai_core::sync::{Mutation, Op, Outcome, PushResponse, Record, RecordedBy, Rejection};
use guihai_core::Id;

use crate::{check_in, fresh_id, now_ms, Server, Session};

fn record(seq: u64, activity_id: Id, by: RecordedBy, occurred_at: i64) -> (Id, Mutation) {
    let id = fresh_id();
    let op = Op::RecordAttendance { id, activity_id, by };
    (id, Mutation { seq, occurred_at, op })
}

/// The demo server, Hangzhou's secretary and one of its members, signed in.
async fn hangzhou() -> (Server, Session, Session) {
    let server = Server::start().await;
    let secretary = server.sign_in("GH-S01").await;
    let member = server.sign_in("GH-M01").await;
    (server, secretary, member)
}

fn refused(reason: Rejection) -> Outcome {
    Outcome::Rejected { reason }
}

async fn outcome(server: &Server, session: &Session, mutation: Mutation) -> Outcome {
    let reply = server.push(session, vec![mutation]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
    reply.json::<PushResponse>().results.remove(0).outcome
}

async fn card(server: &Server, member: &Session) -> String {
    server
        .get("/api/v1/me/card", Some(&member.token))
        .await
        .json::<MemberCard>()
        .link
}

/// The member's card, as the secretary's phone scans it.
async fn by_card(server: &Server, member: &Session) -> RecordedBy {
    RecordedBy::Card {
        code: card(server, member).await,
    }
}

async fn attendance(server: &Server, secretary: &Session, activity: Id) -> Attendance {
    let reply = server
        .get(
            &format!("/api/v1/activities/{activity}/attendance"),
            Some(&secretary.token),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.json()
}

#[tokio::test]
async fn a_card_the_secretary_scans_and_the_members_own_scan_count_once() {
    let (server, secretary, member) = hangzhou().await;
    let visitor = server.sign_in("GH-M05").await;
    let (running, _, _) = server.activities(&member).await;

    let (id, mutation) = record(1, running.id, by_card(&server, &member).await, now_ms());
    assert_eq!(outcome(&server, &secretary, mutation).await, Outcome::Applied);
    let (_, mutation) = record(2, running.id, by_card(&server, &visitor).await, now_ms());
    assert_eq!(outcome(&server, &secretary, mutation).await, Outcome::Applied);
    // The member scans the activity's code too: the same attendance.
    let code = server.code(&secretary, &running).await;
    assert_eq!(
        outcome(&server, &member, check_in(1, &code, now_ms())).await,
        Outcome::Duplicate
    );

    let attendance = attendance(&server, &secretary, running.id).await;
    assert_eq!(attendance.came.len(), 2);
    let came = |name: &str| attendance.came.iter().find(|a| a.name == name).unwrap();
    assert_eq!(
        (came(&member.me.name).how, came(&member.me.name).visitor),
        (How::Card, false)
    );
    assert_eq!(
        (came(&visitor.me.name).how, came(&visitor.me.name).visitor),
        (How::Card, true)
    );
    assert!(attendance.missing.iter().all(|m| m.member_id != member.me.id));
    // The member's phone learns of it, for their certificate.
    let theirs = server.pull_all(&member).await;
    assert!(theirs
        .iter()
        .any(|r| matches!(r, Record::CheckIn(c) if c.id == id && c.activity_id == running.id)));
}

#[tokio::test]
async fn a_card_expired_when_scanned_or_not_signed_by_the_server_is_refused_with_why() {
    let (server, secretary, member) = hangzhou().await;
    let (running, _, _) = server.activities(&member).await;
    let link = card(&server, &member).await;

    let two_days_on = now_ms() + 2 * MemberCard::VALID_MS;
    let (_, late) = record(1, running.id, RecordedBy::Card { code: link }, two_days_on);
    let mut request = guihai_core::sync::PushRequest {
        client_id: secretary.client_id,
        mutations: vec![late],
        sent_at: Some(two_days_on),
    };
    // The phone's clock is two days on, and says so: the scan was now, and the card valid then.
    let reply = server
        .send(
            axum::http::Method::POST,
            "/api/v1/sync/push",
            Some(&secretary.token),
            Some(&request),
        )
        .await;
    assert_eq!(reply.json::<PushResponse>().results[0].outcome, Outcome::Applied);
    // Without its clock, the scan two days on is after the card's day.
    let other = server.sign_in("GH-M03").await;
    let (_, late) = record(2, running.id, by_card(&server, &other).await, two_days_on);
    request.mutations = vec![late];
    request.sent_at = None;
    let reply = server
        .send(
            axum::http::Method::POST,
            "/api/v1/sync/push",
            Some(&secretary.token),
            Some(&request),
        )
        .await;
    assert_eq!(
        reply.json::<PushResponse>().results[0].outcome,
        refused(Rejection::Code(CodeError::Expired))
    );

    let forged = Code {
        subject: Subject::Member { member_id: other.me.id },
        key_id: 0,
        valid_from: 0,
        valid_until: u32::MAX,
        name: other.me.name.clone(),
        detail: String::new(),
        door: None,
    }
    .sign(&ed25519_dalek::SigningKey::from_bytes(&[7; 32]));
    let (_, mutation) = record(3, running.id, RecordedBy::Card { code: forged }, now_ms());
    assert!(matches!(
        outcome(&server, &secretary, mutation).await,
        Outcome::Rejected {
            reason: Rejection::Code(CodeError::Forged | CodeError::UnknownKey)
        }
    ));
    // An activity's code is no card.
    let activity_code = server.code(&secretary, &running).await;
    let (_, mutation) = record(4, running.id, RecordedBy::Card { code: activity_code }, now_ms());
    assert_eq!(
        outcome(&server, &secretary, mutation).await,
        refused(Rejection::Invalid)
    );
}

#[tokio::test]
async fn by_hand_needs_a_reason_and_is_marked_as_entered_by_hand() {
    let (server, secretary, member) = hangzhou().await;
    let (running, _, _) = server.activities(&member).await;
    let before = attendance(&server, &secretary, running.id).await;
    let missing = before.missing.iter().find(|m| m.member_id == member.me.id).unwrap();
    assert_eq!(missing.name, member.me.name);

    let hand = |reason: &str| RecordedBy::Hand {
        member_id: member.me.id,
        reason: reason.to_owned(),
    };
    let (_, blank) = record(1, running.id, hand("   "), now_ms());
    assert_eq!(outcome(&server, &secretary, blank).await, refused(Rejection::Invalid));
    let (_, stranger) = record(
        2,
        running.id,
        RecordedBy::Hand {
            member_id: fresh_id(),
            reason: "?".into(),
        },
        now_ms(),
    );
    assert_eq!(
        outcome(&server, &secretary, stranger).await,
        refused(Rejection::Invalid)
    );
    let (_, mutation) = record(3, running.id, hand(" 老人机，没有智能手机 "), now_ms());
    assert_eq!(outcome(&server, &secretary, mutation).await, Outcome::Applied);

    let after = attendance(&server, &secretary, running.id).await;
    let entered = after.came.iter().find(|a| a.member_id == member.me.id).unwrap();
    assert_eq!(
        (entered.how, entered.reason.as_deref()),
        (How::ByHand, Some("老人机，没有智能手机"))
    );
    assert_eq!(after.missing.len(), before.missing.len() - 1);
    let csv = server
        .get(
            &format!("/api/v1/activities/{}/attendance.csv", running.id),
            Some(&secretary.token),
        )
        .await;
    let text = String::from_utf8(csv.body[3..].to_vec()).unwrap();
    assert!(
        text.contains(",手工登记,") && text.contains("老人机，没有智能手机"),
        "{text}"
    );
}

#[tokio::test]
async fn only_the_activitys_own_secretary_records_attendance() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let other_secretary = server.sign_in("GH-S02").await;
    let (running, _, _) = server.activities(&member).await;
    let code = card(&server, &member).await;
    for (caller, seq) in [(&member, 1), (&other_secretary, 1)] {
        let (_, mutation) = record(seq, running.id, RecordedBy::Card { code: code.clone() }, now_ms());
        assert_eq!(outcome(&server, caller, mutation).await, refused(Rejection::Forbidden));
    }
    let (_, unknown) = record(2, fresh_id(), RecordedBy::Card { code }, now_ms());
    assert_eq!(
        outcome(&server, &other_secretary, unknown).await,
        refused(Rejection::UnknownActivity)
    );
}

/// Publishes `new` as `secretary` through the API.
async fn publish(server: &Server, secretary: &Session, new: &NewActivity) -> Activity {
    server.create("/api/v1/activities", &secretary.token, new).await
}

fn now_on(secretary: &Session, kind: ActivityKind) -> NewActivity {
    NewActivity {
        org_id: secretary.me.current_org.as_ref().unwrap().id,
        title: "江边植树".into(),
        kind,
        starts_at: now_ms() - 3_600_000,
        ends_at: now_ms() + 3_600_000,
        place: None,
        team: None,
        notes: None,
        open_to_visitors: true,
        hours_tenths: None,
    }
}

#[tokio::test]
async fn an_activity_for_members_only_refuses_visitors_however_they_come() {
    let (server, secretary, member) = hangzhou().await;
    let visitor = server.sign_in("GH-M05").await;
    let assembly = publish(
        &server,
        &secretary,
        &NewActivity {
            open_to_visitors: false,
            ..now_on(&secretary, ActivityKind::BranchAssembly)
        },
    )
    .await;
    assert!(!assembly.open_to_visitors);
    let code = server.code(&secretary, &assembly).await;
    assert_eq!(
        outcome(&server, &member, check_in(1, &code, now_ms())).await,
        Outcome::Applied
    );
    assert_eq!(
        outcome(&server, &visitor, check_in(1, &code, now_ms())).await,
        refused(Rejection::MembersOnly)
    );
    let (_, by_card) = record(1, assembly.id, by_card(&server, &visitor).await, now_ms());
    assert_eq!(
        outcome(&server, &secretary, by_card).await,
        refused(Rejection::MembersOnly)
    );
}

#[tokio::test]
async fn volunteer_hours_are_credited_per_activity_adjusted_per_member_and_counted_per_year() {
    let (server, secretary, member) = hangzhou().await;
    let visitor = server.sign_in("GH-M05").await;
    let org = secretary.me.current_org.as_ref().unwrap().id;
    let planting = publish(
        &server,
        &secretary,
        &NewActivity {
            team: Some(VolunteerTeam::Greening),
            hours_tenths: Some(25),
            ..now_on(&secretary, ActivityKind::Volunteer)
        },
    )
    .await;
    let code = server.code(&secretary, &planting).await;
    for attendee in [&member, &visitor] {
        assert_eq!(
            outcome(&server, attendee, check_in(1, &code, now_ms())).await,
            Outcome::Applied
        );
    }
    // The member's own record says what it credits.
    let hours_of = |records: Vec<Record>| {
        records.into_iter().find_map(|r| match r {
            Record::CheckIn(c) if c.activity_id == planting.id => Some(c.hours_tenths),
            _ => None,
        })
    };
    assert_eq!(hours_of(server.pull_all(&member).await), Some(Some(25)));

    // The secretary credits the visitor, who stayed longer, four hours; hours only for someone who came.
    let credit = |seq, member_id, hours_tenths| Mutation {
        seq,
        occurred_at: now_ms(),
        op: Op::CreditHours {
            activity_id: planting.id,
            member_id,
            hours_tenths,
        },
    };
    assert_eq!(
        outcome(&server, &secretary, credit(1, visitor.me.id, 40)).await,
        Outcome::Applied
    );
    let absent = server.sign_in("GH-M02").await;
    assert_eq!(
        outcome(&server, &secretary, credit(2, absent.me.id, 40)).await,
        refused(Rejection::Invalid)
    );
    assert_eq!(
        outcome(&server, &member, credit(2, member.me.id, 90)).await,
        refused(Rejection::Forbidden),
        "a member does not credit themselves"
    );
    assert_eq!(hours_of(server.pull_all(&visitor).await), Some(Some(40)));

    // Minutes, by the secretary only.
    let minutes = |seq, text: &str| Mutation {
        seq,
        occurred_at: now_ms(),
        op: Op::WriteMinutes {
            activity_id: planting.id,
            text: text.into(),
        },
    };
    assert_eq!(
        outcome(&server, &member, minutes(3, "x")).await,
        refused(Rejection::Forbidden)
    );
    assert_eq!(
        outcome(&server, &secretary, minutes(3, "  种树二十棵。 ")).await,
        Outcome::Applied
    );
    let attendance = attendance(&server, &secretary, planting.id).await;
    assert_eq!(attendance.minutes.as_deref(), Some("种树二十棵。"));
    let hours: Vec<_> = attendance
        .came
        .iter()
        .map(|a| (a.name.clone(), a.hours_tenths))
        .collect();
    assert!(
        hours.contains(&(visitor.me.name.clone(), Some(40))) && hours.contains(&(member.me.name.clone(), Some(25)))
    );

    // The year's hours, per team and per member.
    let reply = server
        .get(&format!("/api/v1/orgs/{org}/volunteer-hours"), Some(&secretary.token))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let year: VolunteerHours = reply.json();
    assert_eq!(
        year.teams,
        [TeamHours {
            team: Some(VolunteerTeam::Greening),
            hours_tenths: 65
        }]
    );
    assert_eq!(
        year.members
            .iter()
            .map(|m| (m.name.clone(), m.hours_tenths))
            .collect::<Vec<_>>(),
        [(visitor.me.name.clone(), 40), (member.me.name.clone(), 25)]
    );
    let last_year: VolunteerHours = server
        .get(
            &format!("/api/v1/orgs/{org}/volunteer-hours?year={}", year.year - 1),
            Some(&secretary.token),
        )
        .await
        .json();
    assert!(last_year.teams.is_empty() && last_year.members.is_empty());
    let reply = server
        .get(
            &format!("/api/v1/orgs/{org}/volunteer-hours?year=99999"),
            Some(&secretary.token),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}
