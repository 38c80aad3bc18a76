//! Notices: who they reach, what a read does, and what the author sees.

use axum::http::{Method, StatusCode};
use guihai_core::notice::{NewNotice, Notice, Receipts, SentNotice};
use guihai_core::sync::{Mutation, Op, Outcome, PushResponse, Record, Rejection};
use guihai_core::Id;

use crate::{now_ms, Server, Session};

fn new_notice(title: &str) -> NewNotice {
    NewNotice {
        title: title.into(),
        body: "12 月 6 日晚 7 点，线上学习，请准时参加。".into(),
    }
}

async fn send(server: &Server, author: &Session, org_id: Id, title: &str) -> Notice {
    let path = format!("/api/v1/orgs/{org_id}/notices");
    server.create(&path, &author.token, &new_notice(title)).await
}

/// The notices on the member's phone after a full pull.
async fn notices_of(server: &Server, member: &Session) -> Vec<Notice> {
    let records = server.pull_all(member).await;
    records
        .into_iter()
        .filter_map(|record| match record {
            Record::Notice(notice) => Some(notice),
            _ => None,
        })
        .collect()
}

async fn read(server: &Server, member: &Session, seq: u64, notice: &Notice) -> Outcome {
    let mutation = Mutation {
        seq,
        occurred_at: now_ms(),
        op: Op::ReadNotice { notice_id: notice.id },
    };
    let reply = server.push(member, vec![mutation]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
    reply.json::<PushResponse>().results.remove(0).outcome
}

#[tokio::test]
async fn a_township_notice_reaches_its_members_and_their_reads_reach_the_author() {
    let server = Server::start().await;
    let admin = server.sign_in("GH-T01").await; // 新安镇
    let township = admin.me.home_org.id;
    let notice = send(&server, &admin, township, "十二月主题党日").await;
    assert_eq!(notice.org_name, admin.me.home_org.name);

    let wang = server.sign_in("GH-M01").await; // 新安镇
    let li = server.sign_in("GH-M02").await; // 堆沟港镇
    assert_eq!(notices_of(&server, &wang).await, std::slice::from_ref(&notice));
    assert!(notices_of(&server, &li).await.is_empty(), "another township's member");

    assert_eq!(read(&server, &wang, 1, &notice).await, Outcome::Applied);
    assert_eq!(
        read(&server, &li, 1, &notice).await,
        Outcome::Rejected {
            reason: Rejection::Forbidden
        }
    );
    // The member's other phones learn it was read.
    let read_on_phone = server
        .pull_all(&wang)
        .await
        .into_iter()
        .any(|record| matches!(record, Record::NoticeRead(read) if read.notice_id == notice.id));
    assert!(read_on_phone);

    let path = format!("/api/v1/notices/{}/receipts", notice.id);
    let receipts: Receipts = server.get(&path, Some(&admin.token)).await.json();
    let read_by: Vec<_> = receipts.read.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(read_by, ["王建国"]);
    assert!(receipts.unread.iter().any(|r| r.name == "刘海燕"));
    assert!(receipts.unread.iter().all(|r| r.read_at.is_none()));
    let sent: Vec<SentNotice> = server
        .get(&format!("/api/v1/orgs/{township}/notices"), Some(&admin.token))
        .await
        .json();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].read, 1);
    assert_eq!(sent[0].members as usize, receipts.read.len() + receipts.unread.len());
}

#[tokio::test]
async fn a_county_notice_reaches_every_township_and_an_organisation_notice_its_members_there() {
    let server = Server::start().await;
    let county_admin = server.sign_in("GH-C01").await;
    let county = county_admin.county();
    let to_all = send(&server, &county_admin, county, "全县流动党员通知").await;
    let hangzhou_secretary = server.sign_in("GH-S01").await;
    let hangzhou = hangzhou_secretary.me.current_org.as_ref().unwrap().id;
    let to_hangzhou = send(&server, &hangzhou_secretary, hangzhou, "杭州支部通知").await;

    let in_hangzhou = server.sign_in("GH-M01").await;
    let in_suzhou = server.sign_in("GH-M05").await;
    let titles = |notices: Vec<Notice>| {
        let mut titles: Vec<String> = notices.into_iter().map(|n| n.title).collect();
        titles.sort();
        titles
    };
    let mut both = vec![to_all.title.clone(), to_hangzhou.title.clone()];
    both.sort();
    assert_eq!(titles(notices_of(&server, &in_hangzhou).await), both);
    assert_eq!(
        titles(notices_of(&server, &in_suzhou).await),
        std::slice::from_ref(&to_all.title)
    );

    // What cannot be sent, and who cannot send.
    let path = format!("/api/v1/orgs/{hangzhou}/notices");
    for bad in [new_notice(" "), new_notice(&"题".repeat(61))] {
        let reply = server
            .send(Method::POST, &path, Some(&hangzhou_secretary.token), Some(&bad))
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    }
    let reply = server
        .send(Method::POST, &path, Some(&in_hangzhou.token), Some(&new_notice("x")))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::NOT_FOUND,
        "a member cannot send their organisation's notices"
    );
}
