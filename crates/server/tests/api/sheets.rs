//! The spreadsheets staff download: Excel in Chinese opens them (UTF-8 with a byte order mark), and what they
//! count is what the database holds, counted here on its own.

use axum::http::{header, StatusCode};

use crate::{Server, Session};

/// The rows of a downloaded sheet, its header first, after checking it is one.
async fn sheet(server: &Server, path: &str, caller: &Session) -> Vec<Vec<String>> {
    let reply = server.get(path, Some(&caller.token)).await;
    assert_eq!(reply.status, StatusCode::OK, "{path}");
    assert_eq!(reply.header(header::CONTENT_TYPE), "text/csv; charset=utf-8");
    let text = String::from_utf8(reply.body).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("a byte order mark, for Excel");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|row| row.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn the_county_sheet_counts_what_the_database_holds() {
    let server = Server::start().await;
    let admin = server.sign_in("GH-C01").await;
    let county = admin.county();
    let rows = sheet(&server, &format!("/api/v1/orgs/{county}/tree.csv"), &admin).await;
    assert_eq!(
        rows[0],
        [
            "组织",
            "类别",
            "城市",
            "党员",
            "已报到",
            "失联",
            "待确认的报到",
            "近12个月活动",
            "参加率",
            "志愿服务小时"
        ]
    );
    let townships: Vec<_> = rows.iter().filter(|row| row[1] == "乡镇党委").collect();
    assert_eq!(townships.len(), 5);
    for row in townships {
        let members = server
            .count(&format!(
                "SELECT count(*) FROM people p JOIN organisations o ON o.id = p.home_org_id
                 WHERE o.name = '{}' AND p.certificate_no IS NOT NULL",
                row[0]
            ))
            .await;
        assert_eq!(row[3], members.to_string(), "{}", row[0]);
        let away = server
            .count(&format!(
                "SELECT count(*) FROM people p JOIN organisations o ON o.id = p.home_org_id
                 WHERE o.name = '{}' AND p.certificate_no IS NOT NULL AND p.current_org_id IS NOT NULL",
                row[0]
            ))
            .await;
        assert_eq!(row[4], away.to_string(), "{} reported", row[0]);
    }
    let hosts: Vec<_> = rows.iter().skip(1).filter(|row| row[1] != "乡镇党委").collect();
    for row in hosts {
        let there = server
            .count(&format!(
                "SELECT count(DISTINCT s.person_id) FROM stops s JOIN organisations o ON o.id = s.org_id
                 JOIN people p ON p.id = s.person_id
                 WHERE o.name = '{}' AND s.left_at IS NULL AND p.certificate_no IS NOT NULL",
                row[0]
            ))
            .await;
        assert_eq!(row[3], there.to_string(), "{}", row[0]);
    }
}

#[tokio::test]
async fn the_township_and_organisation_sheets_list_their_members() {
    let server = Server::start().await;
    let township = server.sign_in("GH-T05").await; // 三口镇
    let rows = sheet(
        &server,
        &format!("/api/v1/orgs/{}/members.csv", township.me.home_org.id),
        &township,
    )
    .await;
    assert_eq!(rows[0][0], "姓名");
    let home = server
        .count(&format!(
            "SELECT count(*) FROM people WHERE home_org_id = '{}' AND certificate_no IS NOT NULL",
            township.me.home_org.id
        ))
        .await;
    assert_eq!(rows.len() - 1, usize::try_from(home).unwrap());
    let luo = rows.iter().find(|row| row[0] == "罗小燕").unwrap();
    assert_eq!(
        (luo[3].as_str(), luo[9].as_str()),
        ("上海", "是"),
        "where she is, and out of contact"
    );

    let shanghai = server.sign_in("GH-S05").await;
    let org = shanghai.me.current_org.as_ref().unwrap().id;
    let rows = sheet(&server, &format!("/api/v1/orgs/{org}/overview.csv"), &shanghai).await;
    assert!(rows.iter().any(|row| row[0] == "罗小燕"));
}
