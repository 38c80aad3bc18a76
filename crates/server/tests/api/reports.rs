//! Reporting to a host organisation (报到) through push, the secretary's decision, leaving with an evaluation,
//! going home, rotated codes, lost contact; and what each move does to the member's phones.

use axum::http::{Method, StatusCode};
use guihai_core::certificate::Grade;
use guihai_core::qr::CodeError;
use guihai_core::report::{CountyTotals, Decision, NewEvaluation, OrgOverview, OrgTree, ReportState, RosterEntry};
use guihai_core::sync::{Change, CodeResponse, Mutation, Op, Outcome, PushResponse, Record, Rejection};
use guihai_core::Id;

use crate::{fresh_id, now_ms, Server, Session};

/// The organisation code `secretary` shows for their organisation (the Hangzhou committee for `GH-S01`).
pub async fn org_code(server: &Server, secretary: &Session) -> String {
    let org = secretary.me.current_org.as_ref().unwrap().id;
    let reply = server
        .get(&format!("/api/v1/orgs/{org}/code"), Some(&secretary.token))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.json::<CodeResponse>().payload
}

pub fn report(seq: u64, code: &str, left_stop: Option<Id>) -> Mutation {
    Mutation {
        seq,
        occurred_at: now_ms(),
        op: Op::Report {
            id: fresh_id(),
            code: code.to_owned(),
            left_stop,
        },
    }
}

pub async fn push_one(server: &Server, member: &Session, mutation: Mutation) -> Outcome {
    let reply = server.push(member, vec![mutation]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
    reply.json::<PushResponse>().results.remove(0).outcome
}

pub async fn overview(server: &Server, secretary: &Session) -> OrgOverview {
    let org = secretary.me.current_org.as_ref().unwrap().id;
    let reply = server
        .get(&format!("/api/v1/orgs/{org}/overview"), Some(&secretary.token))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
    reply.json()
}

async fn decide(server: &Server, secretary: &Session, report: Id, decision: &Decision) -> StatusCode {
    let path = format!("/api/v1/reports/{report}/decision");
    server
        .send(Method::POST, &path, Some(&secretary.token), Some(decision))
        .await
        .status
}

async fn evaluate(server: &Server, secretary: &Session, stop: Id) -> StatusCode {
    let evaluation = NewEvaluation {
        grade: Grade::Excellent,
        text: "积极参加组织生活".into(),
    };
    let path = format!("/api/v1/stops/{stop}/evaluation");
    server
        .send(Method::POST, &path, Some(&secretary.token), Some(&evaluation))
        .await
        .status
}

/// Every change the session's phone would apply, from the start.
async fn all_changes(server: &Server, member: &Session) -> Vec<Change> {
    let mut cursor = 0;
    let mut changes = Vec::new();
    loop {
        let page = server.pull(member, cursor).await;
        changes.extend(page.changes);
        cursor = page.cursor;
        if !page.has_more {
            return changes;
        }
    }
}

/// What a phone that applied `changes` in order holds, by key.
fn held(changes: &[Change]) -> std::collections::BTreeMap<String, Record> {
    let mut held = std::collections::BTreeMap::new();
    for change in changes {
        match change {
            Change::Upsert { record } => {
                held.insert(record.key(), record.clone());
            }
            Change::Delete { key } => {
                held.remove(key);
            }
        }
    }
    held
}

fn activities_held(held: &std::collections::BTreeMap<String, Record>) -> usize {
    held.keys().filter(|k| k.starts_with("activity:")).count()
}

#[tokio::test]
async fn report_accept_leave_evaluate_moves_the_member_and_their_phones_view() {
    let server = Server::start().await;
    let secretary = server.sign_in("GH-S01").await;
    let member = server.sign_in("GH-M21").await;
    assert_eq!(member.me.current_org, None, "just arrived");
    let hangzhou = secretary.me.current_org.clone().unwrap();
    let before = all_changes(&server, &member).await;
    assert_eq!(
        activities_held(&held(&before)),
        0,
        "no host organisation's activities yet"
    );
    let cursor = server.pull(&member, 0).await.cursor;

    let code = org_code(&server, &secretary).await;
    assert_eq!(
        push_one(&server, &member, report(1, &code, None)).await,
        Outcome::Applied
    );
    assert_eq!(
        push_one(&server, &member, report(2, &code, None)).await,
        Outcome::Rejected {
            reason: Rejection::AlreadyReported
        },
        "a second report while the first waits"
    );
    let pending = overview(&server, &secretary).await.pending;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].name, member.me.name);
    let report_id = pending[0].id;

    let other = server.sign_in("GH-S02").await;
    assert_eq!(
        decide(&server, &other, report_id, &Decision::Accept).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        decide(&server, &secretary, report_id, &Decision::Accept).await,
        StatusCode::OK
    );
    assert_eq!(
        decide(&server, &secretary, report_id, &Decision::Accept).await,
        StatusCode::CONFLICT,
        "decided once"
    );

    // The member's phone, pulling on from where it was: now at Hangzhou, with an open stop and its activities.
    let after = server.pull(&member, cursor).await.changes;
    let now_held = held(&[before.clone(), after].concat());
    let Some(Record::Me(me)) = now_held.get("me") else {
        panic!("no me")
    };
    assert_eq!(me.current_org.as_ref().map(|o| o.id), Some(hangzhou.id));
    let Some(Record::Report(report)) = now_held.get(&format!("report:{report_id}")) else {
        panic!("no report")
    };
    let ReportState::Accepted { stop_id, .. } = report.state else {
        panic!("{:?}", report.state)
    };
    let Some(Record::Stop(stop)) = now_held.get(&format!("stop:{stop_id}")) else {
        panic!("no stop")
    };
    assert_eq!((stop.org.id, stop.left_at), (hangzhou.id, None));
    assert_eq!(activities_held(&now_held), 3, "the organisation's activities arrive");
    let roster = overview(&server, &secretary).await;
    assert!(roster.pending.is_empty());
    assert!(roster.members.iter().any(|m| m.person_id == member.me.id && !m.lost));

    // Leaving: the member says so, the secretary evaluates, the stop closes and Hangzhou's activities leave.
    let leave = Mutation {
        seq: 3,
        occurred_at: now_ms(),
        op: Op::Leave { stop_id },
    };
    assert_eq!(push_one(&server, &member, leave).await, Outcome::Applied);
    let entry: RosterEntry = overview(&server, &secretary)
        .await
        .members
        .into_iter()
        .find(|m| m.person_id == member.me.id)
        .unwrap();
    assert!(entry.leaving_at.is_some());
    assert_eq!(evaluate(&server, &secretary, stop_id).await, StatusCode::NO_CONTENT);
    assert_eq!(evaluate(&server, &secretary, stop_id).await, StatusCode::CONFLICT);
    let finally = held(&all_changes(&server, &member).await);
    let Some(Record::Stop(stop)) = finally.get(&format!("stop:{stop_id}")) else {
        panic!("no stop")
    };
    assert_eq!(stop.left_at, entry.leaving_at, "closed on the day the member said");
    assert_eq!(stop.evaluation.as_ref().map(|e| e.grade), Some(Grade::Excellent));
    let Some(Record::Me(me)) = finally.get("me") else {
        panic!("no me")
    };
    assert_eq!(me.current_org, None);
    assert_eq!(activities_held(&finally), 0, "lost access: they leave the phone");
    let departed = overview(&server, &secretary).await.departed;
    assert!(departed
        .iter()
        .any(|d| d.person_id == member.me.id && d.evaluation.is_some()));
}

#[tokio::test]
async fn a_refusal_says_why_and_a_rotated_code_is_refused() {
    let server = Server::start().await;
    let secretary = server.sign_in("GH-S01").await;
    let member = server.sign_in("GH-M22").await;
    let old = org_code(&server, &secretary).await;
    push_one(&server, &member, report(1, &old, None)).await;
    let report_id = overview(&server, &secretary).await.pending[0].id;
    let empty = Decision::Refuse { reason: " ".into() };
    assert_eq!(
        decide(&server, &secretary, report_id, &empty).await,
        StatusCode::BAD_REQUEST
    );
    let refuse = Decision::Refuse {
        reason: "请到苏州的组织报到".into(),
    };
    assert_eq!(decide(&server, &secretary, report_id, &refuse).await, StatusCode::OK);
    let records = server.pull_all(&member).await;
    assert!(records.iter().any(|r| matches!(r,
        Record::Report(report) if matches!(&report.state, ReportState::Refused { reason, .. } if reason == "请到苏州的组织报到"))));

    let org = secretary.me.current_org.as_ref().unwrap().id;
    let rotated = server
        .send(
            Method::POST,
            &format!("/api/v1/orgs/{org}/code"),
            Some(&secretary.token),
            None::<&()>,
        )
        .await;
    let new: CodeResponse = rotated.json();
    assert_ne!(new.payload, old);
    assert_eq!(
        push_one(&server, &member, report(2, &old, None)).await,
        Outcome::Rejected {
            reason: Rejection::Code(CodeError::Revoked)
        }
    );
    assert!(
        server
            .pull_all(&member)
            .await
            .iter()
            .any(|r| matches!(r, Record::OrgCode(since) if since.org_id == org)),
        "every phone learns of the withdrawal"
    );
    assert_eq!(
        push_one(&server, &member, report(3, &new.payload, None)).await,
        Outcome::Applied
    );
}

#[tokio::test]
async fn reporting_elsewhere_having_left_closes_the_old_stop_on_acceptance() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let suzhou = server.sign_in("GH-S02").await;
    let open = server
        .pull_all(&member)
        .await
        .into_iter()
        .find_map(|r| match r {
            Record::Stop(stop) if stop.left_at.is_none() => Some(stop),
            _ => None,
        })
        .unwrap();
    let code = org_code(&server, &suzhou).await;
    assert_eq!(
        push_one(&server, &member, report(1, &code, Some(open.id))).await,
        Outcome::Applied
    );
    let pending = overview(&server, &suzhou).await.pending;
    assert_eq!(pending[0].previous_org.as_deref(), Some(open.org.name.as_str()));
    assert_eq!(
        decide(&server, &suzhou, pending[0].id, &Decision::Accept).await,
        StatusCode::OK
    );
    let stops: Vec<_> = server
        .pull_all(&member)
        .await
        .into_iter()
        .filter_map(|r| if let Record::Stop(s) = r { Some(s) } else { None })
        .collect();
    let old = stops.iter().find(|s| s.id == open.id).unwrap();
    assert!(
        old.left_at.is_some() && old.evaluation.is_none(),
        "closed, evaluation still to come"
    );
    let hangzhou = server.sign_in("GH-S01").await;
    let departed = overview(&server, &hangzhou).await.departed;
    assert!(
        departed.iter().any(|d| d.stop_id == Some(open.id)),
        "Hangzhou can still evaluate it"
    );
    assert!(stops
        .iter()
        .any(|s| s.org.id == suzhou.me.current_org.as_ref().unwrap().id && s.left_at.is_none()));

    // Back to Hangzhou before its secretary got round to the evaluation: writing it late leaves them there.
    let back = org_code(&server, &hangzhou).await;
    assert_eq!(
        push_one(&server, &member, report(2, &back, None)).await,
        Outcome::Applied
    );
    let pending = overview(&server, &hangzhou).await.pending;
    assert_eq!(
        decide(&server, &hangzhou, pending[0].id, &Decision::Accept).await,
        StatusCode::OK
    );
    assert_eq!(evaluate(&server, &hangzhou, open.id).await, StatusCode::NO_CONTENT);
    let me: guihai_core::domain::Me = server.get("/api/v1/me", Some(&member.token)).await.json();
    assert_eq!(
        me.current_org.map(|o| o.id),
        Some(hangzhou.me.current_org.as_ref().unwrap().id)
    );
}

#[tokio::test]
async fn the_township_sees_where_its_members_are_who_is_out_of_contact_and_registers_a_return() {
    let server = Server::start().await;
    let admin = server.sign_in("GH-T01").await; // 新安镇
    let township = admin.me.home_org.id;
    let reply = server
        .get(&format!("/api/v1/orgs/{township}/members"), Some(&admin.token))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
    let members: Vec<RosterEntry> = reply.json();
    let wang = members.iter().find(|m| m.name == "王建国").unwrap();
    assert_eq!(wang.current_org.as_ref().map(|o| o.city.as_deref()), Some(Some("杭州")));
    assert!(!wang.lost);
    assert!(members.iter().all(|m| m.home_org == "新安镇"));

    let shanghai = server.sign_in("GH-S05").await;
    let roster = overview(&server, &shanghai).await.members;
    let mut lost: Vec<_> = roster.iter().filter(|m| m.lost).map(|m| m.name.as_str()).collect();
    lost.sort_unstable();
    let mut expected = ["罗小燕", "马长海"];
    expected.sort_unstable();
    assert_eq!(lost, expected, "the demo's two members not heard from in 120 days");

    // A township looks after its members' accounts, not its staff's: the county administrator and Hangzhou's
    // secretary live in 新安镇 too.
    let staff = [server.sign_in("GH-C01").await, server.sign_in("GH-S01").await];
    for person in &staff {
        let devices = format!("/api/v1/people/{}/devices", person.me.id);
        assert_eq!(
            server.get(&devices, Some(&admin.token)).await.status,
            StatusCode::NOT_FOUND
        );
        let back = format!("/api/v1/people/{}/return", person.me.id);
        let status = server
            .send(Method::POST, &back, Some(&admin.token), None::<&()>)
            .await
            .status;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    let other = server.sign_in("GH-T02").await;
    let wang_id = wang.person_id;
    let path = format!("/api/v1/people/{wang_id}/return");
    assert_eq!(
        server
            .send(Method::POST, &path, Some(&other.token), None::<&()>)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server
            .send(Method::POST, &path, Some(&admin.token), None::<&()>)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let member = server.sign_in("GH-M01").await;
    assert_eq!(member.me.current_org, None, "home again");
}

#[tokio::test]
async fn the_county_sees_its_tree_with_members_lost_contact_and_waiting_reports() {
    let server = Server::start().await;
    let admin = server.sign_in("GH-C01").await;
    let county = admin.county();
    let newcomer = server.sign_in("GH-M21").await;
    let code = org_code(&server, &server.sign_in("GH-S05").await).await;
    push_one(&server, &newcomer, report(1, &code, None)).await;

    let reply = server
        .get(&format!("/api/v1/orgs/{county}/tree"), Some(&admin.token))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
    let tree: guihai_core::report::OrgTree = reply.json();
    assert_eq!(tree.orgs.len(), 10, "five townships, five host organisations");
    let find = |name: &str| tree.orgs.iter().find(|o| o.org.name == name).unwrap();
    let xinan = find("新安镇");
    assert_eq!(
        (xinan.members, xinan.parent_id),
        (6, Some(county)),
        "five away and one just arrived"
    );
    let shanghai = find("灌南县驻上海流动党员联系点");
    assert_eq!((shanghai.members, shanghai.lost, shanghai.pending), (4, 2, 1));
    assert_eq!(shanghai.address.as_deref(), Some("上海市嘉定区城中路 138 号"));
    let township_admin = server.sign_in("GH-T01").await;
    let refused = server
        .get(&format!("/api/v1/orgs/{county}/tree"), Some(&township_admin.token))
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_county_totals_equal_a_count_made_from_the_database() {
    let server = Server::start().await;
    let admin = server.sign_in("GH-C01").await;
    // A member comes to yesterday's activity, made a volunteer one of 2.5 hours.
    let member = server.sign_in("GH-M01").await;
    let (ended, code) = server.hangzhou_code(&member, crate::When::Ended).await;
    server
        .execute(&format!(
            "UPDATE activities SET kind = 'volunteer', hours_tenths = 25 WHERE id = '{}'",
            ended.id
        ))
        .await;
    push_one(&server, &member, crate::check_in(1, &code, now_ms() - 86_400_000)).await;

    let tree = assert_tree_counts_the_database(&server, &admin).await;
    let attended_anywhere: u32 = tree
        .orgs
        .iter()
        .filter(|summary| !summary.org.kind.is_host_side())
        .map(|summary| summary.attended)
        .sum();
    assert!(attended_anywhere >= 1, "the check-in above is counted");
    assert!(CountyTotals::of(&tree.orgs).hours_tenths >= 25);
}

/// The county's tree, each organisation's figures checked against a count made here from the database, and
/// the county's totals against its members counted there.
pub async fn assert_tree_counts_the_database(server: &Server, admin: &Session) -> OrgTree {
    let county = admin.county();
    let tree: OrgTree = server
        .get(&format!("/api/v1/orgs/{county}/tree"), Some(&admin.token))
        .await
        .json();
    let since = now_ms() - 365 * 86_400_000;
    let held =
        format!("a.cancelled_at IS NULL AND a.starts_at >= {since} AND a.ends_at <= strftime('%s','now') * 1000");
    for summary in &tree.orgs {
        let id = summary.org.id;
        let (members, on) = match summary.org.kind.is_host_side() {
            false => ("p.home_org_id", "township"),
            true => ("p.current_org_id", "host"),
        };
        let people = format!("FROM people p WHERE {members} = '{id}' AND p.certificate_no IS NOT NULL");
        let count = async |sql: String| server.count(&sql).await;
        let expected = (
            count(format!("SELECT count(*) {people}")).await,
            count(format!("SELECT count(p.current_org_id) {people}")).await,
            count(format!(
                "SELECT count(*) FROM activities a WHERE a.org_id = '{id}' AND {held}
                   AND EXISTS (SELECT 1 FROM organisations o WHERE o.id = a.org_id AND o.kind <> 'township')"
            ))
            .await,
            count(format!(
                "SELECT count(*) FROM check_ins c JOIN people p ON p.id = c.person_id
                 JOIN activities a ON a.id = c.activity_id AND a.org_id = p.current_org_id
                 WHERE {members} = '{id}' AND p.certificate_no IS NOT NULL AND {held}"
            ))
            .await,
            count(format!(
                "SELECT count(*) FROM people p JOIN activities a ON a.org_id = p.current_org_id
                 WHERE {members} = '{id}' AND p.certificate_no IS NOT NULL AND {held}"
            ))
            .await,
        );
        let hours = match on {
            "township" => format!(
                "SELECT coalesce(sum(coalesce(c.hours_tenths, a.hours_tenths, 0)), 0) FROM check_ins c
                 JOIN people p ON p.id = c.person_id JOIN activities a ON a.id = c.activity_id
                 WHERE p.home_org_id = '{id}' AND p.certificate_no IS NOT NULL AND a.kind = 'volunteer' AND {held}"
            ),
            _ => format!(
                "SELECT coalesce(sum(coalesce(c.hours_tenths, a.hours_tenths, 0)), 0) FROM check_ins c
                 JOIN activities a ON a.id = c.activity_id WHERE a.org_id = '{id}' AND a.kind = 'volunteer' AND {held}"
            ),
        };
        let shown = (
            i64::from(summary.members),
            i64::from(summary.reported),
            i64::from(summary.activities),
            i64::from(summary.attended),
            i64::from(summary.expected),
        );
        assert_eq!(
            shown, expected,
            "{} (members, reported, activities, attended, expected)",
            summary.org.name
        );
        assert_eq!(
            i64::from(summary.hours_tenths),
            count(hours).await,
            "{}'s hours",
            summary.org.name
        );
    }
    let totals = CountyTotals::of(&tree.orgs);
    let all_members = server
        .count(&format!(
            "SELECT count(*) FROM people p JOIN organisations h ON h.id = p.home_org_id
             WHERE h.parent_id = '{county}' AND h.kind = 'township' AND p.certificate_no IS NOT NULL"
        ))
        .await;
    assert_eq!(i64::from(totals.members), all_members);
    tree
}

#[tokio::test]
async fn the_township_sees_its_members_flow_by_city_and_month() {
    let server = Server::start().await;
    let admin = server.sign_in("GH-T01").await;
    let township = admin.me.home_org.id;
    let flow: guihai_core::flow::Flow = server
        .get(&format!("/api/v1/orgs/{township}/flow"), Some(&admin.token))
        .await
        .json();
    let members: Vec<RosterEntry> = server
        .get(&format!("/api/v1/orgs/{township}/members"), Some(&admin.token))
        .await
        .json();
    assert_eq!(flow.members as usize, members.len());
    // Now: each city counts the members whose current organisation is there.
    for city in &flow.cities {
        let there = members
            .iter()
            .filter(|m| m.current_org.as_ref().and_then(|o| o.city.as_deref()) == Some(city.name.as_str()))
            .count();
        assert_eq!(city.members as usize, there, "{}", city.name);
    }
    let away = members.iter().filter(|m| m.current_org.is_some()).count();
    assert!(away > 0);
    assert_eq!(flow.cities.iter().map(|c| c.members as usize).sum::<usize>(), away);
    assert_eq!(flow.months.len(), 12);
    assert_eq!(flow.months.last().map(|m| m.away as usize), Some(away));

    let sheet = server
        .get(&format!("/api/v1/orgs/{township}/flow.csv"), Some(&admin.token))
        .await;
    assert_eq!(sheet.status, StatusCode::OK);
    let text = String::from_utf8_lossy(&sheet.body);
    assert!(text.starts_with("\u{feff}月份,在外党员,城市,党员"), "{text}");
}
