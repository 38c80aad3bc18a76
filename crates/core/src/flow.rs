//! 流向: where a township's members are, by city and by organisation, now and at the end of each of the last
//! months (`GET /api/v1/orgs/{id}/flow`), counted from their stops. Pure: the server reads the stops and names
//! the month ends (China time), the township's screen draws the counts.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::Id;

/// One stop of a member at a host organisation, as the count needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stay {
    pub member: Id,
    pub city: String,
    pub org: String,
    pub arrived_at: i64,
    pub left_at: Option<i64>,
}

/// A name and how many members it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub name: String,
    pub members: u32,
}

/// Where the members were at the end of one month (the last one: now).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthFlow {
    /// `2026-11`.
    pub month: String,
    /// Members at a host organisation then.
    pub away: u32,
    /// By city, the most first.
    pub cities: Vec<Tally>,
}

/// The township's 流向: its members now by city and by organisation, and month by month (oldest first, the
/// last month's count taken now).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    pub members: u32,
    pub cities: Vec<Tally>,
    pub orgs: Vec<Tally>,
    pub months: Vec<MonthFlow>,
}

/// Where each member was at `at`: their stop open then (arrived by `at`, not left by it), the latest arrived
/// when they had two (reported on without leaving).
fn placed(stays: &[Stay], at: i64) -> HashMap<Id, &Stay> {
    let mut placed: HashMap<Id, &Stay> = HashMap::new();
    for stay in stays {
        let open = stay.arrived_at <= at && stay.left_at.is_none_or(|left| left > at);
        if !open {
            continue;
        }
        let later = placed
            .get(&stay.member)
            .is_none_or(|kept| kept.arrived_at < stay.arrived_at);
        if later {
            placed.insert(stay.member, stay);
        }
    }
    placed
}

/// Counts by `name`, `most_first`.
fn tallies<'a>(names: impl Iterator<Item = &'a str>) -> Vec<Tally> {
    let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
    for name in names {
        *counts.entry(name).or_default() += 1;
    }
    let mut tallies: Vec<Tally> = counts
        .into_iter()
        .map(|(name, members)| Tally {
            name: name.to_owned(),
            members,
        })
        .collect();
    most_first(&mut tallies);
    tallies
}

/// The most members first, then by name: one order for every chart and sheet.
pub fn most_first(tallies: &mut [Tally]) {
    tallies.sort_by(|a, b| b.members.cmp(&a.members).then_with(|| a.name.cmp(&b.name)));
}

/// The flow of `members` members with these stops, now (`now`) and at each month end (`(label, instant)`,
/// oldest first; the last is usually `now` itself).
pub fn flow(members: u32, stays: &[Stay], now: i64, month_ends: &[(String, i64)]) -> Flow {
    let current = placed(stays, now);
    let months = month_ends
        .iter()
        .map(|(month, at)| {
            let then = placed(stays, *at);
            MonthFlow {
                month: month.clone(),
                away: u32::try_from(then.len()).unwrap_or(u32::MAX),
                cities: tallies(then.values().map(|stay| stay.city.as_str())),
            }
        })
        .collect();
    Flow {
        members,
        cities: tallies(current.values().map(|stay| stay.city.as_str())),
        orgs: tallies(current.values().map(|stay| stay.org.as_str())),
        months,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 24 * 3_600_000;

    fn stay(member: u8, city: &str, org: &str, arrived_at: i64, left_at: Option<i64>) -> Stay {
        Stay {
            member: Id::from_bytes([member; 16]),
            city: city.to_owned(),
            org: org.to_owned(),
            arrived_at,
            left_at,
        }
    }

    #[test]
    fn members_are_counted_where_they_were_at_each_month_end() {
        let stays = [
            // Shanghai since day 10, moved to Suzhou on day 40.
            stay(1, "上海", "上海联系点", 10 * DAY, Some(40 * DAY)),
            stay(1, "苏州", "苏州支部", 40 * DAY, None),
            // Shanghai from day 20, back home on day 50.
            stay(2, "上海", "上海联系点", 20 * DAY, Some(50 * DAY)),
            // Reported on to a second organisation in Shanghai without leaving the first: counted once, at the
            // latest.
            stay(3, "上海", "上海联系点", 5 * DAY, None),
            stay(3, "上海", "嘉定支部", 25 * DAY, None),
        ];
        let ends = [
            ("01".to_owned(), 0),
            ("02".to_owned(), 30 * DAY),
            ("03".to_owned(), 60 * DAY),
        ];
        let flow = flow(4, &stays, 60 * DAY, &ends);
        fn counts(month: &MonthFlow) -> (u32, Vec<(&str, u32)>) {
            let cities = month.cities.iter().map(|t| (t.name.as_str(), t.members)).collect();
            (month.away, cities)
        }
        assert_eq!(counts(&flow.months[0]), (0, vec![]));
        assert_eq!(counts(&flow.months[1]), (3, vec![("上海", 3)]));
        assert_eq!(counts(&flow.months[2]), (2, vec![("上海", 1), ("苏州", 1)]));
        assert_eq!(flow.members, 4);
        assert_eq!(
            flow.orgs,
            vec![
                Tally {
                    name: "嘉定支部".to_owned(),
                    members: 1
                },
                Tally {
                    name: "苏州支部".to_owned(),
                    members: 1
                }
            ]
        );
    }

    #[test]
    fn a_stop_counts_from_its_arrival_until_it_is_left() {
        let stays = [stay(1, "上海", "上海联系点", 10, Some(20))];
        let away_at = |at: i64| placed(&stays, at).len();
        assert_eq!((away_at(9), away_at(10), away_at(19), away_at(20)), (0, 1, 1, 0));
    }
}
