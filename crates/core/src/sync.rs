//! The sync protocol on the wire (SYNC.md): push the outbox, then pull what changed.
//!
//! Push: the phone numbers its mutations 1, 2, 3, … per installation (`client_id`); the server applies each
//! exactly once and keeps `last_seq` in the same transaction. Pull: the server answers every change visible to
//! the user above a server-issued cursor, never a time.

use serde::{Deserialize, Serialize};

use crate::certificate::{Review, Stop};
use crate::checkin::CheckIn;
use crate::domain::{Activity, Me, OrgRef};
use crate::notice::{Notice, NoticeRead};
use crate::profile::{self, Profile};
use crate::qr::{CodeError, CodeSignature, RevokedDoorKey, TrustedKey};
use crate::report::{OrgCodeSince, Report};
use crate::Id;

/// Most mutations in one push request (a phone starts lower and grows its pushes while they go quickly:
/// `engine::Round::batch`).
pub const MAX_PUSH_BATCH: usize = 2_000;
/// What a phone's first push of a round carries at most.
pub const FIRST_PUSH_BATCH: usize = 200;
/// A push of more mutations than this names each code the server issued by its signature (`Op::CheckInIssued`);
/// a smaller one sends its codes whole, which the server checks sooner than it looks them up (docs/sync.md §21).
pub const FEW_CODES: usize = 64;

/// Whether a push of `mutations` names the server's codes by their signature: not when few, nor once the server
/// asked for them in full (`engine::Reply::SendInFull`).
pub fn sends_compact(mutations: usize, in_full: bool) -> bool {
    !in_full && mutations > FEW_CODES
}

/// Most changes in one pull page.
pub const PULL_PAGE: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRequest {
    pub client_id: Id,
    pub mutations: Vec<Mutation>,
    /// The phone's clock (Unix ms) when it made the push, moments before sending it, so the server can tell how
    /// far the device times of its mutations are off (`checkin::judge`); absent from older phones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<i64>,
}

/// One write made on the phone, in the order it was made. Read by hand, with no detour (`wire`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mutation {
    pub seq: u64,
    /// Device time in Unix milliseconds: for display only, never for order on the server.
    pub occurred_at: i64,
    #[serde(flatten)]
    pub op: Op,
}

/// Read by hand, with no detour (`wire`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "args", rename_all = "snake_case")]
pub enum Op {
    /// The member scanned an activity code.
    CheckIn { id: Id, code: String },
    /// The member scanned an activity code the server issued, named by its signature: the server keeps the codes
    /// it issues, so a big push need not carry each whole (`sends_compact`). A server that does not find one
    /// answers the push `send_codes_in_full`, and the phone sends it again as `CheckIn`s.
    CheckInIssued { id: Id, signature: CodeSignature },
    /// The member changed fields of their own profile.
    EditProfile(profile::Edit),
    /// The member scanned an organisation's code and reports to it (报到); `left_stop` is the open stop they
    /// confirmed they have left.
    Report {
        id: Id,
        code: String,
        left_stop: Option<Id>,
    },
    /// The member tells the organisation of this stop that they are leaving it.
    Leave { stop_id: Id },
    /// A secretary publishes an activity of their organisation, or changes one (the same id): made on their
    /// phone, offline if need be.
    PublishActivity(Activity),
    /// A secretary cancels an activity: it leaves the members' phones and its codes are refused from then on.
    CancelActivity { id: Id },
    /// A secretary records a member at an activity of their organisation: by scanning the member's card, or by
    /// hand for a member without a phone. `id` is the check-in's, made on the secretary's phone.
    RecordAttendance { id: Id, activity_id: Id, by: RecordedBy },
    /// A secretary writes (or rewrites) an activity's minutes (会议记录).
    WriteMinutes { activity_id: Id, text: String },
    /// A secretary credits one attendee of a volunteer activity other hours than the activity's, in tenths.
    CreditHours {
        activity_id: Id,
        member_id: Id,
        hours_tenths: u16,
    },
    /// The member read a notice (`notice`), on this phone, offline or not.
    ReadNotice { notice_id: Id },
    /// Fills a number the phone no longer holds (a write lost on the phone before it was sent), so the
    /// numbering stays contiguous without ever giving a number to a second mutation.
    Skip,
}

/// How a secretary recorded a member's attendance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum RecordedBy {
    /// The member's card (a `qr::Subject::Member` code), scanned on the secretary's phone.
    Card { code: String },
    /// Entered by hand, with why (`attendance::check_reason`).
    Hand { member_id: Id, reason: String },
}

/// How the server takes a push's numbers (`Mutation::seq`), given the `last_seq` it holds for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    /// Indexes of the new mutations, in order: each numbered right after the one before it.
    pub new: Vec<usize>,
    /// The client's `last_seq` once the new ones are applied.
    pub last_seq: u64,
}

/// The push has a gap: a number beyond `last_seq + 1` with the ones between missing. It changes nothing, and
/// the phone is told to send again from `last_seq + 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqGap {
    pub last_seq: u64,
}

/// Sorts a push's numbers against the client's `last_seq`: a number right after the last one is new and becomes
/// the last; one at or below it was sent before (its answer may have been lost) and is answered as it was; any
/// other is a gap. The real server and the model test's server both decide with this.
pub fn classify(committed: u64, seqs: impl IntoIterator<Item = u64>) -> Result<Classified, SeqGap> {
    let mut last_seq = committed;
    let mut new = Vec::new();
    for (index, seq) in seqs.into_iter().enumerate() {
        if seq == last_seq + 1 {
            new.push(index);
            last_seq = seq;
        } else if seq > last_seq {
            return Err(SeqGap { last_seq: committed });
        }
    }
    Ok(Classified { new, last_seq })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    /// Every mutation up to here is settled (applied, duplicate or rejected): the phone may drop them.
    pub last_seq: u64,
    pub results: Vec<MutationResult>,
}

/// Read through `wire::Outcome`, with no detour (`wire`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "wire::Outcome")]
pub struct MutationResult {
    pub seq: u64,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Applied,
    /// Already applied earlier (a retry after a lost response): harmless.
    Duplicate,
    /// Can never succeed; recorded on the server, shown to the member, and the queue moves on.
    Rejected {
        reason: Rejection,
    },
}

/// Why the server will never accept a mutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", content = "detail", rename_all = "snake_case")]
pub enum Rejection {
    Code(CodeError),
    /// The code is for an activity the server does not know (deleted, or never existed).
    UnknownActivity,
    /// A report to the organisation the member is already at, or already waiting for.
    AlreadyReported,
    /// Leaving a stop that has already closed.
    StopClosed,
    Forbidden,
    Invalid,
    /// The activity is for its organisation's own members, and the member is not one of them.
    MembersOnly,
}

impl Rejection {
    /// The rejections that are not about a code (those are `CodeError::ALL`).
    pub const OTHERS: [Rejection; 6] = [
        Rejection::UnknownActivity,
        Rejection::AlreadyReported,
        Rejection::StopClosed,
        Rejection::Forbidden,
        Rejection::Invalid,
        Rejection::MembersOnly,
    ];

    /// Stable key for messages.
    pub fn key(self) -> &'static str {
        match self {
            Rejection::Code(error) => error.as_str(),
            Rejection::UnknownActivity => "unknown_activity",
            Rejection::AlreadyReported => "already_reported",
            Rejection::StopClosed => "stop_closed",
            Rejection::Forbidden => "forbidden",
            Rejection::Invalid => "invalid",
            Rejection::MembersOnly => "members_only",
        }
    }
}

/// Body of every error answer from the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable machine key: `seq_gap`, `unauthorized`, `session_revoked`, `bad_code`, `bad_pin`, `locked`,
    /// `client_taken`, `phone_taken`, `forbidden`, `not_found`, `invalid`, `rate_limited` and `busy` (with `Retry-After`), `internal`.
    pub error: String,
    /// With `seq_gap`: resend from `last_seq + 1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<u64>,
    /// With `locked`: when PIN sign-in opens again (Unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullResponse {
    pub cursor: u64,
    pub has_more: bool,
    /// The server's `last_seq` for this client, so a phone whose push response was lost can still drop
    /// what the server already has.
    pub last_seq: u64,
    pub changes: Vec<Change>,
    /// The server's clock (Unix ms) when it answered, so a phone with a wrong clock can still judge a code's
    /// validity window offline.
    #[serde(default)]
    pub server_time: i64,
}

// Nearly every change is an upsert, so boxing the record would only add an allocation per record.
#[allow(clippy::large_enum_variant)]
/// Read through `wire::Change`, with no detour (`wire`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", try_from = "wire::Change")]
pub enum Change {
    Upsert {
        record: Record,
    },
    /// A deletion or lost access: the phone forgets the record with this key.
    Delete {
        key: String,
    },
}

/// Everything a phone can hold, each under a stable key. Read by hand, with no detour (`wire`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum Record {
    Me(Me),
    Profile(Profile),
    Stop(Stop),
    Review(Review),
    Report(Report),
    Organisation(OrgRef),
    OrgCode(OrgCodeSince),
    Activity(Activity),
    CheckIn(CheckIn),
    Key(TrustedKey),
    /// A secretary's phone key that signs no more door codes (`qr::door`).
    DoorKey(RevokedDoorKey),
    Notice(Notice),
    /// The member read this notice (on any of their phones).
    NoticeRead(NoticeRead),
}

impl Record {
    pub fn key(&self) -> String {
        match self {
            Record::Me(_) => "me".to_owned(),
            Record::Profile(_) => "profile".to_owned(),
            Record::Stop(stop) => format!("stop:{}", stop.id),
            Record::Review(review) => format!("review:{}", review.id),
            Record::Report(report) => format!("report:{}", report.id),
            Record::OrgCode(since) => format!("orgcode:{}", since.org_id),
            Record::Organisation(org) => format!("org:{}", org.id),
            Record::Activity(activity) => format!("activity:{}", activity.id),
            Record::CheckIn(check_in) => format!("checkin:{}", check_in.id),
            Record::Key(key) => format!("key:{}", key.key_id),
            Record::DoorKey(key) => format!("doorkey:{}", key.id),
            Record::Notice(notice) => format!("notice:{}", notice.id),
            Record::NoticeRead(read) => format!("noticeread:{}", read.notice_id),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRequest {
    pub activation_code: String,
    pub client_id: Id,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionResponse {
    /// Secret device token; the server keeps only its hash.
    pub token: String,
    pub me: Me,
    pub keys: Vec<TrustedKey>,
    /// Whether the member has a PIN for signing in on another phone; the app asks for one when not.
    #[serde(default)]
    pub pin_set: bool,
}

/// Signing in on another phone: the phone number on the member's profile and their PIN
/// (`POST /api/v1/session/pin`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinSignIn {
    pub phone: String,
    pub pin: String,
    pub client_id: Id,
}

/// `PUT /api/v1/me/pin`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetPin {
    pub pin: String,
    /// The PIN it replaces: needed to change one, unless this phone signed in with an activation code moments
    /// ago (a member who forgot theirs, or was locked out, asks their township for a new code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
}

/// A PIN is six digits: easy on a phone keypad, and with the server's lockout, slow to guess.
pub fn valid_pin(pin: &str) -> bool {
    pin.len() == 6 && pin.bytes().all(|b| b.is_ascii_digit())
}

/// One signed-in phone of the member (`GET /api/v1/devices`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub id: Id,
    /// The browser's own description of itself, as it sent it when signing in.
    pub user_agent: Option<String>,
    pub signed_in_at: i64,
    pub last_seen_at: Option<i64>,
    /// The phone asking.
    pub current: bool,
}

/// What a secretary gets to show or print for an activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeResponse {
    pub payload: String,
    pub link: String,
    /// The link with the server's public origin, to copy into a message (a `/q/` path alone opens nothing
    /// in WeChat): set with `qr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The link with the server's origin, drawn, for a code shown on a screen to be scanned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr: Option<QrDrawing>,
}

/// A QR code ready to draw: SVG path data of unit squares over a `modules` × `modules` grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QrDrawing {
    pub path: String,
    pub modules: u32,
}

mod wire;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_is_new_after_the_last_number_sent_before_at_or_below_it_and_a_gap_beyond() {
        assert_eq!(
            classify(3, [2, 3, 4, 5]),
            Ok(Classified {
                new: vec![2, 3],
                last_seq: 5
            })
        );
        assert_eq!(
            classify(3, [1]),
            Ok(Classified {
                new: vec![],
                last_seq: 3
            })
        );
        assert_eq!(classify(3, [4, 6]), Err(SeqGap { last_seq: 3 }));
        assert_eq!(classify(3, [5]), Err(SeqGap { last_seq: 3 }));
    }
}
