//! The mobile member certificate (流动党员证): every stop a member made at a host organisation, what they took
//! part in there, and the evaluation its secretary wrote when they moved on; plus the home township's yearly
//! review. Stops and reviews are records of their own; what the member attended is counted on the phone from
//! its check-ins, so a check-in made offline counts at once.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::{ActivityKind, OrgRef};
use crate::Id;

/// The grades of an evaluation or a review: 优秀 / 合格 / 基本合格 / 不合格.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    Excellent,
    Qualified,
    BasicallyQualified,
    Unqualified,
}

impl Grade {
    pub const ALL: [Grade; 4] = [
        Grade::Excellent,
        Grade::Qualified,
        Grade::BasicallyQualified,
        Grade::Unqualified,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Excellent => "excellent",
            Grade::Qualified => "qualified",
            Grade::BasicallyQualified => "basically_qualified",
            Grade::Unqualified => "unqualified",
        }
    }
}

/// What a host organisation's secretary wrote when the member moved on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    pub grade: Grade,
    pub text: String,
    /// Unix ms.
    pub written_at: i64,
}

/// One stop: the member reported to `org` and stayed until `left_at` (open while `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stop {
    pub id: Id,
    pub org: OrgRef,
    pub arrived_at: i64,
    pub left_at: Option<i64>,
    /// When the member said they were leaving (the stop stays open until the secretary evaluates it).
    #[serde(default)]
    pub leaving_at: Option<i64>,
    pub evaluation: Option<Evaluation>,
}

impl Stop {
    /// Whether something the member did at `org_id` at time `at` belongs to this stop.
    pub fn covers(&self, org_id: Id, at: i64) -> bool {
        org_id == self.org.id && at >= self.arrived_at && self.left_at.is_none_or(|left| at < left)
    }
}

/// The home township's review of the member for one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub id: Id,
    pub year: u16,
    /// The township that wrote it.
    pub org_name: String,
    pub grade: Grade,
    pub text: String,
}

/// The member card (电子流动党员证): a signed member code (`qr::Subject::Member`) drawn as a QR code, which a
/// secretary's phone checks offline. Short-lived, so a screenshot is of little use for long; the phone
/// refreshes it while online and shows the last one, with its expiry, offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberCard {
    pub link: String,
    /// SVG path data over a `modules` × `modules` grid (dark modules as unit squares).
    pub qr_path: String,
    pub modules: u32,
    /// Unix ms.
    pub valid_until: i64,
}

impl MemberCard {
    /// How long a card is valid: a day, enough for a day without signal.
    pub const VALID_MS: i64 = 24 * 60 * 60 * 1000;
    /// A card with less than this left is refreshed when the phone is online.
    pub const REFRESH_BEFORE_MS: i64 = 12 * 60 * 60 * 1000;
}

/// One check-in as the certificate counts it: where, when, and what kind of activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attended {
    pub org_id: Id,
    pub at: i64,
    pub kind: ActivityKind,
    pub title: String,
}

/// The activities the member attended during `stop`, earliest first.
pub fn attended_during<'a>(stop: &Stop, attended: &'a [Attended]) -> Vec<&'a Attended> {
    let mut during: Vec<&Attended> = attended.iter().filter(|a| stop.covers(a.org_id, a.at)).collect();
    during.sort_by_key(|a| a.at);
    during
}

/// How many activities of each kind the member attended during `stop`.
pub fn attended_at(stop: &Stop, attended: &[Attended]) -> BTreeMap<ActivityKind, u32> {
    let mut counts = BTreeMap::new();
    for a in attended.iter().filter(|a| stop.covers(a.org_id, a.at)) {
        *counts.entry(a.kind).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OrgKind;

    fn id(n: u8) -> Id {
        Id::new_v7(1_700_000_000_000, [n; 10])
    }

    fn stop(org: u8, arrived_at: i64, left_at: Option<i64>) -> Stop {
        Stop {
            id: id(100 + org),
            org: OrgRef {
                id: id(org),
                name: format!("org {org}"),
                kind: OrgKind::Branch,
                city: None,
            },
            arrived_at,
            left_at,
            leaving_at: None,
            evaluation: None,
        }
    }

    #[test]
    fn a_stop_counts_what_was_attended_there_while_it_lasted_by_kind() {
        let attended = [
            Attended {
                org_id: id(1),
                at: 10,
                kind: ActivityKind::Study,
                title: String::new(),
            },
            Attended {
                org_id: id(1),
                at: 20,
                kind: ActivityKind::Study,
                title: String::new(),
            },
            Attended {
                org_id: id(1),
                at: 25,
                kind: ActivityKind::Volunteer,
                title: String::new(),
            },
            // Before arriving, after leaving, and at another organisation: not this stop's.
            Attended {
                org_id: id(1),
                at: 5,
                kind: ActivityKind::Study,
                title: String::new(),
            },
            Attended {
                org_id: id(1),
                at: 30,
                kind: ActivityKind::Study,
                title: String::new(),
            },
            Attended {
                org_id: id(2),
                at: 15,
                kind: ActivityKind::Study,
                title: String::new(),
            },
        ];
        let counts = attended_at(&stop(1, 10, Some(30)), &attended);
        assert_eq!(
            counts,
            BTreeMap::from([(ActivityKind::Study, 2), (ActivityKind::Volunteer, 1)])
        );
        assert_eq!(
            attended_at(&stop(1, 10, None), &attended)[&ActivityKind::Study],
            3,
            "an open stop runs on"
        );
    }

    #[test]
    fn grades_travel_by_their_names() {
        for grade in Grade::ALL {
            assert_eq!(serde_json::to_value(grade).unwrap(), grade.as_str());
        }
    }
}
