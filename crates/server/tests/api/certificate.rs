//! The certificate's records: a member's stops (the open one where they are now, earlier ones with their
//! evaluation) and yearly reviews reach that member only; check-ins carry their activity's kind for the counts.

use guihai_core::certificate::{attended_at, Attended, Grade, Stop};
use guihai_core::domain::ActivityKind;
use guihai_core::sync::Record;

use crate::{check_in, now_ms, Server, When};

fn stops(records: &[Record]) -> Vec<Stop> {
    records
        .iter()
        .filter_map(|r| if let Record::Stop(s) = r { Some(s.clone()) } else { None })
        .collect()
}

#[tokio::test]
async fn a_member_sees_their_stops_evaluations_and_reviews_and_nobody_elses() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let other = server.sign_in("GH-M02").await;
    let records = server.pull_all(&member).await;

    let mine = stops(&records);
    assert_eq!(mine.len(), 2, "an earlier stop and the present one");
    let open: Vec<_> = mine.iter().filter(|s| s.left_at.is_none()).collect();
    assert_eq!(open.len(), 1);
    assert_eq!(Some(&open[0].org), member.me.current_org.as_ref());
    let earlier = mine.iter().find(|s| s.left_at.is_some()).unwrap();
    assert_ne!(earlier.org.id, open[0].org.id);
    assert!(earlier.left_at.unwrap() <= open[0].arrived_at);
    assert_eq!(earlier.evaluation.as_ref().map(|e| e.grade), Some(Grade::Excellent));
    let reviews: Vec<_> = records.iter().filter(|r| matches!(r, Record::Review(_))).collect();
    assert_eq!(reviews.len(), 1);

    let theirs = stops(&server.pull_all(&other).await);
    assert!(
        theirs.iter().all(|s| mine.iter().all(|m| m.id != s.id)),
        "no one else's stops"
    );
}

#[tokio::test]
async fn a_check_in_counts_at_the_present_stop_by_its_kind() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let (running, code) = server.hangzhou_code(&member, When::Running).await;
    server.push(&member, vec![check_in(1, &code, now_ms())]).await;
    let records = server.pull_all(&member).await;
    let attended: Vec<Attended> = records
        .iter()
        .filter_map(|r| match r {
            Record::CheckIn(c) => Some(Attended {
                org_id: c.org_id,
                at: c.scanned_at,
                kind: c.kind,
                title: c.title.clone(),
            }),
            _ => None,
        })
        .collect();
    assert_eq!(attended.len(), 1);
    assert_eq!(attended[0].kind, running.kind);
    let present = stops(&records).into_iter().find(|s| s.left_at.is_none()).unwrap();
    assert_eq!(
        attended_at(&present, &attended).get(&ActivityKind::OrganisationLife),
        Some(&1)
    );
}

#[tokio::test]
async fn the_member_card_is_a_short_lived_code_for_its_member_that_checks_offline() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let reply = server.get("/api/v1/me/card", Some(&member.token)).await;
    assert_eq!(reply.status, axum::http::StatusCode::OK);
    let card: guihai_core::certificate::MemberCard = reply.json();
    assert!(card.qr_path.starts_with('M') && card.modules >= 21);
    let now = now_ms();
    assert!((card.valid_until - now - guihai_core::certificate::MemberCard::VALID_MS).abs() < 60_000);
    // What a secretary's phone does with it, with only the keys it synced.
    let keys = server.state.keys().trusted().to_vec();
    let secs = |ms: i64| u32::try_from(ms / 1000).unwrap();
    let code = guihai_core::qr::verify(&card.link, &keys, secs(now)).unwrap();
    assert_eq!(
        code.subject,
        guihai_core::qr::Subject::Member {
            member_id: member.me.id
        }
    );
    assert_eq!(code.name, member.me.name);
    assert_eq!(
        guihai_core::qr::verify(&card.link, &keys, secs(card.valid_until + 1000)),
        Err(guihai_core::qr::CodeError::Expired),
        "a day later it no longer counts"
    );
}
