//! The phone's sync engine: one round is push (until the outbox is settled) then pull (until `has_more` is
//! false). The engine decides; the platform code performs the I/O it asks for and reports back, so the same
//! logic runs in the browser and in native tests against a real server.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::sync::{
    Change, ErrorBody, Mutation, Op, Outcome, PullResponse, PushResponse, Rejection, FIRST_PUSH_BATCH, MAX_PUSH_BATCH,
};

/// Sync bookkeeping of one installation, persisted on the phone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncMeta {
    /// Server-issued pull cursor.
    pub cursor: u64,
    /// Everything up to here is settled on the server.
    pub acked_seq: u64,
    /// The last sequence number handed to a local write.
    pub last_seq: u64,
    /// Unix ms of the last complete round.
    pub last_synced_at: Option<i64>,
    /// Failed attempts in a row, for backoff.
    pub failures: u32,
    /// The server's clock minus this phone's, in ms, as of the last pull.
    #[serde(default)]
    pub clock_offset_ms: i64,
    /// Rows up to here are counted in `waiting`. A new write takes the row after the last one stored and after
    /// this (`outbox::enqueue`) without writing the bookkeeping: numbering counts it.
    #[serde(default)]
    pub next_row: u64,
    /// Rows up to here have been numbered, or set aside as damaged (`outbox::number`).
    #[serde(default)]
    pub numbered_row: u64,
    /// Local writes up to `next_row` the server has not settled yet; the rows stored after it wait too
    /// (`outbox::waiting` gives the count the screens show).
    #[serde(default)]
    pub waiting: u64,
    /// How rows map to numbers without rewriting them: from each run's `row` on, numbers count up from its
    /// `seq`, one a row, until the next run (`outbox::seq_of`). A run starts after a damaged row; runs the server
    /// has settled are dropped.
    #[serde(default)]
    pub runs: Vec<Run>,
    /// Rows up to here are check-ins the server has settled, kept in the browser's outbox until a pull has
    /// brought the server's records of them back: one range delete then, instead of a write for each check-in
    /// as it is settled. They count as neither waiting nor numbered. Only the browser's store keeps rows so.
    #[serde(default)]
    pub synced_row: u64,
}

/// The first row of a run of numbered rows and its number (`SyncMeta::runs`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    pub row: u64,
    pub seq: u64,
}

/// How a request went, as seen by the phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply<T> {
    Ok(T),
    /// 409 on push: the server holds everything up to `last_seq` and wants the next one.
    Gap {
        last_seq: u64,
    },
    /// 401: the session is gone (expired, or signed out elsewhere). The outbox is kept.
    Unauthorized,
    /// 401 `session_revoked`: the member (or their administrator) revoked this phone on purpose, say because
    /// it was lost. Everything of the member leaves it.
    Revoked,
    /// 409 `send_codes_in_full` on push: the server does not keep a code the push named by its signature
    /// (`sync::Op::CheckInIssued`); nothing was applied, and the same mutations go again with their codes whole.
    /// Also 400: a server that cannot read the push at all, as one older than `Op::CheckInIssued` cannot (a
    /// deployment rolled back) reads it with every code whole; asked twice, it is a failure as any other.
    SendInFull,
    /// Network error, timeout or 5xx: passing; nothing on the server changed that the phone must know.
    Failed,
}

impl<T: DeserializeOwned> Reply<T> {
    /// Reads an HTTP answer (status and body) the way every client must: 200 with its body, 401, 409 with the
    /// server's `last_seq`, 400 as a request to send codes whole, and anything else, or a body that does not
    /// parse, as a passing failure.
    pub fn from_http(status: u16, body: &[u8]) -> Reply<T> {
        match status {
            200 => serde_json::from_slice(body).map_or(Reply::Failed, Reply::Ok),
            400 => Reply::SendInFull,
            401 => match serde_json::from_slice::<ErrorBody>(body) {
                Ok(ErrorBody { error, .. }) if error == "session_revoked" => Reply::Revoked,
                _ => Reply::Unauthorized,
            },
            409 => match serde_json::from_slice::<ErrorBody>(body) {
                Ok(ErrorBody {
                    last_seq: Some(last_seq),
                    ..
                }) => Reply::Gap { last_seq },
                Ok(ErrorBody { error, .. }) if error == SEND_IN_FULL => Reply::SendInFull,
                _ => Reply::Failed,
            },
            _ => Reply::Failed,
        }
    }
}

/// The error of a push the server answers `Reply::SendInFull`.
pub const SEND_IN_FULL: &str = "send_codes_in_full";

/// What the engine wants done next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Push(Vec<Mutation>),
    Pull {
        cursor: u64,
    },
    /// The round is over.
    Done,
    /// The round failed; try again after this many milliseconds.
    RetryIn(u64),
    /// The session is gone; ask the member to sign in again. Unsynced writes stay.
    SignIn,
    /// This phone was revoked: wipe the member's data from it.
    Wipe,
}

/// What to do to the local outbox after a push answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settled {
    /// Drop every outbox entry with `seq <= drop_through`.
    pub drop_through: u64,
    /// Mutations the server will never accept, to keep and show with their reason.
    pub rejected: Vec<(u64, Rejection)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Push,
    Pull,
    Done,
    Failed(u64),
    SignedOut,
    Revoked,
}

/// One sync round.
#[derive(Debug, Clone)]
pub struct Round {
    phase: Phase,
    /// How many mutations the next push carries at most (`batch`).
    batch: usize,
    /// The last number the latest push carried.
    pushed_through: u64,
    /// The server asked for codes whole (`Reply::SendInFull`): every push of this round sends them so.
    in_full: bool,
}

impl Default for Round {
    fn default() -> Self {
        Round {
            phase: Phase::Push,
            batch: FIRST_PUSH_BATCH,
            pushed_through: 0,
            in_full: false,
        }
    }
}

/// A push answered within this long lets the next one carry what it would carry in that time at this one's
/// pace, and at least `GROWTH` times as many; one slower than `SLOW_PUSH_MS`, or failed, half as many.
pub const QUICK_PUSH_MS: u64 = 1_000;
/// Four times at least: a push answered within `QUICK_PUSH_MS` makes the next one take about `QUICK_PUSH_MS`
/// at its pace, or at most about four times as long as it did, either way short of `SLOW_PUSH_MS`. (Doubling
/// took four pushes to reach `MAX_PUSH_BATCH` on loopback, each with its own round trip and transactions on
/// phone and server: 10,000 check-ins synced in 1.69–1.74 s with it, 1.36–1.41 s with four times, the same
/// build otherwise.) On a fast link the pace takes a round straight from `FIRST_PUSH_BATCH` to
/// `MAX_PUSH_BATCH`, one round trip fewer.
pub const GROWTH: usize = 4;
pub const SLOW_PUSH_MS: u64 = 5_000;
/// The fewest mutations a push is cut down to.
pub const MIN_PUSH_BATCH: usize = 25;

/// First retry delay and the cap of the exponential backoff.
pub const BACKOFF_BASE_MS: u64 = 2_000;
pub const BACKOFF_CAP_MS: u64 = 5 * 60 * 1_000;

/// Delay before attempt `failures + 1`: exponential, capped, with "equal jitter" (half fixed, half random)
/// so that phones coming back online together do not stampede the server. `jitter` is in `[0, 1)`.
pub fn backoff_ms(failures: u32, jitter: f64) -> u64 {
    let ceiling = BACKOFF_BASE_MS
        .saturating_mul(1 << failures.saturating_sub(1).min(20))
        .min(BACKOFF_CAP_MS);
    ceiling / 2 + (ceiling as f64 / 2.0 * jitter.clamp(0.0, 1.0)) as u64
}

impl Round {
    pub fn new() -> Round {
        Round::default()
    }

    /// How many mutations the next push carries at most: the head of the outbox to read for `next`. A round
    /// starts at `FIRST_PUSH_BATCH`, what a slow link carries in a second or two; pushes answered quickly let
    /// the next carry what their pace would carry in `QUICK_PUSH_MS`, and at least `GROWTH` times as many (up
    /// to `MAX_PUSH_BATCH`), as a long outbox on a good link would otherwise spend its time on round trips;
    /// slow or failed ones halve it.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// The most the push after the one now out can carry, however quickly this one is answered: how far to
    /// read ahead while it is out.
    pub fn batch_after_quick(&self) -> usize {
        self.batch_after(1, self.batch)
    }

    /// What the push after one of `pushed` mutations answered within `ms` (quickly) carries at most.
    fn batch_after(&self, ms: u64, pushed: usize) -> usize {
        // In u64: a usize is 32 bits on the phone.
        let at_this_pace = (pushed as u64).saturating_mul(QUICK_PUSH_MS) / ms.max(1);
        let at_this_pace = at_this_pace.min(MAX_PUSH_BATCH as u64) as usize;
        at_this_pace.max(self.batch * GROWTH).min(MAX_PUSH_BATCH)
    }

    /// Whether the server asked for codes whole this round (`Reply::SendInFull`; `sync::sends_compact`).
    pub fn in_full(&self) -> bool {
        self.in_full
    }

    /// Tells the round how long the last push, of `pushed` mutations, took, answered.
    pub fn took(&mut self, ms: u64, pushed: usize) {
        if ms <= QUICK_PUSH_MS {
            self.batch = self.batch_after(ms, pushed);
        } else if ms >= SLOW_PUSH_MS {
            self.halve();
        }
    }

    fn halve(&mut self) {
        self.batch = (self.batch / 2).max(MIN_PUSH_BATCH);
    }

    /// The next step, given the persisted meta and the head of the outbox in `seq` order.
    pub fn next(&mut self, meta: &SyncMeta, outbox: &[Mutation]) -> Step {
        match self.phase {
            Phase::Push => {
                let batch = contiguous_batch(meta.acked_seq, outbox, self.batch);
                match batch.last() {
                    None => Step::Pull { cursor: meta.cursor },
                    Some(last) => {
                        self.pushed_through = last.seq;
                        Step::Push(batch)
                    }
                }
            }
            Phase::Pull => Step::Pull { cursor: meta.cursor },
            Phase::Done => Step::Done,
            Phase::Failed(ms) => Step::RetryIn(ms),
            Phase::SignedOut => Step::SignIn,
            Phase::Revoked => Step::Wipe,
        }
    }

    fn fail(&mut self, meta: &mut SyncMeta, jitter: f64) {
        meta.failures = meta.failures.saturating_add(1);
        self.phase = Phase::Failed(backoff_ms(meta.failures, jitter));
    }

    /// Takes the answer to a push. The caller applies the returned `Settled` to its outbox and persists `meta`.
    pub fn on_push(&mut self, meta: &mut SyncMeta, reply: Reply<PushResponse>, jitter: f64) -> Settled {
        match reply {
            Reply::Ok(response) => {
                let rejected = response
                    .results
                    .iter()
                    .filter_map(|r| match r.outcome {
                        Outcome::Rejected { reason } => Some((r.seq, reason)),
                        _ => None,
                    })
                    .collect();
                // The server may hold more than this push carried (an earlier push whose answer was lost, then
                // a smaller one): what it did with those the next push's answer says, a refusal among them.
                meta.acked_seq = meta.acked_seq.max(response.last_seq.min(self.pushed_through));
                // Stay in the push phase: the next step pushes the rest or moves on to pull.
                Settled {
                    drop_through: meta.acked_seq,
                    rejected,
                }
            }
            Reply::Gap { last_seq } => {
                // The server is the word on what it holds, even below what it acknowledged before (a
                // restored backup): the next batch starts right after it, with skips for any hole.
                meta.acked_seq = last_seq;
                meta.last_seq = meta.last_seq.max(last_seq);
                Settled {
                    drop_through: last_seq,
                    rejected: Vec::new(),
                }
            }
            Reply::Unauthorized => {
                self.phase = Phase::SignedOut;
                Settled::default()
            }
            Reply::Revoked => {
                self.phase = Phase::Revoked;
                Settled::default()
            }
            // Asked once, the codes go whole at once: no failure, no wait. Asked again, for a push with no code
            // named so, the server is not keeping its word: a failure, as any other answer that makes no sense.
            Reply::SendInFull if !self.in_full => {
                self.in_full = true;
                Settled::default()
            }
            Reply::SendInFull | Reply::Failed => {
                // A push too big for the link (or for the server's limit on a request) goes smaller next time.
                self.halve();
                self.fail(meta, jitter);
                Settled::default()
            }
        }
    }

    /// Takes the answer to a pull and returns the changes to apply, with the outbox entries the server has
    /// already settled (the push response may have been lost) in `drop_through`.
    pub fn on_pull(
        &mut self,
        meta: &mut SyncMeta,
        reply: Reply<PullResponse>,
        now_ms: i64,
        jitter: f64,
    ) -> (Vec<Change>, u64) {
        match reply {
            Reply::Ok(page) => {
                if page.server_time > 0 {
                    meta.clock_offset_ms = page.server_time - now_ms;
                }
                meta.cursor = meta.cursor.max(page.cursor);
                meta.acked_seq = meta.acked_seq.max(page.last_seq);
                if page.has_more {
                    self.phase = Phase::Pull;
                } else {
                    self.phase = Phase::Done;
                    meta.failures = 0;
                    meta.last_synced_at = Some(now_ms);
                }
                (page.changes, meta.acked_seq)
            }
            Reply::Unauthorized => {
                self.phase = Phase::SignedOut;
                (Vec::new(), meta.acked_seq)
            }
            Reply::Revoked => {
                self.phase = Phase::Revoked;
                (Vec::new(), meta.acked_seq)
            }
            Reply::Gap { .. } | Reply::SendInFull | Reply::Failed => {
                self.fail(meta, jitter);
                (Vec::new(), meta.acked_seq)
            }
        }
    }
}

/// The next push batch: pending mutations after `acked`, with every number the phone no longer holds (a
/// write lost on the phone) filled by a skip, so the server sees no gap. Renumbering instead would let a
/// delayed replay of an old request land under a number that by then means another mutation.
fn contiguous_batch(acked: u64, outbox: &[Mutation], limit: usize) -> Vec<Mutation> {
    let mut batch = Vec::new();
    let mut next = acked + 1;
    for mutation in outbox.iter().filter(|m| m.seq > acked) {
        while next < mutation.seq && batch.len() < limit {
            batch.push(Mutation {
                seq: next,
                occurred_at: 0,
                op: Op::Skip,
            });
            next += 1;
        }
        if batch.len() == limit {
            break;
        }
        batch.push(mutation.clone());
        next = mutation.seq + 1;
    }
    batch
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::{MutationResult, Op};
    use crate::Id;

    fn mutation(seq: u64) -> Mutation {
        Mutation {
            seq,
            occurred_at: 0,
            op: Op::CheckIn {
                id: Id::new_v7(seq, [0; 10]),
                code: String::new(),
            },
        }
    }

    fn page(cursor: u64, last_seq: u64, has_more: bool) -> PullResponse {
        PullResponse {
            cursor,
            has_more,
            last_seq,
            changes: Vec::new(),
            server_time: 0,
        }
    }

    #[test]
    fn pushes_in_batches_then_pulls_until_done() {
        let mut meta = SyncMeta::default();
        let outbox: Vec<Mutation> = (1..=250).map(mutation).collect();
        let mut round = Round::new();
        let Step::Push(first) = round.next(&meta, &outbox) else {
            panic!("push first")
        };
        assert_eq!((first[0].seq, first.len()), (1, FIRST_PUSH_BATCH));
        let results = first
            .iter()
            .map(|m| MutationResult {
                seq: m.seq,
                outcome: Outcome::Applied,
            })
            .collect();
        let settled = round.on_push(&mut meta, Reply::Ok(PushResponse { last_seq: 200, results }), 0.5);
        assert_eq!(settled.drop_through, 200);
        let rest = &outbox[200..];
        let Step::Push(second) = round.next(&meta, rest) else {
            panic!("push the rest")
        };
        assert_eq!(second[0].seq, 201);
        round.on_push(
            &mut meta,
            Reply::Ok(PushResponse {
                last_seq: 250,
                results: Vec::new(),
            }),
            0.5,
        );
        assert_eq!(round.next(&meta, &[]), Step::Pull { cursor: 0 });
        round.on_pull(&mut meta, Reply::Ok(page(40, 250, true)), 1, 0.5);
        assert_eq!(round.next(&meta, &[]), Step::Pull { cursor: 40 });
        round.on_pull(&mut meta, Reply::Ok(page(45, 250, false)), 99, 0.5);
        assert_eq!(round.next(&meta, &[]), Step::Done);
        assert_eq!(meta.last_synced_at, Some(99));
    }

    #[test]
    fn an_answer_beyond_the_push_settles_only_what_it_carried() {
        let mut meta = SyncMeta::default();
        let outbox: Vec<Mutation> = (1..=4).map(mutation).collect();
        let mut round = Round::new();
        round.next(&meta, &outbox[..1]);
        // The server holds 1 to 4 from a push whose answer was lost; this one carried 1 only.
        let settled = round.on_push(
            &mut meta,
            Reply::Ok(PushResponse {
                last_seq: 4,
                results: Vec::new(),
            }),
            0.5,
        );
        assert_eq!((settled.drop_through, meta.acked_seq), (1, 1));
        let Step::Push(next) = round.next(&meta, &outbox[1..]) else {
            panic!("2 to 4 go again, for the server to say what became of them")
        };
        assert_eq!(next.first().map(|m| m.seq), Some(2));
    }

    #[test]
    fn quick_pushes_grow_and_slow_or_failed_ones_shrink() {
        let mut meta = SyncMeta::default();
        let outbox: Vec<Mutation> = (1..=5_000).map(mutation).collect();
        let mut round = Round::new();
        let pushed = |round: &mut Round, meta: &SyncMeta| match round.next(meta, &outbox) {
            Step::Push(batch) => batch.len(),
            other => panic!("a push, not {other:?}"),
        };
        assert_eq!(pushed(&mut round, &meta), FIRST_PUSH_BATCH);
        // What the phone reads ahead while a push is out: no push after it carries more.
        assert_eq!(round.batch_after_quick(), MAX_PUSH_BATCH);
        // Answered in a second: four times as many, the least a quick push grows by.
        round.took(QUICK_PUSH_MS, FIRST_PUSH_BATCH);
        assert_eq!(pushed(&mut round, &meta), FIRST_PUSH_BATCH * GROWTH);
        // At a pace that would carry 4,000 in a second: as many as a push may carry.
        round.took(QUICK_PUSH_MS / 5, FIRST_PUSH_BATCH * GROWTH);
        assert_eq!(pushed(&mut round, &meta), MAX_PUSH_BATCH);
        assert_eq!(round.batch_after_quick(), MAX_PUSH_BATCH);
        round.took(SLOW_PUSH_MS, MAX_PUSH_BATCH);
        assert_eq!(round.batch(), MAX_PUSH_BATCH / 2);
        round.took((QUICK_PUSH_MS + SLOW_PUSH_MS) / 2, MAX_PUSH_BATCH / 2);
        assert_eq!(round.batch(), MAX_PUSH_BATCH / 2, "neither quick nor slow: as it was");
        for _ in 0..20 {
            round.on_push(&mut meta, Reply::Failed, 0.5);
        }
        assert_eq!(round.batch(), MIN_PUSH_BATCH);
    }

    #[test]
    fn the_pace_of_a_push_is_its_own_mutations_not_the_batch() {
        let mut round = Round::new();
        // Three mutations answered in 10 ms: 300 a second, less than four times the batch.
        round.took(10, 3);
        assert_eq!(round.batch(), FIRST_PUSH_BATCH * GROWTH);
        // 200 in 20 ms: 10,000 a second, more than a push may carry.
        let mut round = Round::new();
        round.took(20, FIRST_PUSH_BATCH);
        assert_eq!(round.batch(), MAX_PUSH_BATCH);
        // 200 in 0 ms on a coarse clock: still a number, the most a push may carry.
        let mut round = Round::new();
        round.took(0, FIRST_PUSH_BATCH);
        assert_eq!(round.batch(), MAX_PUSH_BATCH);
    }

    #[test]
    fn a_pull_teaches_the_phone_how_far_its_clock_is_off() {
        let mut meta = SyncMeta::default();
        let mut round = Round::new();
        round.next(&meta, &[]);
        let answer = PullResponse {
            server_time: 1_000_000,
            ..page(1, 0, false)
        };
        round.on_pull(&mut meta, Reply::Ok(answer), 1_000_000 + 3 * 86_400_000, 0.5);
        assert_eq!(meta.clock_offset_ms, -3 * 86_400_000);
    }

    #[test]
    fn rejected_mutations_are_kept_with_their_reason_and_do_not_block() {
        let mut meta = SyncMeta::default();
        let mut round = Round::new();
        let reason = Rejection::Code(crate::qr::CodeError::Expired);
        round.next(&meta, &[mutation(1), mutation(2)]);
        let results = vec![
            MutationResult {
                seq: 1,
                outcome: Outcome::Rejected { reason },
            },
            MutationResult {
                seq: 2,
                outcome: Outcome::Applied,
            },
        ];
        let settled = round.on_push(&mut meta, Reply::Ok(PushResponse { last_seq: 2, results }), 0.0);
        assert_eq!(settled.rejected, [(1, reason)]);
        assert_eq!(settled.drop_through, 2);
    }

    #[test]
    fn failure_backs_off_and_keeps_everything() {
        let mut meta = SyncMeta {
            acked_seq: 3,
            ..SyncMeta::default()
        };
        let mut round = Round::new();
        let settled = round.on_push(&mut meta, Reply::Failed, 0.0);
        assert_eq!(settled, Settled::default());
        assert_eq!(round.next(&meta, &[mutation(4)]), Step::RetryIn(1_000));
        assert_eq!(meta.acked_seq, 3);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff_ms(1, 0.0), BACKOFF_BASE_MS / 2);
        assert_eq!(backoff_ms(2, 0.999_999), BACKOFF_BASE_MS * 2 - 1);
        assert_eq!(backoff_ms(50, 1.0), BACKOFF_CAP_MS);
        assert!((1..40).all(|n| backoff_ms(n, 0.0) <= backoff_ms(n + 1, 0.0)));
    }

    #[test]
    fn a_hole_in_the_outbox_is_filled_with_skips_never_renumbered() {
        let mut meta = SyncMeta {
            acked_seq: 0,
            last_seq: 9,
            ..SyncMeta::default()
        };
        let mut round = Round::new();
        let settled = round.on_push(&mut meta, Reply::Gap { last_seq: 4 }, 0.0);
        assert_eq!(settled.drop_through, 4);
        let Step::Push(batch) = round.next(&meta, &[mutation(7), mutation(9)]) else {
            panic!("push")
        };
        let sent: Vec<(u64, bool)> = batch.iter().map(|m| (m.seq, m.op == Op::Skip)).collect();
        assert_eq!(sent, [(5, true), (6, true), (7, false), (8, true), (9, false)]);
        assert_eq!(
            meta.last_seq, 9,
            "new writes are numbered on after the last number handed out"
        );
    }

    #[test]
    fn a_lost_session_stops_the_round_and_keeps_the_outbox() {
        let mut meta = SyncMeta::default();
        let mut round = Round::new();
        assert_eq!(round.on_push(&mut meta, Reply::Unauthorized, 0.0), Settled::default());
        assert_eq!(round.next(&meta, &[mutation(1)]), Step::SignIn);
        let mut round = Round::new();
        round.on_pull(&mut meta, Reply::Revoked, 0, 0.0);
        assert_eq!(round.next(&meta, &[mutation(1)]), Step::Wipe);
    }

    #[test]
    fn an_http_answer_reads_as_ok_gap_signed_out_or_passing_failure() {
        let pushed = br#"{"last_seq":3,"results":[]}"#;
        assert_eq!(
            Reply::from_http(200, pushed),
            Reply::Ok(PushResponse {
                last_seq: 3,
                results: Vec::new()
            })
        );
        assert_eq!(Reply::<PushResponse>::from_http(200, b"<html>"), Reply::Failed);
        assert_eq!(Reply::<PushResponse>::from_http(401, b"{}"), Reply::Unauthorized);
        let revoked = br#"{"error":"session_revoked"}"#;
        assert_eq!(Reply::<PushResponse>::from_http(401, revoked), Reply::Revoked);
        let gap = br#"{"error":"seq_gap","last_seq":4}"#;
        assert_eq!(Reply::<PushResponse>::from_http(409, gap), Reply::Gap { last_seq: 4 });
        assert_eq!(
            Reply::<PushResponse>::from_http(409, br#"{"error":"seq_gap"}"#),
            Reply::Failed
        );
        let in_full = br#"{"error":"send_codes_in_full"}"#;
        assert_eq!(Reply::<PushResponse>::from_http(409, in_full), Reply::SendInFull);
        // What a server older than named codes answers a push naming them (`AppError::Invalid`).
        let older = br#"{"error":"invalid","detail":"unknown variant `check_in_issued`"}"#;
        assert_eq!(Reply::<PushResponse>::from_http(400, older), Reply::SendInFull);
        assert_eq!(Reply::<PushResponse>::from_http(503, b""), Reply::Failed);
    }

    #[test]
    fn a_big_push_names_issued_codes_until_the_server_asks_for_them_whole() {
        let mut meta = SyncMeta::default();
        let mut round = Round::new();
        let compact = |round: &Round, mutations| crate::sync::sends_compact(mutations, round.in_full());
        assert!(!compact(&round, crate::sync::FEW_CODES), "a few codes go whole");
        assert!(compact(&round, crate::sync::FEW_CODES + 1));
        let outbox: Vec<Mutation> = (1..=100).map(mutation).collect();
        assert!(matches!(round.next(&meta, &outbox), Step::Push(_)));
        // Asked for in full: the same push goes again at once, whole, and so does every push of the round.
        assert_eq!(round.on_push(&mut meta, Reply::SendInFull, 0.5), Settled::default());
        assert_eq!(meta.failures, 0);
        assert_eq!(meta.acked_seq, 0);
        assert!(!compact(&round, crate::sync::MAX_PUSH_BATCH));
        assert_eq!(
            round.next(&meta, &outbox),
            Step::Push(outbox[..FIRST_PUSH_BATCH.min(100)].to_vec())
        );
        // Asked again, for codes sent whole: a failure, with its wait.
        round.on_push(&mut meta, Reply::SendInFull, 0.5);
        assert_eq!(meta.failures, 1);
        assert!(matches!(round.next(&meta, &outbox), Step::RetryIn(_)));
        // A new round names them by their signature again.
        assert!(compact(&Round::new(), crate::sync::FEW_CODES + 1));
    }
}
