//! A township's roster import: a CSV file of its members, checked row by row. A file with any problem imports
//! nothing; the report names every problem by line and column so the administrator can fix them all at once.
//!
//! Columns, by header (Chinese or English, any order): 姓名/name, 手机号/phone, 性别/gender, 出生年份/birth_year,
//! 家乡组织/home_org, 入党日期/joined (YYYY-MM-DD), 流动党员证编号/certificate_no. A column that looks like a national
//! ID number is refused outright: Guihai never stores one.

use serde::{Deserialize, Serialize};

use crate::profile;

/// Most rows in one file: a township's members, with room to spare.
pub const MAX_ROWS: usize = 5_000;
/// Longest file we read, in bytes.
pub const MAX_BYTES: usize = 2 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Male,
    Female,
}

/// One member as imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterRow {
    /// The file's line it came from, for a problem the server finds later.
    pub line: usize,
    pub name: String,
    pub phone: String,
    pub gender: Gender,
    pub birth_year: u16,
    /// The date the member joined the party, `YYYY-MM-DD`.
    pub joined: String,
    pub certificate_no: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    Name,
    Phone,
    Gender,
    BirthYear,
    HomeOrg,
    Joined,
    CertificateNo,
}

impl Column {
    pub const ALL: [Column; 7] = [
        Column::Name,
        Column::Phone,
        Column::Gender,
        Column::BirthYear,
        Column::HomeOrg,
        Column::Joined,
        Column::CertificateNo,
    ];

    fn headers(self) -> [&'static str; 2] {
        match self {
            Column::Name => ["姓名", "name"],
            Column::Phone => ["手机号", "phone"],
            Column::Gender => ["性别", "gender"],
            Column::BirthYear => ["出生年份", "birth_year"],
            Column::HomeOrg => ["家乡组织", "home_org"],
            Column::Joined => ["入党日期", "joined"],
            Column::CertificateNo => ["流动党员证编号", "certificate_no"],
        }
    }

    pub fn as_str(self) -> &'static str {
        self.headers()[1]
    }
}

/// What is wrong, for a message in the administrator's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// The file is empty, too large, not UTF-8, or has more than `MAX_ROWS` rows.
    File,
    MissingColumn,
    UnknownColumn,
    /// A national ID column: refused, never stored.
    NationalId,
    /// A row with more or fewer fields than the header, or an unclosed quote.
    Shape,
    Empty,
    TooLong,
    Phone,
    Gender,
    BirthYear,
    Date,
    /// Joined before turning 18, or in the future.
    JoinedWhen,
    /// The home organisation is not the township importing.
    OtherTownship,
    /// The same certificate number twice in the file.
    DuplicateCertificate,
    /// A certificate number already held by someone on the server.
    CertificateTaken,
    /// The same phone number twice in the file: each member signs in with a number of their own.
    DuplicatePhone,
    /// A phone number someone on the server already signs in with.
    PhoneTaken,
}

impl Problem {
    pub const ALL: [Problem; 17] = [
        Problem::File,
        Problem::MissingColumn,
        Problem::UnknownColumn,
        Problem::NationalId,
        Problem::Shape,
        Problem::Empty,
        Problem::TooLong,
        Problem::Phone,
        Problem::Gender,
        Problem::BirthYear,
        Problem::Date,
        Problem::JoinedWhen,
        Problem::OtherTownship,
        Problem::DuplicateCertificate,
        Problem::CertificateTaken,
        Problem::DuplicatePhone,
        Problem::PhoneTaken,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Problem::File => "file",
            Problem::MissingColumn => "missing_column",
            Problem::UnknownColumn => "unknown_column",
            Problem::NationalId => "national_id",
            Problem::Shape => "shape",
            Problem::Empty => "empty",
            Problem::TooLong => "too_long",
            Problem::Phone => "phone",
            Problem::Gender => "gender",
            Problem::BirthYear => "birth_year",
            Problem::Date => "date",
            Problem::JoinedWhen => "joined_when",
            Problem::OtherTownship => "other_township",
            Problem::DuplicateCertificate => "duplicate_certificate",
            Problem::CertificateTaken => "certificate_taken",
            Problem::DuplicatePhone => "duplicate_phone",
            Problem::PhoneTaken => "phone_taken",
        }
    }
}

/// The number a member signs in with on another phone (with their PIN), as their township administrator sees
/// and sets it (`/people/{id}/sign-in-phone`): one person's each, never changed by the member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInPhone {
    /// Its digits when read; as typed when set (empty or `None` clears it).
    pub phone: Option<String>,
}

/// One problem: the file's line (1 is the header; 0 the whole file), the column if one, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowProblem {
    pub line: usize,
    /// The column's header as written in the file (for an unknown column), or its English name.
    pub column: Option<String>,
    pub problem: Problem,
}

/// A new member's one-time activation code, as the import hands it out (text and QR code to print).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activation {
    pub name: String,
    pub certificate_no: String,
    pub code: String,
    /// Opens the app's sign-in with the code filled in.
    pub link: String,
    pub qr_path: String,
    pub modules: u32,
    /// Unix ms.
    pub expires_at: i64,
}

/// The answer to an import: the activations when it worked, else every problem (and nothing imported).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterImport {
    pub imported: Vec<Activation>,
    pub problems: Vec<RowProblem>,
}

/// The file's rows that hold anything, each with the line it starts on (1 for the header) and its fields
/// trimmed, as a CSV reader reads them: quoted fields may hold commas, quotes and line breaks. `None` for a row it
/// cannot read.
fn records(text: &str) -> Vec<(usize, Option<Vec<String>>)> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    // The line a row starts on, counted in the text: the reader's position is where it started reading, before
    // any blank lines it skipped.
    let line_of = |position: Option<&csv::Position>| {
        position.map_or(0, |p| {
            let bytes = text.as_bytes();
            let mut start = usize::try_from(p.byte()).unwrap_or(usize::MAX).min(bytes.len());
            while bytes.get(start).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
                start += 1;
            }
            bytes[..start].iter().filter(|b| **b == b'\n').count() + 1
        })
    };
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let fields: Vec<String> = record.iter().map(|field| field.trim().to_owned()).collect();
                if fields.iter().any(|field| !field.is_empty()) {
                    rows.push((line_of(record.position()), Some(fields)));
                }
            }
            Err(error) => {
                rows.push((line_of(error.position()), None));
                break;
            }
        }
    }
    rows
}

fn looks_like_national_id(header: &str) -> bool {
    let header = header.to_lowercase();
    [
        "身份证",
        "证件号",
        "id_number",
        "id_no",
        "national_id",
        "idcard",
        "id card",
    ]
    .iter()
    .any(|marker| header.contains(marker))
}

fn valid_date(text: &str) -> Option<(i32, u32, u32)> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
    if parts.next().is_some() || !digits(y, 4) || !digits(m, 2) || !digits(d, 2) {
        return None;
    }
    let (y, m, d): (i32, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days).contains(&d).then_some((y, m, d))
}

/// Checks a whole file for the township named `township`, on `today` (`YYYY-MM-DD`). Either every row is good,
/// or every problem found is reported.
pub fn parse(text: &str, township: &str, today: &str) -> Result<Vec<RosterRow>, Vec<RowProblem>> {
    let whole = |problem| {
        Err(vec![RowProblem {
            line: 0,
            column: None,
            problem,
        }])
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text); // Excel's UTF-8 mark
    if text.trim().is_empty() || text.len() > MAX_BYTES {
        return whole(Problem::File);
    }
    check_rows(records(text), township, today)
}

/// `parse`, for a file already read into rows (a spreadsheet's): each row with the line it was on (1 for the
/// header) and its fields, `None` for one that could not be read.
pub fn check_rows(
    rows: Vec<(usize, Option<Vec<String>>)>,
    township: &str,
    today: &str,
) -> Result<Vec<RosterRow>, Vec<RowProblem>> {
    let whole = |problem| {
        Err(vec![RowProblem {
            line: 0,
            column: None,
            problem,
        }])
    };
    let mut lines = rows.into_iter();
    let Some((_, header)) = lines.next() else {
        return whole(Problem::File);
    };
    let mut problems = Vec::new();
    let at = |problems: &mut Vec<RowProblem>, line: usize, column: Option<String>, problem| {
        problems.push(RowProblem { line, column, problem })
    };

    let Some(headers) = header else {
        return whole(Problem::Shape);
    };
    let mut columns = Vec::with_capacity(headers.len());
    for h in &headers {
        let column = Column::ALL
            .into_iter()
            .find(|c| c.headers().iter().any(|name| name.eq_ignore_ascii_case(h)));
        if column.is_none() {
            let problem = if looks_like_national_id(h) {
                Problem::NationalId
            } else {
                Problem::UnknownColumn
            };
            at(&mut problems, 1, Some(h.clone()), problem);
        }
        columns.push(column);
    }
    for column in Column::ALL {
        if !columns.contains(&Some(column)) {
            at(
                &mut problems,
                1,
                Some(column.as_str().to_owned()),
                Problem::MissingColumn,
            );
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    let this_year: i32 = today.get(..4).and_then(|y| y.parse().ok()).unwrap_or(2000);
    let mut rows = Vec::new();
    let mut certificates = std::collections::BTreeSet::new();
    let mut phones = std::collections::BTreeSet::new();
    for (count, (n, values)) in lines.enumerate() {
        if count >= MAX_ROWS {
            return whole(Problem::File);
        }
        let Some(values) = values.filter(|v| v.len() == columns.len()) else {
            at(&mut problems, n, None, Problem::Shape);
            continue;
        };
        let get = |column: Column| {
            let i = columns
                .iter()
                .position(|c| *c == Some(column))
                .expect("every column is present");
            values[i].as_str()
        };
        let mut bad = |column: Column, problem| at(&mut problems, n, Some(column.as_str().to_owned()), problem);
        for column in Column::ALL {
            let value = get(column);
            if value.is_empty() {
                bad(column, Problem::Empty);
            } else if value.chars().count() > 60 {
                bad(column, Problem::TooLong);
            }
        }
        let phone = profile::sign_in_number(get(Column::Phone));
        match &phone {
            Err(_) if !get(Column::Phone).is_empty() => bad(Column::Phone, Problem::Phone),
            Ok(number) if !number.is_empty() && !phones.insert(profile::phone_digits(number)) => {
                bad(Column::Phone, Problem::DuplicatePhone)
            }
            _ => {}
        }
        let gender = match get(Column::Gender).to_lowercase().as_str() {
            "男" | "m" | "male" => Some(Gender::Male),
            "女" | "f" | "female" => Some(Gender::Female),
            "" => None,
            _ => {
                bad(Column::Gender, Problem::Gender);
                None
            }
        };
        let birth_year = get(Column::BirthYear)
            .parse::<u16>()
            .ok()
            .filter(|y| (1900..=this_year - 16).contains(&i32::from(*y)));
        if birth_year.is_none() && !get(Column::BirthYear).is_empty() {
            bad(Column::BirthYear, Problem::BirthYear);
        }
        let joined = get(Column::Joined);
        match valid_date(joined) {
            None if !joined.is_empty() => bad(Column::Joined, Problem::Date),
            Some((y, _, _)) if joined > today || birth_year.is_some_and(|b| y < i32::from(b) + 18) => {
                bad(Column::Joined, Problem::JoinedWhen)
            }
            _ => {}
        }
        let home = get(Column::HomeOrg);
        if !home.is_empty() && home != township {
            bad(Column::HomeOrg, Problem::OtherTownship);
        }
        let certificate = get(Column::CertificateNo);
        if !certificate.is_empty() && !certificates.insert(certificate.to_owned()) {
            bad(Column::CertificateNo, Problem::DuplicateCertificate);
        }
        if let (Ok(phone), Some(gender), Some(birth_year)) = (phone, gender, birth_year) {
            rows.push(RosterRow {
                line: n,
                name: get(Column::Name).to_owned(),
                phone,
                gender,
                birth_year,
                joined: joined.to_owned(),
                certificate_no: certificate.to_owned(),
            });
        }
    }
    if rows.is_empty() && problems.is_empty() {
        return whole(Problem::File);
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "姓名,手机号,性别,出生年份,家乡组织,入党日期,流动党员证编号";

    fn file(rows: &[&str]) -> String {
        std::iter::once(HEADER)
            .chain(rows.iter().copied())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn problems(text: &str) -> Vec<(usize, Option<&'static str>, Problem)> {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        parse(text, "新安镇", "2026-11-28")
            .unwrap_err()
            .into_iter()
            .map(|p| (p.line, p.column.map(leak), p.problem))
            .collect()
    }

    #[test]
    fn a_good_file_imports_every_row_in_either_language_and_with_quotes() {
        let text = file(&[
            "王小明,139 0000 1111,男,1985,新安镇,2010-07-01,GN-2026-1001",
            "\"李,红\",+86 139-0000-2222,女,1990,新安镇,2015-06-30,GN-2026-1002",
        ]);
        let rows = parse(&text, "新安镇", "2026-11-28").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].name, "李,红");
        assert_eq!(rows[0].gender, Gender::Male);
        let english = "name,phone,gender,birth_year,home_org,joined,certificate_no\n\
                       Wang,13900001111,M,1985,新安镇,2010-07-01,X1";
        assert_eq!(parse(english, "新安镇", "2026-11-28").unwrap()[0].certificate_no, "X1");
        let excel = format!("\u{feff}{text}\r\n");
        assert_eq!(parse(&excel, "新安镇", "2026-11-28").unwrap().len(), 2);
    }

    #[test]
    fn a_national_id_column_is_refused_and_nothing_imports() {
        let text = "姓名,身份证号,手机号,性别,出生年份,家乡组织,入党日期,流动党员证编号\n\
                    王小明,320724198501011234,13900001111,男,1985,新安镇,2010-07-01,A1";
        assert_eq!(problems(text), [(1, Some("身份证号"), Problem::NationalId)]);
        assert_eq!(
            problems("姓名,手机号\n王,139"),
            [
                (1, Some("gender"), Problem::MissingColumn),
                (1, Some("birth_year"), Problem::MissingColumn),
                (1, Some("home_org"), Problem::MissingColumn),
                (1, Some("joined"), Problem::MissingColumn),
                (1, Some("certificate_no"), Problem::MissingColumn),
            ]
        );
    }

    #[test]
    fn every_bad_row_is_named_by_line_and_column() {
        let text = file(&[
            "王小明,13900001111,男,1985,新安镇,2010-07-01,A1",
            ",12,不详,1850,田楼镇,2010-02-30,A1",
            "孙七,13900007777,男,1990,新安镇,2010-+1-+1,A7",
            "张三,1390000333,女,2000,新安镇,2012-01-01,A3",
            "李四,13900004444,女,1990,新安镇,2030-01-01,A4",
            "周八,+86 139-0000-1111,男,1980,新安镇,2005-01-01,A8",
            "赵五,13900005555,男,1990",
            "\"钱六,13900006666,男,1990,新安镇,2010-01-01,A6",
        ]);
        assert_eq!(
            problems(&text),
            [
                (3, Some("name"), Problem::Empty),
                (3, Some("phone"), Problem::Phone),
                (3, Some("gender"), Problem::Gender),
                (3, Some("birth_year"), Problem::BirthYear),
                (3, Some("joined"), Problem::Date),
                (3, Some("home_org"), Problem::OtherTownship),
                (3, Some("certificate_no"), Problem::DuplicateCertificate),
                (4, Some("joined"), Problem::Date),
                (5, Some("phone"), Problem::Phone),
                (5, Some("joined"), Problem::JoinedWhen),
                (6, Some("joined"), Problem::JoinedWhen),
                (7, Some("phone"), Problem::DuplicatePhone),
                (8, None, Problem::Shape),
                (9, None, Problem::Shape),
            ]
        );
    }

    #[test]
    fn a_quoted_field_may_hold_a_line_break_and_problems_name_the_line_its_row_starts_on() {
        let text = file(&[
            "王小明,13900001111,男,1985,新安镇,2010-07-01,B1",
            "\"李\n红\",13900002222,女,1990,新安镇,2015-06-30,\"B\"\"2\"",
            "",
            "张三,1234,男,1990,新安镇,2015-06-30,B3",
        ]);
        assert_eq!(problems(&text), [(6, Some("phone"), Problem::Phone)]);
        let rows = parse(
            &file(&text.lines().take(4).collect::<Vec<_>>()[1..]),
            "新安镇",
            "2026-11-28",
        )
        .unwrap();
        assert_eq!((rows[1].line, rows[1].name.as_str()), (3, "李\n红"));
        assert_eq!(rows[1].certificate_no, "B\"2");
    }

    #[test]
    fn an_empty_file_or_header_only_is_a_file_problem() {
        for text in ["", "  \n", HEADER] {
            assert_eq!(
                parse(text, "新安镇", "2026-11-28").unwrap_err()[0].problem,
                Problem::File
            );
        }
    }
}
