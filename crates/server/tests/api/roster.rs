//! A township's roster import: a good file makes members with one-time activation codes; a file with any
//! problem (a national ID column, bad rows, a certificate number already taken) imports nothing.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use guihai_core::roster::{Problem, RosterImport};
use guihai_core::sync::SessionResponse;

use crate::{fresh_id, Server, Session};

pub const HEADER: &str = "姓名,手机号,性别,出生年份,家乡组织,入党日期,流动党员证编号";

pub async fn import(server: &Server, admin: &Session, csv: &str) -> (StatusCode, RosterImport) {
    import_bytes(server, admin, csv.as_bytes().to_vec()).await
}

async fn import_bytes(server: &Server, admin: &Session, file: Vec<u8>) -> (StatusCode, RosterImport) {
    let township = admin.me.home_org.id;
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/orgs/{township}/roster?days=7"))
        .header(header::AUTHORIZATION, format!("Bearer {}", admin.token))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(file))
        .unwrap();
    let reply = server.request(request).await;
    (reply.status, reply.json())
}

#[tokio::test]
async fn a_file_saved_by_excel_in_chinese_is_gbk_and_imports_as_well() {
    let server = Server::start().await;
    let admin = server.sign_in("GH-T01").await;
    // As Excel saves "CSV" on a Chinese Windows: GBK, CRLF, and a quoted field with a comma.
    let csv = format!("{HEADER}\r\n\"欧阳,思远\",13911114444,男,1991,新安镇,2016-07-01,GN-2026-9101\r\n");
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&csv);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&gbk).is_err(), "really not UTF-8");
    let (status, report) = import_bytes(&server, &admin, gbk.into_owned()).await;
    assert_eq!(status, StatusCode::CREATED, "{report:?}");
    assert_eq!(report.imported[0].name, "欧阳,思远");

    // Bytes that are neither UTF-8 nor GBK: the file is refused as a whole, and nothing is imported.
    let (status, report) = import_bytes(&server, &admin, vec![0xff, 0xfe, 0x00, 0x81, 0x30]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(report.problems[0].problem, Problem::File);
}

#[tokio::test]
async fn an_excel_workbook_imports_with_numbers_and_dates_as_excel_shows_them() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let server = Server::start().await;
    let admin = server.sign_in("GH-T01").await;
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    for (col, title) in HEADER.split(',').enumerate() {
        sheet.write_string(0, col as u16, title).unwrap();
    }
    // As a township types it: the phone and the year as numbers, the date as a date.
    let date = Format::new().set_num_format("yyyy年m月d日");
    sheet.write_string(1, 0, "欧阳思远").unwrap();
    sheet.write_number(1, 1, 13911116666.0).unwrap();
    sheet.write_string(1, 2, "男").unwrap();
    sheet.write_number(1, 3, 1991.0).unwrap();
    sheet.write_string(1, 4, "新安镇").unwrap();
    sheet
        .write_datetime_with_format(1, 5, ExcelDateTime::from_ymd(2016, 7, 1).unwrap(), &date)
        .unwrap();
    sheet.write_string(1, 6, "GN-2026-9201").unwrap();
    // A row the township left half done: named by its row, and nothing is imported.
    let mut broken = Workbook::new();
    let broken_sheet = broken.add_worksheet();
    for (col, title) in HEADER.split(',').enumerate() {
        broken_sheet.write_string(0, col as u16, title).unwrap();
    }
    broken_sheet.write_string(2, 0, "孙丽").unwrap();

    let (status, report) = import_bytes(&server, &admin, broken.save_to_buffer().unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(report.problems.iter().all(|p| p.line == 3), "{:?}", report.problems);
    let (status, report) = import_bytes(&server, &admin, workbook.save_to_buffer().unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{report:?}");
    let imported = &report.imported[0];
    assert_eq!(
        (imported.name.as_str(), imported.certificate_no.as_str()),
        ("欧阳思远", "GN-2026-9201")
    );
    let phone = server
        .count("SELECT count(*) FROM people WHERE sign_in_phone = '13911116666' AND name = '欧阳思远'")
        .await;
    assert_eq!(phone, 1, "the phone typed as a number");

    // A file that starts like a workbook but is not one.
    let (status, report) = import_bytes(&server, &admin, b"PK\x03\x04 not a workbook".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(report.problems[0].problem, Problem::File);
}

#[tokio::test]
async fn a_good_file_makes_members_whose_codes_work_once() {
    let server = Server::start().await;
    let admin = server.sign_in("GH-T01").await;
    let csv = format!(
        "{HEADER}\n周新,139 1111 2222,男,1990,新安镇,2015-07-01,GN-2026-9001\n吴兰,13911113333,女,1988,新安镇,2012-05-04,GN-2026-9002\n"
    );
    let (status, report) = import(&server, &admin, &csv).await;
    assert_eq!(status, StatusCode::CREATED, "{report:?}");
    assert!(report.problems.is_empty());
    assert_eq!(report.imported.len(), 2);
    let first = &report.imported[0];
    assert_eq!(
        (first.name.as_str(), first.certificate_no.as_str()),
        ("周新", "GN-2026-9001")
    );
    assert!(first.link.ends_with(&format!("/signin#code={}", first.code)));
    assert!(first.qr_path.starts_with('M'));

    let reply = server.sign_in_with(&first.code.to_lowercase(), fresh_id()).await;
    assert_eq!(reply.status, StatusCode::OK);
    let session: SessionResponse = reply.json();
    assert_eq!(session.me.home_org.id, admin.me.home_org.id);
    assert_eq!(session.me.current_org, None);
    assert_eq!(
        server.sign_in_with(&first.code, fresh_id()).await.status,
        StatusCode::UNAUTHORIZED,
        "a real code works once"
    );
    let phone: String = sqlx::query_scalar(
        "SELECT value FROM profile_fields f JOIN people p ON p.id = f.person_id WHERE p.certificate_no = 'GN-2026-9001'",
    )
    .fetch_one(&server.state.db)
    .await
    .unwrap();
    assert_eq!(phone, "139 1111 2222");

    // The same file again: whoever has not signed in yet gets a fresh code; whoever has is taken.
    let (status, again) = import(&server, &admin, &csv).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.problems.len(), 1);
    assert_eq!(
        (again.problems[0].line, again.problems[0].problem),
        (2, Problem::CertificateTaken)
    );
    let second_only = format!("{HEADER}\n吴兰,13911113333,女,1988,新安镇,2012-05-04,GN-2026-9002\n");
    let (status, again) = import(&server, &admin, &second_only).await;
    assert_eq!(status, StatusCode::CREATED);
    let lost = &report.imported[1];
    assert_ne!(again.imported[0].code, lost.code);
    assert_eq!(
        server.sign_in_with(&lost.code, fresh_id()).await.status,
        StatusCode::UNAUTHORIZED,
        "the lost code is void"
    );
    assert_eq!(
        server.sign_in_with(&again.imported[0].code, fresh_id()).await.status,
        StatusCode::OK
    );
    assert_eq!(
        server
            .count("SELECT count(*) FROM people WHERE certificate_no = 'GN-2026-9002'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_file_with_any_problem_imports_nothing() {
    let server = Server::start().await;
    let admin = server.sign_in("GH-T01").await;
    let people = server.count("SELECT count(*) FROM people").await;

    let with_id = "姓名,身份证号码,手机号,性别,出生年份,家乡组织,入党日期,流动党员证编号\n\
                   周新,320724199001011234,13911112222,男,1990,新安镇,2015-07-01,GN-2026-9001";
    let (status, report) = import(&server, &admin, with_id).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(report.problems[0].problem, Problem::NationalId);

    let one_bad = format!("{HEADER}\n周新,13911112222,男,1990,新安镇,2015-07-01,GN-2026-9001\n吴兰,139,女,1988,田楼镇,2012-05-04,GN-2026-9002");
    let (status, report) = import(&server, &admin, &one_bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let found: Vec<_> = report.problems.iter().map(|p| (p.line, p.problem)).collect();
    assert_eq!(found, [(3, Problem::Phone), (3, Problem::OtherTownship)]);

    // GN-2026-0002 is the demo's 李秀英, of 堆沟港镇.
    let taken = format!("{HEADER}\n周新,13911112222,男,1990,新安镇,2015-07-01,GN-2026-9001\n\n吴兰,13911113333,女,1988,新安镇,2012-05-04,GN-2026-0002");
    let (status, report) = import(&server, &admin, &taken).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let found: Vec<_> = report.problems.iter().map(|p| (p.line, p.problem)).collect();
    assert_eq!(
        found,
        [(4, Problem::CertificateTaken)],
        "the line as in the file, blank line counted"
    );

    // 13900000001 is the demo's 王建国's sign-in number.
    let phone_taken = format!("{HEADER}\n周新,+86 139 0000 0001,男,1990,新安镇,2015-07-01,GN-2026-9001");
    let (status, report) = import(&server, &admin, &phone_taken).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let found: Vec<_> = report.problems.iter().map(|p| (p.line, p.problem)).collect();
    assert_eq!(found, [(2, Problem::PhoneTaken)]);

    assert_eq!(
        server.count("SELECT count(*) FROM people").await,
        people,
        "nothing imported"
    );
}
