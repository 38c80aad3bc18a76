//! Check-ins (签到) are facts: the device time for display, the server's receive time and order for truth.

use serde::{Deserialize, Serialize};

use crate::domain::ActivityKind;
use crate::qr::Code;
use crate::sync::Rejection;
use crate::Id;

/// A check-in as the server holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckIn {
    pub id: Id,
    pub member_id: Id,
    pub activity_id: Id,
    pub org_id: Id,
    pub title: String,
    pub org_name: String,
    /// The activity's kind, for the certificate's counts (absent in records kept before it was sent).
    #[serde(default)]
    pub kind: ActivityKind,
    /// Device time of the scan (Unix ms), as the phone said.
    pub scanned_at: i64,
    /// Server time of receipt (Unix ms).
    pub received_at: i64,
    /// Kept but flagged for the secretary when the device time looks wrong.
    pub flag: Option<CheckInFlag>,
    /// Volunteer service: the hours credited for it, in tenths of an hour (the activity's, or the secretary's
    /// for this member).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours_tenths: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckInFlag {
    /// The device time falls outside the activity's window.
    OutsideWindow,
    /// The device time is far from when the server received it.
    ClockSkew,
    /// A rotating door code scanned after its minute: a forwarded photo, or a phone whose clock was wrong.
    StaleCode,
}

/// How far a device clock may stray from the receive time before the check-in is flagged; phones that were
/// offline for days legitimately push late, so only a scan time *after* receipt counts against this.
pub const MAX_CLOCK_AHEAD_MS: i64 = 10 * 60 * 1000;

/// The server's judgement of a check-in's device time.
pub fn flag_for(scanned_at: i64, received_at: i64, window: (i64, i64)) -> Option<CheckInFlag> {
    if scanned_at > received_at + MAX_CLOCK_AHEAD_MS {
        Some(CheckInFlag::ClockSkew)
    } else if scanned_at < window.0 || scanned_at >= window.1 {
        Some(CheckInFlag::OutsideWindow)
    } else {
        None
    }
}

/// The server's judgement of a check-in with `code`: its device time against the activity's `window`, and the
/// scan, in server time, against the code's own validity. `skew_ms` is how far the phone's clock was ahead of
/// the server's when it pushed (0 when it did not say), so a phone set back to pass a stale code on the phone is
/// caught here as long as its clock is still wrong when it syncs.
pub fn judge(code: &Code, scanned_at: i64, received_at: i64, skew_ms: i64, window: (i64, i64)) -> Option<CheckInFlag> {
    let scanned_server_secs = scanned_at.saturating_sub(skew_ms).div_euclid(1000);
    let scanned_while_valid = u32::try_from(scanned_server_secs).is_ok_and(|secs| code.check_time(secs).is_ok());
    match flag_for(scanned_at, received_at, window) {
        None if !scanned_while_valid && code.door.is_some() => Some(CheckInFlag::StaleCode),
        None if !scanned_while_valid => Some(CheckInFlag::OutsideWindow),
        flag => flag,
    }
}

/// A check-in made on this phone that the server has not confirmed yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCheckIn {
    pub id: Id,
    pub activity_id: Id,
    pub title: String,
    pub org_name: String,
    pub scanned_at: i64,
    pub refused: Option<Rejection>,
}

/// One line of "my check-ins".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInRow {
    pub id: Id,
    pub title: String,
    pub org_name: String,
    pub scanned_at: i64,
    pub state: RowState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowState {
    Waiting,
    Synced,
    Refused(Rejection),
}

/// The list the member sees: the server's check-ins with this phone's own, not yet confirmed ones laid over
/// them. An own check-in that came back from the server is recognised by id and shown once, as synced.
pub fn my_check_ins(synced: &[CheckIn], pending: &[PendingCheckIn]) -> Vec<CheckInRow> {
    let mut rows: Vec<CheckInRow> = synced
        .iter()
        .map(|c| CheckInRow {
            id: c.id,
            title: c.title.clone(),
            org_name: c.org_name.clone(),
            scanned_at: c.scanned_at,
            state: RowState::Synced,
        })
        .collect();
    for p in pending {
        if rows.iter().any(|row| row.id == p.id) {
            continue;
        }
        rows.push(CheckInRow {
            id: p.id,
            title: p.title.clone(),
            org_name: p.org_name.clone(),
            scanned_at: p.scanned_at,
            state: p.refused.map_or(RowState::Waiting, RowState::Refused),
        });
    }
    rows.sort_by(|a, b| b.scanned_at.cmp(&a.scanned_at).then(b.id.cmp(&a.id)));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> Id {
        Id::new_v7(u64::from(n), [n; 10])
    }

    fn synced(n: u8, at: i64) -> CheckIn {
        CheckIn {
            id: id(n),
            member_id: id(100),
            activity_id: id(200),
            org_id: id(201),
            title: format!("a{n}"),
            org_name: "org".into(),
            kind: ActivityKind::Study,
            scanned_at: at,
            received_at: at,
            flag: None,
            hours_tenths: None,
        }
    }

    fn pending(n: u8, at: i64) -> PendingCheckIn {
        PendingCheckIn {
            id: id(n),
            activity_id: id(200),
            title: format!("a{n}"),
            org_name: "org".into(),
            scanned_at: at,
            refused: None,
        }
    }

    #[test]
    fn own_write_coming_back_is_shown_once_as_synced() {
        let rows = my_check_ins(&[synced(1, 10)], &[pending(1, 10), pending(2, 20)]);
        let states: Vec<_> = rows.iter().map(|r| (r.title.as_str(), r.state)).collect();
        assert_eq!(states, [("a2", RowState::Waiting), ("a1", RowState::Synced)]);
    }

    #[test]
    fn a_door_code_scanned_after_its_minute_is_stale_in_server_time() {
        use crate::qr::DoorSigner;
        let at = 1_800_000_000u32;
        let (valid_from, valid_until) = DoorSigner::window(at);
        let code = Code {
            subject: crate::qr::Subject::Activity {
                activity_id: id(1),
                org_id: id(2),
            },
            key_id: 1,
            valid_from,
            valid_until,
            name: String::new(),
            detail: String::new(),
            door: Some(DoorSigner {
                public_key: [0; 32],
                certified_until: u32::MAX,
                certificate_signature: Vec::new(),
                at,
            }),
        };
        let ms = |secs: u32| i64::from(secs) * 1000;
        let window = (0, i64::MAX / 2);
        assert_eq!(judge(&code, ms(at + 10), ms(at + 10), 0, window), None);
        assert_eq!(
            judge(&code, ms(at + 120), ms(at + 120), 0, window),
            Some(CheckInFlag::StaleCode)
        );
        // A phone two minutes behind: its scan time looks right until its clock at push is counted.
        assert_eq!(
            judge(&code, ms(at + 10), ms(at + 130), -120_000, window),
            Some(CheckInFlag::StaleCode)
        );
        let server_code = Code { door: None, ..code };
        assert_eq!(
            judge(&server_code, ms(at + 120), ms(at + 120), 0, window),
            Some(CheckInFlag::OutsideWindow)
        );
    }

    #[test]
    fn device_time_is_judged_not_trusted() {
        let window = (1_000, 2_000);
        assert_eq!(flag_for(1_500, 1_600, window), None);
        assert_eq!(flag_for(500, 1_600, window), Some(CheckInFlag::OutsideWindow));
        assert_eq!(
            flag_for(1_500, 3 * 86_400_000, window),
            None,
            "a phone offline for days is fine"
        );
        assert_eq!(
            flag_for(1_500 + MAX_CLOCK_AHEAD_MS + 1, 1_500, window),
            Some(CheckInFlag::ClockSkew)
        );
    }
}
