//! How staff narrow a list of members (`report::RosterEntry`, a township's thousands): by the city and the
//! organisation they are at now (流向), and by where they stand. Worked out alike wherever a list is shown.

use crate::domain::OrgRef;
use crate::report::RosterEntry;
use crate::situation::Situation;
use crate::Id;

/// Where a member stands, as a list is narrowed to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// At no organisation and none asked: new in a city, or between two.
    NotReported,
    /// Reported to an organisation that has not answered yet.
    Reported,
    /// At an organisation (leaving it included).
    AtOrganisation,
    /// Nothing heard for the configured period (失联), whatever else holds.
    OutOfContact,
    /// Registered as back home.
    ReturnedHome,
}

impl Standing {
    pub const ALL: [Standing; 5] = [
        Standing::NotReported,
        Standing::Reported,
        Standing::AtOrganisation,
        Standing::OutOfContact,
        Standing::ReturnedHome,
    ];

    /// Stable key for forms, messages and tests.
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::NotReported => "not_reported",
            Standing::Reported => "reported",
            Standing::AtOrganisation => "at_organisation",
            Standing::OutOfContact => "out_of_contact",
            Standing::ReturnedHome => "returned_home",
        }
    }

    pub fn parse(text: &str) -> Option<Standing> {
        Standing::ALL.into_iter().find(|standing| standing.as_str() == text)
    }

    pub fn holds_for(self, entry: &RosterEntry) -> bool {
        match self {
            Standing::OutOfContact => entry.lost,
            Standing::NotReported => matches!(entry.situation, Situation::Newcomer | Situation::Between { .. }),
            Standing::Reported => matches!(entry.situation, Situation::Reported { .. }),
            Standing::AtOrganisation => matches!(entry.situation, Situation::At { .. } | Situation::Leaving { .. }),
            Standing::ReturnedHome => matches!(entry.situation, Situation::ReturnedHome { .. }),
        }
    }
}

/// What a list is narrowed to; `None` leaves that out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberFilter {
    pub city: Option<String>,
    pub org: Option<Id>,
    pub standing: Option<Standing>,
}

impl MemberFilter {
    pub fn matches(&self, entry: &RosterEntry) -> bool {
        let org = entry.current_org.as_ref();
        self.city
            .as_ref()
            .is_none_or(|city| org.and_then(|org| org.city.as_ref()) == Some(city))
            && self.org.is_none_or(|id| org.is_some_and(|org| org.id == id))
            && self.standing.is_none_or(|standing| standing.holds_for(entry))
    }
}

/// The cities and the organisations `entries` are at now, each once, sorted: the choices to narrow them by.
pub fn choices(entries: &[RosterEntry]) -> (Vec<String>, Vec<OrgRef>) {
    let mut cities: Vec<String> = entries
        .iter()
        .filter_map(|entry| entry.current_org.as_ref()?.city.clone())
        .collect();
    cities.sort();
    cities.dedup();
    let mut orgs: Vec<OrgRef> = entries.iter().filter_map(|entry| entry.current_org.clone()).collect();
    orgs.sort_by(|a, b| (&a.city, &a.name, a.id.as_bytes()).cmp(&(&b.city, &b.name, b.id.as_bytes())));
    orgs.dedup_by_key(|org| org.id);
    (cities, orgs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OrgKind;

    fn org(n: u8, city: &str) -> OrgRef {
        OrgRef {
            id: Id::from_bytes([n; 16]),
            name: format!("组织{n}"),
            kind: OrgKind::Branch,
            city: Some(city.to_owned()),
        }
    }

    fn entry(n: u8, current_org: Option<OrgRef>, situation: Situation, lost: bool) -> RosterEntry {
        RosterEntry {
            person_id: Id::from_bytes([n; 16]),
            name: format!("党员{n}"),
            phone: None,
            home_org: "新安镇".into(),
            current_org,
            stop_id: None,
            arrived_at: None,
            leaving_at: None,
            left_at: None,
            evaluation: None,
            attended: Vec::new(),
            last_contact: None,
            lost,
            situation,
            recorded_contact: None,
        }
    }

    #[test]
    fn narrows_by_city_organisation_and_standing_together() {
        let at = |n| Situation::At {
            org: format!("组织{n}"),
            since: 0,
        };
        let entries = [
            entry(1, Some(org(1, "杭州")), at(1), false),
            entry(2, Some(org(2, "杭州")), at(2), true),
            entry(
                3,
                Some(org(3, "苏州")),
                Situation::Leaving { org: "组织3".into() },
                false,
            ),
            entry(4, None, Situation::Newcomer, true),
            entry(5, None, Situation::Reported { org: "组织1".into() }, false),
            entry(6, None, Situation::ReturnedHome { at: 0 }, false),
            entry(
                7,
                None,
                Situation::Between {
                    left: "组织3".into(),
                    at: 0,
                },
                false,
            ),
        ];
        let found = |filter: MemberFilter| -> Vec<u8> {
            entries
                .iter()
                .filter(|e| filter.matches(e))
                .map(|e| e.person_id.as_bytes()[0])
                .collect()
        };
        assert_eq!(found(MemberFilter::default()), [1, 2, 3, 4, 5, 6, 7]);
        let hangzhou = MemberFilter {
            city: Some("杭州".into()),
            ..MemberFilter::default()
        };
        assert_eq!(found(hangzhou.clone()), [1, 2]);
        let lost = Some(Standing::OutOfContact);
        assert_eq!(
            found(MemberFilter {
                standing: lost,
                ..hangzhou
            }),
            [2]
        );
        assert_eq!(
            found(MemberFilter {
                org: Some(org(3, "").id),
                ..MemberFilter::default()
            }),
            [3]
        );
        let standing = |s| {
            found(MemberFilter {
                standing: Some(s),
                ..MemberFilter::default()
            })
        };
        assert_eq!(standing(Standing::NotReported), [4, 7]);
        assert_eq!(standing(Standing::Reported), [5]);
        assert_eq!(standing(Standing::AtOrganisation), [1, 2, 3]);
        assert_eq!(standing(Standing::OutOfContact), [2, 4]);
        assert_eq!(standing(Standing::ReturnedHome), [6]);
        let (cities, orgs) = choices(&entries);
        assert_eq!(cities, ["杭州", "苏州"]);
        assert_eq!(
            orgs.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(),
            ["组织1", "组织2", "组织3"]
        );
    }

    #[test]
    fn standings_read_back_from_their_keys() {
        for standing in Standing::ALL {
            assert_eq!(Standing::parse(standing.as_str()), Some(standing));
        }
        assert_eq!(Standing::parse("lost"), None);
    }
}
