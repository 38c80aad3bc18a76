//! Demo data for `--demo`: Guannan County (DOMAIN.md), five townships, its five host organisations in the
//! cities where its members work, their secretaries, twenty members and a few activities each; and the sign-in
//! sheet printed at start. Activation codes are deterministic (`GH-M01`..`GH-M20`, `GH-S01`..`GH-S05`) so
//! people and tests can use them.

use std::fmt::Write as _;
use std::net::SocketAddr;

use guihai_core::certificate::{Evaluation, Grade};
use guihai_core::domain::{ActivityKind, NewActivity, OrgKind};
use guihai_core::profile::{Edit, Field};
use guihai_core::Id;
use sqlx::{SqliteConnection, SqlitePool};

use crate::error::AppError;
use crate::identity::auth::{self, activation_code_hash};
use crate::sync::changes::{self, Audience, LogKey};
use crate::{activities, clock, db, identity::profile, organisations::certificate, AppState};

const COUNTY: &str = "灌南县";
const TOWNSHIPS: [&str; 5] = ["新安镇", "堆沟港镇", "田楼镇", "北陈集镇", "三口镇"];

struct HostOrg {
    name: &'static str,
    kind: OrgKind,
    city: &'static str,
    address: &'static str,
    contact: &'static str,
    /// The secretary: name and home township. Codes `GH-S01`.. in this order.
    secretary: (&'static str, &'static str),
}

#[rustfmt::skip]
const HOST_ORGS: [HostOrg; 5] = [
    HostOrg { name: "灌南县驻杭州流动党委", kind: OrgKind::MobileCommittee, city: "杭州",
              address: "杭州市萧山区建设四路 518 号", contact: "0571-82610388", secretary: ("陆振华", "新安镇") },
    HostOrg { name: "灌南县驻苏州流动党总支", kind: OrgKind::GeneralBranch, city: "苏州",
              address: "苏州市吴中区东吴北路 98 号", contact: "0512-65283016", secretary: ("孟庆祥", "堆沟港镇") },
    HostOrg { name: "灌南县驻无锡流动党支部", kind: OrgKind::Branch, city: "无锡",
              address: "无锡市惠山区堰桥街道锡澄路 277 号", contact: "0510-83598217", secretary: ("葛春林", "田楼镇") },
    HostOrg { name: "灌南县驻青岛流动党委", kind: OrgKind::MobileCommittee, city: "青岛",
              address: "青岛市黄岛区长江中路 216 号", contact: "0532-86987123", secretary: ("汪德明", "北陈集镇") },
    HostOrg { name: "灌南县驻上海流动党员联系点", kind: OrgKind::ContactPoint, city: "上海",
              address: "上海市嘉定区城中路 138 号", contact: "021-59528460", secretary: ("沈玉梅", "三口镇") },
];

/// Name, home township, city of the host organisation they report to. Codes `GH-M01`.. and certificates
/// `GN-2026-0001`.. in this order; `GH-M01` works in Hangzhou.
#[rustfmt::skip]
const MEMBERS: [(&str, &str, &str); 20] = [
    ("王建国", "新安镇", "杭州"),   ("李秀英", "堆沟港镇", "杭州"), ("张志强", "田楼镇", "杭州"),   ("刘海燕", "新安镇", "杭州"),
    ("陈明",   "三口镇", "苏州"),   ("杨立新", "北陈集镇", "苏州"), ("赵红梅", "新安镇", "苏州"),   ("黄德胜", "堆沟港镇", "苏州"),
    ("周丽娟", "田楼镇", "无锡"),   ("吴永刚", "三口镇", "无锡"),   ("徐春生", "北陈集镇", "无锡"), ("孙桂兰", "新安镇", "无锡"),
    ("胡晓东", "堆沟港镇", "青岛"), ("朱玉珍", "田楼镇", "青岛"),   ("高文杰", "三口镇", "青岛"),   ("林淑芬", "北陈集镇", "青岛"),
    ("何志平", "新安镇", "上海"),   ("郭秀兰", "堆沟港镇", "上海"), ("马长海", "田楼镇", "上海"),   ("罗小燕", "三口镇", "上海"),
];

/// Members who have just arrived in a city and not yet reported anywhere: name and home township. Codes
/// `GH-M21`.. and certificates `GN-2026-0021`.. in this order.
const NEW_ARRIVALS: [(&str, &str); 2] = [("孙立平", "新安镇"), ("钱桂芳", "田楼镇")];

/// Each township's administrator, in `TOWNSHIPS` order (codes `GH-T01`..), and the county's (`GH-C01`).
const TOWNSHIP_ADMINS: [&str; 5] = ["许国华", "蒋丽萍", "韩正明", "曹建军", "彭晓红"];
const COUNTY_ADMIN: &str = "邓永红";

/// Members not heard from for this long show as out of contact (失联) in the demo.
const LOST_MEMBERS: [usize; 2] = [19, 20];

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// Every host organisation holds these, placed relative to the seeding time: title, kind, start, end.
#[rustfmt::skip]
const ACTIVITIES: [(&str, ActivityKind, i64, i64); 3] = [
    // Running now: its code works.
    ("组织生活会：守纪守法做事，诚实诚信做人", ActivityKind::OrganisationLife, -DAY, 60 * DAY),
    // Ended yesterday: its code has expired.
    ("“三比一争”技能交流会", ActivityKind::Study, -DAY - 3 * HOUR, -DAY),
    // Next week.
    ("“双亮双带”志愿服务：社区环境整治", ActivityKind::Volunteer, 7 * DAY, 7 * DAY + 3 * HOUR),
];

fn member_code(n: usize) -> String {
    format!("GH-M{n:02}")
}

fn secretary_code(n: usize) -> String {
    format!("GH-S{n:02}")
}

fn township_admin_code(n: usize) -> String {
    format!("GH-T{n:02}")
}

const COUNTY_ADMIN_CODE: &str = "GH-C01";

/// Seeds the demo when the database has no organisations; returns whether it did. A database with
/// organisations that the demo did not seed holds real data: `--demo` is refused there, since the demo's codes
/// (the county administrator's among them) are public and sign in again and again.
pub async fn seed_if_empty(db: &SqlitePool) -> Result<bool, AppError> {
    let mut tx = db::begin_write(db).await?;
    let (orgs,): (i64,) = sqlx::query_as("SELECT count(*) FROM organisations")
        .fetch_one(&mut *tx)
        .await?;
    if orgs > 0 {
        let seeded: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM people WHERE activation_code_hash = ?")
            .bind(&activation_code_hash(COUNTY_ADMIN_CODE)[..])
            .fetch_optional(&mut *tx)
            .await?;
        return match seeded {
            Some(_) => Ok(false),
            None => Err(AppError::Conflict(
                "--demo on a database that holds real data: start the server without --demo".into(),
            )),
        };
    }
    let now = clock::now_ms();

    let county = insert_org(&mut tx, COUNTY, OrgKind::County, None, None, None).await?;
    let mut townships = Vec::new();
    for name in TOWNSHIPS {
        townships.push((
            name,
            insert_org(&mut tx, name, OrgKind::Township, Some(county), None, None).await?,
        ));
    }
    let township = |name: &str| {
        townships
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, id)| *id)
            .expect("known township")
    };

    let mut hosts = Vec::new();
    for (n, org) in (1..).zip(&HOST_ORGS) {
        let id = insert_org(&mut tx, org.name, org.kind, None, Some(org), Some(county)).await?;
        let (name, home) = org.secretary;
        let person = Person {
            name,
            home: township(home),
            current: Some(id),
            certificate_no: None,
        };
        let secretary = insert_person(&mut tx, &person, &secretary_code(n), &format!("1380000{n:04}")).await?;
        grant(&mut tx, secretary, "secretary", id).await?;
        for (title, kind, starts, ends) in ACTIVITIES {
            let activity = NewActivity {
                org_id: id,
                title: title.to_owned(),
                kind,
                starts_at: now + starts,
                ends_at: now + ends,
                place: Some(org.address.to_owned()),
                team: None,
                notes: None,
                open_to_visitors: true,
                hours_tenths: None,
            };
            activities::insert(&mut tx, activity).await?;
        }
        hosts.push((org.city, id));
    }

    for (n, (name, home, city)) in (1..).zip(MEMBERS) {
        let current = hosts
            .iter()
            .find(|(c, _)| *c == city)
            .map(|(_, id)| *id)
            .expect("known city");
        let person = Person {
            name,
            home: township(home),
            current: Some(current),
            certificate_no: Some(format!("GN-2026-{n:04}")),
        };
        let member = insert_person(&mut tx, &person, &member_code(n), &format!("1390000{n:04}")).await?;
        let days_ago = if LOST_MEMBERS.contains(&n) {
            120
        } else {
            i64::try_from(n).unwrap_or(1)
        };
        sqlx::query("UPDATE people SET contacted_at = ? WHERE id = ?")
            .bind(now - days_ago * DAY)
            .bind(member.to_string())
            .execute(&mut *tx)
            .await?;
        let elsewhere = hosts[(hosts.iter().position(|(_, id)| *id == current).unwrap_or(0) + 1) % hosts.len()].1;
        certificate_history(&mut tx, n, member, (current, elsewhere), township(home), now).await?;
    }
    for (n, (name, home)) in (MEMBERS.len() + 1..).zip(NEW_ARRIVALS) {
        let person = Person {
            name,
            home: township(home),
            current: None,
            certificate_no: Some(format!("GN-2026-{n:04}")),
        };
        insert_person(&mut tx, &person, &member_code(n), &format!("1390000{n:04}")).await?;
    }
    for (n, (name, (_, org))) in (1..).zip(TOWNSHIP_ADMINS.into_iter().zip(&townships)) {
        let person = Person {
            name,
            home: *org,
            current: None,
            certificate_no: None,
        };
        let admin = insert_person(&mut tx, &person, &township_admin_code(n), &format!("1370000{n:04}")).await?;
        grant(&mut tx, admin, "township_admin", *org).await?;
    }
    let person = Person {
        name: COUNTY_ADMIN,
        home: townships[0].1,
        current: None,
        certificate_no: None,
    };
    let admin = insert_person(&mut tx, &person, COUNTY_ADMIN_CODE, "13600000001").await?;
    grant(&mut tx, admin, "county_admin", county).await?;
    tx.commit().await?;
    Ok(true)
}

/// A member's certificate so far: the stop they are at, for every other member an earlier stop in another city
/// with its evaluation, and last year's review by their township.
async fn certificate_history(
    conn: &mut SqliteConnection,
    n: usize,
    member: Id,
    (current, elsewhere): (Id, Id),
    township: Id,
    now: i64,
) -> Result<(), AppError> {
    let n = i64::try_from(n).unwrap_or_default();
    let arrived = now - (120 + 9 * n) * DAY;
    if n % 2 == 1 {
        let earlier = certificate::open_stop(conn, member, elsewhere, arrived - (480 + 5 * n) * DAY).await?;
        let evaluation = Evaluation {
            grade: if n % 4 == 1 { Grade::Excellent } else { Grade::Qualified },
            text: "工作踏实肯干，按时参加组织生活，带头参加社区志愿服务，遵守务工地各项规定。".to_owned(),
            written_at: arrived - DAY,
        };
        certificate::close_stop(conn, member, earlier, arrived - DAY, Some(&evaluation)).await?;
    }
    certificate::open_stop(conn, member, current, arrived).await?;
    let grade = if n % 5 == 0 { Grade::Excellent } else { Grade::Qualified };
    let year = u16::try_from(clock::year_of(now) - 1).unwrap_or(2025);
    let text = "按时交纳党费，主动向党组织报告流动情况，积极参加流入地党组织活动。";
    certificate::add_review(conn, member, township, year, grade, text).await
}

async fn insert_org(
    conn: &mut SqliteConnection,
    name: &str,
    kind: OrgKind,
    parent: Option<Id>,
    host: Option<&HostOrg>,
    home_county: Option<Id>,
) -> Result<Id, AppError> {
    let id = clock::new_id();
    sqlx::query(
        "INSERT INTO organisations (id, name, kind, parent_id, city, address, contact, home_county_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id.to_string())
    .bind(name)
    .bind(kind.as_str())
    .bind(parent.map(|id| id.to_string()))
    .bind(host.map(|org| org.city))
    .bind(host.map(|org| org.address))
    .bind(host.map(|org| org.contact))
    .bind(home_county.map(|id| id.to_string()))
    .execute(&mut *conn)
    .await?;
    changes::touch(conn, LogKey::Org(id), &[Audience::Org(id)]).await?;
    Ok(id)
}

async fn grant(conn: &mut SqliteConnection, person: Id, role: &str, org: Id) -> Result<(), AppError> {
    sqlx::query("INSERT INTO roles (person_id, role, org_id) VALUES (?, ?, ?)")
        .bind(person.to_string())
        .bind(role)
        .bind(org.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

struct Person<'a> {
    name: &'a str,
    home: Id,
    current: Option<Id>,
    certificate_no: Option<String>,
}

async fn insert_person(
    conn: &mut SqliteConnection,
    person: &Person<'_>,
    activation_code: &str,
    phone: &str,
) -> Result<Id, AppError> {
    let id = clock::new_id();
    sqlx::query(
        // Demo codes are printed for anyone trying Guihai, so unlike real ones they work more than once.
        "INSERT INTO people (id, name, home_org_id, current_org_id, certificate_no, activation_code_hash,
                             activation_reusable)
         VALUES (?, ?, ?, ?, ?, ?, 1)",
    )
    .bind(id.to_string())
    .bind(person.name)
    .bind(person.home.to_string())
    .bind(person.current.map(|id| id.to_string()))
    .bind(&person.certificate_no)
    .bind(&activation_code_hash(activation_code)[..])
    .execute(&mut *conn)
    .await?;
    changes::touch(conn, LogKey::Person(id), &[Audience::Member(id)]).await?;
    let contact = Edit {
        base_version: 0,
        fields: [(Field::Phone, phone.to_owned())].into(),
    };
    profile::apply(conn, id, &contact, None).await?;
    auth::set_sign_in_phone(conn, id, phone).await?;
    Ok(id)
}

/// The demo codes, and a check-in link for the activity running now at `GH-M01`'s organisation.
pub async fn sign_in_sheet(state: &AppState, addr: SocketAddr) -> Result<String, AppError> {
    let mut sheet = String::from("demo sign-in codes (members):\n");
    for (n, (name, home, city)) in (1..).zip(MEMBERS) {
        writeln!(sheet, "  {}  {name}  {COUNTY}{home} -> {city}", member_code(n)).expect("writing to a String");
    }
    for (n, (name, home)) in (MEMBERS.len() + 1..).zip(NEW_ARRIVALS) {
        writeln!(
            sheet,
            "  {}  {name}  {COUNTY}{home}, just arrived, to report",
            member_code(n)
        )
        .expect("writing to a String");
    }
    sheet.push_str("demo sign-in codes (secretaries):\n");
    for (n, org) in (1..).zip(&HOST_ORGS) {
        writeln!(sheet, "  {}  {}  {}", secretary_code(n), org.secretary.0, org.name).expect("writing to a String");
    }
    sheet.push_str("demo sign-in codes (administrators):\n");
    for (n, (name, township)) in (1..).zip(TOWNSHIP_ADMINS.into_iter().zip(TOWNSHIPS)) {
        writeln!(sheet, "  {}  {name}  {COUNTY}{township}", township_admin_code(n)).expect("writing to a String");
    }
    writeln!(sheet, "  {COUNTY_ADMIN_CODE}  {COUNTY_ADMIN}  {COUNTY}").expect("writing to a String");

    let running: Option<(String,)> = sqlx::query_as(
        "SELECT a.id FROM activities a JOIN people p ON p.current_org_id = a.org_id
         WHERE p.activation_code_hash = ?1 AND a.starts_at <= ?2 AND a.ends_at > ?2 ORDER BY a.starts_at LIMIT 1",
    )
    .bind(&activation_code_hash(&member_code(1))[..])
    .bind(clock::now_ms())
    .fetch_optional(&state.db)
    .await?;
    if let Some((activity_id,)) = running {
        if let Some((activity, org_name)) = activities::load(&state.db, db::id(&activity_id)?).await? {
            let mut conn = state.db.acquire().await?;
            let code = activities::issue_code(&mut conn, &state.keys(), &activity, &org_name, clock::now_ms()).await?;
            writeln!(
                sheet,
                "check-in link for {} ({org_name}): http://{addr}{}",
                activity.title, code.link
            )
            .expect("writing to a String");
        }
    }
    Ok(sheet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_table_is_consistent() {
        for (name, home, city) in MEMBERS {
            assert!(TOWNSHIPS.contains(&home), "{name}'s home {home}");
            assert!(HOST_ORGS.iter().any(|org| org.city == city), "{name}'s city {city}");
        }
        assert!(HOST_ORGS
            .iter()
            .all(|org| TOWNSHIPS.contains(&org.secretary.1) && org.kind.is_host_side()));
        assert_eq!(MEMBERS[0].2, "杭州", "GH-M01 is in Hangzhou");
        assert!(ACTIVITIES.iter().all(|(_, _, starts, ends)| starts < ends));
    }
}
