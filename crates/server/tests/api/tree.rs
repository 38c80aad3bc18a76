//! The county's tree of organisations managed by its administrator: a contact point set up with its secretary,
//! another appointed in their place, renamed (phones learn the new name), and an organisation closed with its members, reports and codes moved or
//! withdrawn; and a county of 2,200 members across its 5 townships and 12 host organisations whose figures add up
//! to a count made from the database.

use axum::http::{Method, StatusCode};
use guihai_core::domain::{OrgKind, OrgRef, Role};
use guihai_core::qr::CodeError;
use guihai_core::report::OrgTree;
use guihai_core::sync::{Outcome, Record, Rejection};
use guihai_core::tree::{Appoint, CloseOrg, ClosedOrg, NewOrg, OrgDetails};
use guihai_core::Id;

use crate::reports::{org_code, overview, push_one, report};
use crate::{fresh_id, Server, Session};

fn contact_point(secretary_phone: Option<&str>) -> NewOrg {
    NewOrg {
        kind: OrgKind::ContactPoint,
        parent_id: None,
        details: OrgDetails {
            name: " 灌南县驻东莞长安流动党员联系点 ".into(),
            city: Some("东莞".into()),
            address: Some("东莞市长安镇长青南路 1 号".into()),
            contact: None,
        },
        secretary_phone: secretary_phone.map(str::to_owned),
    }
}

async fn tree(server: &Server, admin: &Session) -> OrgTree {
    let reply = server
        .get(&format!("/api/v1/orgs/{}/tree", admin.county()), Some(&admin.token))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.json()
}

async fn post(server: &Server, caller: &Session, path: &str, body: &impl serde::Serialize) -> crate::Reply {
    server.send(Method::POST, path, Some(&caller.token), Some(body)).await
}

fn organisation(records: &[Record], id: Id) -> Option<OrgRef> {
    records.iter().find_map(|record| match record {
        Record::Organisation(org) if org.id == id => Some(org.clone()),
        _ => None,
    })
}

#[tokio::test]
async fn the_county_sets_up_a_contact_point_that_its_secretary_runs_and_renames_it() {
    let server = Server::start().await;
    let admin = server.sign_in("GH-C01").await;
    let county = admin.county();
    let path = format!("/api/v1/orgs/{county}/tree");

    // GH-M02 signs in with 13900000002; typed with spaces, as people do.
    let created: OrgRef = server
        .create(&path, &admin.token, &contact_point(Some("139 0000 0002")))
        .await;
    assert_eq!(
        (created.name.as_str(), created.kind, created.city.as_deref()),
        ("灌南县驻东莞长安流动党员联系点", OrgKind::ContactPoint, Some("东莞"))
    );
    let listed = tree(&server, &admin).await;
    let summary = listed
        .orgs
        .iter()
        .find(|o| o.org.id == created.id)
        .expect("in the tree");
    assert_eq!((summary.members, summary.parent_id), (0, None));

    // Its secretary runs it from their phone: the role, the organisation's record, its code.
    let secretary = server.sign_in("GH-M02").await;
    assert!(secretary.me.roles.contains(&Role::Secretary { org_id: created.id }));
    let code = server
        .get(&format!("/api/v1/orgs/{}/code", created.id), Some(&secretary.token))
        .await;
    assert_eq!(code.status, StatusCode::OK);

    // Renamed: the secretary's phone gets the new name on its next pull.
    let records = server.pull_all(&secretary).await;
    assert_eq!(organisation(&records, created.id).unwrap().name, created.name);
    let renamed = OrgDetails {
        name: "长安联络点".into(),
        city: Some("东莞".into()),
        address: None,
        contact: Some("0769-85321234".into()),
    };
    let reply = post(
        &server,
        &admin,
        &format!("/api/v1/orgs/{}/details", created.id),
        &renamed,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
    let records = server.pull_all(&secretary).await;
    assert_eq!(organisation(&records, created.id).unwrap().name, "长安联络点");
    let summary = tree(&server, &admin)
        .await
        .orgs
        .into_iter()
        .find(|o| o.org.id == created.id)
        .unwrap();
    assert_eq!(
        (summary.address, summary.contact.as_deref()),
        (None, Some("0769-85321234"))
    );

    // A new secretary in place of the first: GH-M04 runs it, GH-M02 no longer does.
    let appoint = Appoint {
        phone: "13900000004".into(),
    };
    let reply = post(
        &server,
        &admin,
        &format!("/api/v1/orgs/{}/secretary", created.id),
        &appoint,
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::NO_CONTENT,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let successor = server.sign_in("GH-M04").await;
    assert!(successor.me.roles.contains(&Role::Secretary { org_id: created.id }));
    let former = server.sign_in("GH-M02").await;
    assert!(!former.me.roles.contains(&Role::Secretary { org_id: created.id }));
    let code = server
        .get(&format!("/api/v1/orgs/{}/code", created.id), Some(&former.token))
        .await;
    assert_eq!(code.status, StatusCode::NOT_FOUND);
    let nobody = Appoint {
        phone: "13700000000".into(),
    };
    let reply = post(
        &server,
        &admin,
        &format!("/api/v1/orgs/{}/secretary", created.id),
        &nobody,
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(server
        .sign_in("GH-M04")
        .await
        .me
        .roles
        .contains(&Role::Secretary { org_id: created.id }));

    // A branch under it.
    let mut branch = contact_point(None);
    branch.kind = OrgKind::Branch;
    branch.parent_id = Some(created.id);
    branch.details.name = "长安第一支部".into();
    let child: OrgRef = server.create(&path, &admin.token, &branch).await;
    let listed = tree(&server, &admin).await;
    let child = listed.orgs.iter().find(|o| o.org.id == child.id).unwrap();
    assert_eq!(child.parent_id, Some(created.id));
}

#[tokio::test]
async fn the_tree_refuses_what_it_cannot_hold_and_strangers_are_not_told_it_exists() {
    let server = Server::start().await;
    let admin = server.sign_in("GH-C01").await;
    let path = format!("/api/v1/orgs/{}/tree", admin.county());
    let township = server.sign_in("GH-T01").await;
    let mut refused = Vec::new();
    let mut as_township = contact_point(None);
    as_township.kind = OrgKind::Township;
    refused.push(("a township", as_township));
    let mut cityless = contact_point(None);
    cityless.details.city = Some(" ".into());
    refused.push(("no city", cityless));
    refused.push(("a phone nobody signs in with", contact_point(Some("13700000000"))));
    let mut orphan = contact_point(None);
    orphan.parent_id = Some(fresh_id());
    refused.push(("an unknown parent", orphan));
    let mut under_township = contact_point(None);
    under_township.parent_id = Some(township.me.home_org.id);
    refused.push(("a township as parent", under_township));
    for (what, body) in refused {
        let reply = post(&server, &admin, &path, &body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{what}");
    }
    assert_eq!(
        server
            .count("SELECT count(*) FROM organisations WHERE city = '东莞'")
            .await,
        0,
        "nothing was added"
    );
    let hangzhou = server.sign_in("GH-S01").await.me.current_org.unwrap().id;
    for stranger in [
        &township,
        &server.sign_in("GH-S01").await,
        &server.sign_in("GH-M01").await,
    ] {
        let reply = post(&server, stranger, &path, &contact_point(None)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        let details = contact_point(None).details;
        let reply = post(&server, stranger, &format!("/api/v1/orgs/{hangzhou}/details"), &details).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn closing_an_organisation_moves_its_members_and_reports_and_withdraws_its_codes() {
    let server = Server::start().await;
    let admin = server.sign_in("GH-C01").await;
    let hangzhou_secretary = server.sign_in("GH-S01").await;
    let suzhou_secretary = server.sign_in("GH-S02").await;
    let hangzhou = hangzhou_secretary.me.current_org.clone().unwrap().id;
    let suzhou = suzhou_secretary.me.current_org.clone().unwrap().id;
    let open_at = |org: Id| format!("SELECT count(*) FROM stops WHERE org_id = '{org}' AND left_at IS NULL");
    let (at_hangzhou, at_suzhou) = (
        server.count(&open_at(hangzhou)).await,
        server.count(&open_at(suzhou)).await,
    );
    assert!(at_hangzhou > 0);

    // A newcomer's report waits at Hangzhou; a code of Hangzhou's stays on another newcomer's phone.
    let code = org_code(&server, &hangzhou_secretary).await;
    let newcomer = server.sign_in("GH-M21").await;
    assert_eq!(
        push_one(&server, &newcomer, report(1, &code, None)).await,
        Outcome::Applied
    );
    let member = server.sign_in("GH-M01").await;
    // The secretary's phone key for the rotating door codes.
    let body: serde_json::Value = serde_json::from_str(crate::door::KEY_BODY).unwrap();
    let certified = post(
        &server,
        &hangzhou_secretary,
        &format!("/api/v1/orgs/{hangzhou}/door-key"),
        &body,
    )
    .await;
    assert!(certified.status.is_success());
    let keys = format!("SELECT count(*) FROM door_keys WHERE org_id = '{hangzhou}' AND revoked_at IS NULL");
    assert_eq!(server.count(&keys).await, 1);

    let close = |to: Id| CloseOrg { move_to: to };
    let path = format!("/api/v1/orgs/{hangzhou}/close");
    let township = server.sign_in("GH-T01").await.me.home_org.id;
    for wrong in [hangzhou, township, fresh_id()] {
        assert_eq!(
            post(&server, &admin, &path, &close(wrong)).await.status,
            StatusCode::BAD_REQUEST
        );
    }
    assert_eq!(server.count(&open_at(hangzhou)).await, at_hangzhou, "nothing moved");
    assert_eq!(
        post(&server, &hangzhou_secretary, &path, &close(suzhou)).await.status,
        StatusCode::NOT_FOUND,
        "only the county closes"
    );

    let reply = post(&server, &admin, &path, &close(suzhou)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
    let closed: ClosedOrg = reply.json();
    assert_eq!(closed.moved, u32::try_from(at_hangzhou).unwrap());
    assert_eq!(closed.reports_moved, 1);
    assert_eq!(
        closed.activities_cancelled, 2,
        "the running and the upcoming one; the past one stays"
    );

    // The members are at Suzhou: their stays there began, those at Hangzhou ended without an evaluation.
    assert_eq!(server.count(&open_at(hangzhou)).await, 0);
    assert_eq!(server.count(&open_at(suzhou)).await, at_suzhou + at_hangzhou);
    let moved = server.sign_in("GH-M01").await;
    assert_eq!(moved.me.current_org.as_ref().map(|o| o.id), Some(suzhou));
    let records = server.pull_all(&member).await;
    let stops: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Stop(stop) => Some(stop),
            _ => None,
        })
        .collect();
    assert!(stops
        .iter()
        .any(|s| s.org.id == hangzhou && s.left_at.is_some() && s.evaluation.is_none()));
    assert!(stops.iter().any(|s| s.org.id == suzhou && s.left_at.is_none()));
    assert!(
        !records
            .iter()
            .any(|r| matches!(r, Record::Activity(a) if a.org_id == hangzhou)),
        "Hangzhou's activities left the member's phone"
    );

    // The report waits for Suzhou's secretary now.
    let waiting = overview(&server, &suzhou_secretary).await;
    assert!(waiting.pending.iter().any(|p| p.name == newcomer.me.name));

    assert_eq!(server.count(&keys).await, 0, "its door keys are revoked");

    // Hangzhou's secretary no longer runs it; its codes are refused, on phones too.
    let former = server.sign_in("GH-S01").await;
    assert!(!former.me.roles.iter().any(|r| matches!(r, Role::Secretary { .. })));
    let reply = server
        .get(&format!("/api/v1/orgs/{hangzhou}/code"), Some(&former.token))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let late = server.sign_in("GH-M22").await;
    assert_eq!(
        push_one(&server, &late, report(1, &code, None)).await,
        Outcome::Rejected {
            reason: Rejection::Code(CodeError::Revoked)
        }
    );
    let withdrawn = server.pull_all(&late).await.into_iter().any(
        |record| matches!(record, Record::OrgCode(since) if since.org_id == hangzhou && since.valid_since == u32::MAX),
    );
    assert!(withdrawn, "phones refuse its codes offline");

    // It left the tree; Suzhou holds its members; it cannot be closed or renamed again.
    let listed = tree(&server, &admin).await;
    assert!(!listed.orgs.iter().any(|o| o.org.id == hangzhou));
    let suzhou_now = listed.orgs.iter().find(|o| o.org.id == suzhou).unwrap();
    assert_eq!(i64::from(suzhou_now.members), at_suzhou + at_hangzhou);
    assert_eq!(
        post(&server, &admin, &path, &close(suzhou)).await.status,
        StatusCode::CONFLICT
    );
    let details = contact_point(None).details;
    let rename = post(&server, &admin, &format!("/api/v1/orgs/{hangzhou}/details"), &details).await;
    assert_eq!(rename.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_county_of_2200_members_across_5_townships_and_12_organisations_adds_up() {
    let server = Server::start().await;
    let admin = server.sign_in("GH-C01").await;
    let county = admin.county();
    // Seven more host organisations than the demo's five, set up as the county does.
    let path = format!("/api/v1/orgs/{county}/tree");
    let cities = ["东莞", "深圳", "宁波", "南京", "常州", "天津", "北京"];
    for (n, city) in cities.into_iter().enumerate() {
        let mut new = contact_point(None);
        new.kind = [OrgKind::ContactPoint, OrgKind::Branch, OrgKind::GeneralBranch][n % 3];
        new.details.name = format!("灌南县驻{city}流动党组织");
        new.details.city = Some(city.into());
        let _: OrgRef = server.create(&path, &admin.token, &new).await;
    }
    let hosts: Vec<Id> = tree(&server, &admin)
        .await
        .orgs
        .into_iter()
        .filter(|o| o.org.kind.is_host_side())
        .map(|o| o.org.id)
        .collect();
    assert_eq!(hosts.len(), 12);

    // 440 members imported by each of the five townships through its roster import.
    for t in 1..=5 {
        let township = server.sign_in(&format!("GH-T0{t}")).await;
        let name = &township.me.home_org.name;
        let rows: Vec<String> = (0..440)
            .map(|n| format!("成员{t}号{n},139{t}{n:07},男,1990,{name},2015-07-01,GN-2027-{t}{n:04}"))
            .collect();
        let (status, report) = crate::roster::import(
            &server,
            &township,
            &format!("{}\n{}", crate::roster::HEADER, rows.join("\n")),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{report:?}");
    }
    // Most of them at one of the twelve (an open stay there, as an accepted report leaves it), some heard from.
    let now = crate::now_ms();
    server
        .execute(&format!(
            "WITH imported AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM people WHERE certificate_no LIKE 'GN-2027-%')
             INSERT INTO stops (id, person_id, org_id, arrived_at)
             SELECT lower(hex(randomblob(16))), id, json_extract('{hosts}', '$[' || (n % 12) || ']'), {now} - n * 60000
             FROM imported WHERE n % 10 <> 0",
            hosts = serde_json::to_string(&hosts).unwrap(),
        ))
        .await;
    server
        .execute(&format!(
            "UPDATE people SET current_org_id = (SELECT org_id FROM stops s WHERE s.person_id = people.id AND left_at IS NULL),
                               contacted_at = CASE WHEN rowid % 3 = 0 THEN {now} END
             WHERE certificate_no LIKE 'GN-2027-%'"
        ))
        .await;

    let tree = crate::reports::assert_tree_counts_the_database(&server, &admin).await;
    let totals = guihai_core::report::CountyTotals::of(&tree.orgs);
    assert!(totals.members >= 2_200, "{}", totals.members);
    assert!(totals.reported >= 1_980 && totals.lost > 0);
    assert!(tree
        .orgs
        .iter()
        .filter(|o| o.org.kind.is_host_side())
        .all(|o| o.members >= 100));
}

#[tokio::test]
async fn two_closings_at_once_move_the_members_once() {
    let server = Server::start().await;
    let admin = server.sign_in("GH-C01").await;
    let (hangzhou, suzhou, wuxi) = (
        server.sign_in("GH-S01").await.me.current_org.unwrap().id,
        server.sign_in("GH-S02").await.me.current_org.unwrap().id,
        server.sign_in("GH-S03").await.me.current_org.unwrap().id,
    );
    let at = |org: Id| format!("SELECT count(*) FROM stops WHERE org_id = '{org}' AND left_at IS NULL");
    let moving = server.count(&at(hangzhou)).await;
    let path = format!("/api/v1/orgs/{hangzhou}/close");
    let (to_suzhou, to_wuxi) = (CloseOrg { move_to: suzhou }, CloseOrg { move_to: wuxi });
    let (first, second) = tokio::join!(
        post(&server, &admin, &path, &to_suzhou),
        post(&server, &admin, &path, &to_wuxi)
    );
    let mut statuses = [first.status, second.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "one closes it, the other finds it closed"
    );
    let moved = server.count(&at(suzhou)).await + server.count(&at(wuxi)).await;
    assert_eq!(moved, 8 + moving, "each member moved once, to one of them");
    assert_eq!(
        server
            .count("SELECT count(*) FROM (SELECT person_id FROM stops WHERE left_at IS NULL GROUP BY person_id HAVING count(*) > 1)")
            .await,
        0,
        "nobody has two open stays"
    );
}
