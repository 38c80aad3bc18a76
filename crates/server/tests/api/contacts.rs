//! Contacts made outside the app: who may record them, what they clear, and for how long.

use axum::http::{Method, StatusCode};
use guihai_core::report::{ContactWay, NewContact, OrgOverview, RecordedContact, RosterEntry, DEFAULT_LOST_AFTER_DAYS};

use crate::{now_ms, Server, Session};

const DAY: i64 = 24 * 3_600_000;

fn phone_call(note: &str, contacted_at: i64) -> NewContact {
    NewContact {
        way: ContactWay::Phone,
        note: note.into(),
        contacted_at,
    }
}

async fn township_members(server: &Server, admin: &Session) -> Vec<RosterEntry> {
    let path = format!("/api/v1/orgs/{}/members", admin.me.home_org.id);
    server.get(&path, Some(&admin.token)).await.json()
}

async fn record(server: &Server, caller: &Session, person: &RosterEntry, contact: &NewContact) -> StatusCode {
    let path = format!("/api/v1/people/{}/contacts", person.person_id);
    server
        .send(Method::POST, &path, Some(&caller.token), Some(contact))
        .await
        .status
}

#[tokio::test]
async fn a_phone_call_recorded_by_the_township_clears_out_of_contact_until_the_next_silence() {
    let server = Server::start().await;
    let tianlou = server.sign_in("GH-T03").await; // 田楼镇, home of 马长海 (not heard from in 120 days)
    let ma = |members: Vec<RosterEntry>| members.into_iter().find(|m| m.name == "马长海").unwrap();
    let before = ma(township_members(&server, &tianlou).await);
    assert!(before.lost && before.recorded_contact.is_none());

    // A contact older than the period of silence is kept, but the member is still out of contact.
    let old = now_ms() - (i64::from(DEFAULT_LOST_AFTER_DAYS) + 1) * DAY;
    assert_eq!(
        record(&server, &tianlou, &before, &phone_call("去年家访过", old)).await,
        StatusCode::CREATED
    );
    assert!(ma(township_members(&server, &tianlou).await).lost);

    // A call today clears the flag, and the list says who recorded what.
    let call = phone_call("  打通了电话，在上海嘉定的工地  ", now_ms());
    assert_eq!(record(&server, &tianlou, &before, &call).await, StatusCode::CREATED);
    let after = ma(township_members(&server, &tianlou).await);
    assert!(!after.lost, "a recorded call is hearing from the member");
    let shown = after.recorded_contact.unwrap();
    assert_eq!(
        (shown.way, shown.note.as_str()),
        (ContactWay::Phone, "打通了电话，在上海嘉定的工地")
    );
    assert_eq!(shown.recorded_by, tianlou.me.name);
    assert!(after.last_contact.unwrap() >= call.contacted_at);

    // Both are listed, newest first.
    let path = format!("/api/v1/people/{}/contacts", before.person_id);
    let listed: Vec<RecordedContact> = server.get(&path, Some(&tianlou.token)).await.json();
    let notes: Vec<_> = listed.iter().map(|c| c.note.as_str()).collect();
    assert_eq!(notes, ["打通了电话，在上海嘉定的工地", "去年家访过"]);

    // Silence again for the whole period: out of contact again. (The calls are moved back in time, as the
    // days passing would.)
    let period = (i64::from(DEFAULT_LOST_AFTER_DAYS) + 1) * DAY;
    server
        .execute(&format!(
            "UPDATE people SET contacted_at = contacted_at - {period} WHERE name = '马长海'"
        ))
        .await;
    assert!(ma(township_members(&server, &tianlou).await).lost);
}

#[tokio::test]
async fn the_host_secretary_may_record_a_contact_and_nobody_else_but_the_township() {
    let server = Server::start().await;
    let shanghai = server.sign_in("GH-S05").await;
    let path = format!("/api/v1/orgs/{}/overview", shanghai.me.current_org.as_ref().unwrap().id);
    let overview: OrgOverview = server.get(&path, Some(&shanghai.token)).await.json();
    let luo = overview.members.iter().find(|m| m.name == "罗小燕").unwrap().clone();
    assert!(luo.lost);
    let visit = NewContact {
        way: ContactWay::Visit,
        note: "到宿舍看望，手机丢了，已补办".into(),
        contacted_at: now_ms() - DAY,
    };
    for stranger in ["GH-S01", "GH-T01", "GH-M20", "GH-C01"] {
        let caller = server.sign_in(stranger).await;
        let status = record(&server, &caller, &luo, &visit).await;
        let expected = if stranger == "GH-C01" {
            StatusCode::CREATED
        } else {
            StatusCode::NOT_FOUND
        };
        assert_eq!(
            status, expected,
            "{stranger}: only the county administers every township"
        );
    }
    let overview: OrgOverview = server.get(&path, Some(&shanghai.token)).await.json();
    assert!(!overview.members.iter().find(|m| m.name == "罗小燕").unwrap().lost);

    assert_eq!(record(&server, &shanghai, &luo, &visit).await, StatusCode::CREATED);
    // What cannot be recorded: no note, a note too long, a time ahead or more than a year back.
    let bad = [
        phone_call("   ", now_ms()),
        phone_call(&"长".repeat(501), now_ms()),
        phone_call("明天", now_ms() + DAY),
        phone_call("很久以前", now_ms() - 400 * DAY),
    ];
    for contact in &bad {
        assert_eq!(
            record(&server, &shanghai, &luo, contact).await,
            StatusCode::BAD_REQUEST,
            "{contact:?}"
        );
    }
    let path = format!("/api/v1/people/{}/contacts", luo.person_id);
    let listed: Vec<RecordedContact> = server.get(&path, Some(&shanghai.token)).await.json();
    assert_eq!(
        listed.len(),
        2,
        "the county's and the secretary's; nothing of the refused"
    );
}
