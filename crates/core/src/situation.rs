//! Where a member stands, in one answer for every screen that says it: the member's own home and certificate,
//! and the township's list of its members. The phone works it out from its records, the server from its
//! tables, both with `situation`, so the two never disagree about which words fit.

use serde::{Deserialize, Serialize};

use crate::certificate::Stop;

/// Where a member stands. Out of contact (失联) is not one of these: it is how long the member has been silent,
/// shown beside whichever this is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Situation {
    /// Arrived, never reported to a host organisation.
    Newcomer,
    /// Reported to `org`, which has not answered yet (or the phone has not sent it yet).
    Reported { org: String },
    /// At `org` since `since` (Unix ms).
    At { org: String, since: i64 },
    /// At `org`, and told it they are leaving.
    Leaving { org: String },
    /// Left `left` at `at` and not at another organisation yet: between cities.
    Between { left: String, at: i64 },
    /// Registered as back home by their township at `at`.
    ReturnedHome { at: i64 },
}

impl Situation {
    /// Stable key for messages and tests.
    pub fn as_str(&self) -> &'static str {
        match self {
            Situation::Newcomer => "newcomer",
            Situation::Reported { .. } => "reported",
            Situation::At { .. } => "at",
            Situation::Leaving { .. } => "leaving",
            Situation::Between { .. } => "between",
            Situation::ReturnedHome { .. } => "returned_home",
        }
    }
}

/// What a situation is worked out from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts<'a> {
    /// The stop at the member's current organisation (or their latest open one).
    pub open_stop: Option<&'a Stop>,
    /// Whether the member told it they are leaving (the stop says so, or the phone has the notice waiting).
    pub leaving: bool,
    /// The organisation of a report not answered yet.
    pub reported_to: Option<&'a str>,
    /// The latest stop that ended: (its organisation, when).
    pub last_left: Option<(&'a str, i64)>,
    /// When their township registered them as back home, if it did since they last reported anywhere.
    pub returned_home_at: Option<i64>,
}

/// Where the member stands. Being at an organisation comes first (a report elsewhere shows beside it); then a
/// report waiting; then home, if the township said so after the last stop ended; then between cities.
pub fn situation(facts: Facts<'_>) -> Situation {
    if let Some(stop) = facts.open_stop {
        let org = stop.org.name.clone();
        return if facts.leaving || stop.leaving_at.is_some() {
            Situation::Leaving { org }
        } else {
            Situation::At {
                org,
                since: stop.arrived_at,
            }
        };
    }
    if let Some(org) = facts.reported_to {
        return Situation::Reported { org: org.to_owned() };
    }
    match (facts.returned_home_at, facts.last_left) {
        (Some(home), last) if last.is_none_or(|(_, left)| left <= home) => Situation::ReturnedHome { at: home },
        (_, Some((left, at))) => Situation::Between {
            left: left.to_owned(),
            at,
        },
        _ => Situation::Newcomer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{OrgKind, OrgRef};
    use crate::Id;

    fn stop(left_at: Option<i64>, leaving_at: Option<i64>) -> Stop {
        Stop {
            id: Id::new_v7(1, [1; 10]),
            org: OrgRef {
                id: Id::new_v7(2, [2; 10]),
                name: "灌南县驻杭州流动党委".into(),
                kind: OrgKind::MobileCommittee,
                city: Some("杭州".into()),
            },
            arrived_at: 100,
            left_at,
            leaving_at,
            evaluation: None,
        }
    }

    #[test]
    fn each_situation_from_its_facts() {
        let open = stop(None, None);
        let told = stop(None, Some(150));
        let hangzhou = "灌南县驻杭州流动党委";
        let cases = [
            (Facts::default(), "newcomer"),
            (
                Facts {
                    reported_to: Some("苏州"),
                    ..Facts::default()
                },
                "reported",
            ),
            (
                Facts {
                    open_stop: Some(&open),
                    ..Facts::default()
                },
                "at",
            ),
            (
                Facts {
                    open_stop: Some(&open),
                    reported_to: Some("苏州"),
                    ..Facts::default()
                },
                "at",
            ),
            (
                Facts {
                    open_stop: Some(&told),
                    ..Facts::default()
                },
                "leaving",
            ),
            (
                Facts {
                    open_stop: Some(&open),
                    leaving: true,
                    ..Facts::default()
                },
                "leaving",
            ),
            (
                Facts {
                    last_left: Some((hangzhou, 200)),
                    ..Facts::default()
                },
                "between",
            ),
            (
                Facts {
                    last_left: Some((hangzhou, 200)),
                    returned_home_at: Some(200),
                    ..Facts::default()
                },
                "returned_home",
            ),
            (
                Facts {
                    returned_home_at: Some(50),
                    ..Facts::default()
                },
                "returned_home",
            ),
            // Home before the last stop ended: they went out again since.
            (
                Facts {
                    last_left: Some((hangzhou, 200)),
                    returned_home_at: Some(150),
                    ..Facts::default()
                },
                "between",
            ),
            (
                Facts {
                    last_left: Some((hangzhou, 200)),
                    reported_to: Some("苏州"),
                    ..Facts::default()
                },
                "reported",
            ),
        ];
        for (facts, expected) in cases {
            assert_eq!(situation(facts).as_str(), expected, "{facts:?}");
        }
        assert_eq!(
            situation(Facts {
                last_left: Some((hangzhou, 200)),
                ..Facts::default()
            }),
            Situation::Between {
                left: hangzhou.into(),
                at: 200
            }
        );
    }
}
