//! Settling pushes, many in one transaction (group commit). SQLite has one writer, and a push's own work is a
//! few statements: what made a thousand devices wait was each push's transaction of its own, and every
//! statement a round trip to sqlx's thread for the connection (on a busy machine, up to milliseconds each for
//! the two thread wake-ups, with the microseconds of SQLite's work in between). The writer, on a thread of its
//! own, takes every push that is waiting and settles them all in one transaction. sqlx lends it the write
//! connection (`db::lent`), and the pushes' numbers, their check-ins, refusals and answers are direct calls into
//! SQLite on that thread, microseconds each; only reports, leaving and profile edits, which a phone seldom
//! sends, go through sqlx's code for them. Each push is answered once the transaction has committed. Exactly once holds as before: a push's numbers are checked against what the same
//! transaction holds, so two pushes of one phone in the same batch settle one after the other.

use guihai_core::qr::{Code, CodeError};
use guihai_core::sync::{
    classify, Classified, Mutation, MutationResult, Op, Outcome, PushRequest, PushResponse, Rejection, SeqGap,
};
use guihai_core::Id;
use rusqlite::OptionalExtension;
use sha2::Digest as _;
use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::activities::checkins::{self, Attended, Origin, Scan};
use crate::error::AppError;
use crate::faults::{self, Fault};
use crate::{activities, db, identity::profile, organisations::notices, organisations::reports, sync};

/// A batch stops growing at this many mutations (five full pushes), so one transaction stays short.
const MAX_BATCH_MUTATIONS: usize = 1_000;
/// Pushes waiting for the writer; more wait in their handlers.
const QUEUE: usize = 1_024;

/// A push with its codes' signatures checked, waiting for the writer.
pub struct Job {
    pub person_id: Id,
    pub request: PushRequest,
    /// Per mutation: its code's signature check, for the ones that carry a code.
    pub verified: Vec<Option<Result<Code, CodeError>>>,
    pub received_at: i64,
    pub fault: Option<Fault>,
}

struct Waiting {
    job: Job,
    answer: oneshot::Sender<Result<PushResponse, AppError>>,
}

/// The handle of the writer task.
#[derive(Clone)]
pub struct Pushes {
    queue: mpsc::Sender<Waiting>,
}

impl Pushes {
    /// Starts the writer on the write connection pool; it stops when the last handle is dropped. Its thread
    /// is its own so that its many small waits are not queued behind the request handlers' work.
    pub fn start(writes: SqlitePool) -> Pushes {
        let (queue, waiting) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("push-writer".into())
            .spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the push writer")
                    .block_on(write(writes, waiting));
            })
            .expect("a thread for the push writer");
        Pushes { queue }
    }

    /// Settles `job` and answers it once its transaction has committed.
    pub async fn settle(&self, job: Job) -> Result<PushResponse, AppError> {
        let (answer, answered) = oneshot::channel();
        let stopped = || AppError::Internal("the push writer has stopped".into());
        self.queue.send(Waiting { job, answer }).await.map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

async fn write(writes: SqlitePool, mut queue: mpsc::Receiver<Waiting>) {
    let mut next = None;
    loop {
        let first = match next.take() {
            Some(first) => first,
            None => match queue.recv().await {
                Some(first) => first,
                None => return,
            },
        };
        let mut batch = vec![first];
        // A push armed with a test fault goes alone, so that the fault strikes it and nothing else.
        if batch[0].job.fault.is_none() {
            let mut size = batch[0].job.request.mutations.len();
            while size < MAX_BATCH_MUTATIONS {
                match queue.try_recv() {
                    Ok(waiting) if waiting.job.fault.is_none() => {
                        size += waiting.job.request.mutations.len();
                        batch.push(waiting);
                    }
                    Ok(faulty) => {
                        next = Some(faulty);
                        break;
                    }
                    Err(_) => break,
                }
            }
        }
        let (jobs, answers): (Vec<Job>, Vec<_>) = batch.into_iter().map(|w| (w.job, w.answer)).unzip();
        let settled = match settle_batch(&writes, jobs).await {
            Ok(settled) => settled,
            Err(error) => {
                tracing::error!(%error, "a batch of pushes failed");
                answers
                    .iter()
                    .map(|_| Err(AppError::Internal(error.to_string())))
                    .collect()
            }
        };
        for (answer, result) in answers.into_iter().zip(settled) {
            // The phone may have given up waiting; it will learn the outcome from its next push.
            let _ = answer.send(result);
        }
    }
}

/// One transaction for the whole batch. A push with a gap (or a phone that is not its member's) is answered
/// with its error and changes nothing; a database error fails the whole batch, and each phone sends again.
async fn settle_batch(writes: &SqlitePool, jobs: Vec<Job>) -> Result<Vec<Result<PushResponse, AppError>>, AppError> {
    let mut conn = writes.acquire().await?;
    let settled = settle(&mut conn, jobs).await;
    if settled.is_err() {
        // The transaction may be open still; without one, this fails, and that is fine.
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
        // A connection left inside a transaction would fail every write after it: it is closed instead.
        if !matches!(db::lent(&mut conn, |db| Ok(db.is_autocommit())).await, Ok(true)) {
            tracing::error!("the write connection could not be rolled back; closing it");
            conn.close_on_drop();
        }
    }
    settled
}

async fn settle(conn: &mut SqliteConnection, jobs: Vec<Job>) -> Result<Vec<Result<PushResponse, AppError>>, AppError> {
    let (answers, fault) = if jobs.iter().any(Job::needs_sqlx) {
        let mut plans = db::lent(conn, |db| open(db, jobs)).await?;
        for plan in plans.iter_mut().flatten() {
            plan.apply_rest(conn).await?;
        }
        db::lent(conn, |db| close(db, plans)).await?
    } else {
        // The usual batch, check-ins only: one lending of the connection, no round trip.
        db::lent(conn, |db| close(db, open(db, jobs)?)).await?
    };
    if fault == Some(Fault::ExitAfterCommit) {
        tracing::warn!("test fault: exiting after the commit, before the answer");
        std::process::exit(faults::EXIT_AFTER_COMMIT_STATUS);
    }
    Ok(answers)
}

/// Opens the transaction, checks each push's numbers and applies the check-ins.
fn open(db: &rusqlite::Connection, jobs: Vec<Job>) -> Result<Vec<Result<Plan, AppError>>, AppError> {
    db.execute_batch("BEGIN IMMEDIATE")?;
    let mut plans = jobs
        .into_iter()
        .map(|job| plan(db, job))
        .collect::<Result<Vec<_>, _>>()?;
    check_in(db, &mut plans)?;
    Ok(plans)
}

/// Keeps the refusals, answers each push and commits; also gives the test fault armed on a push it settled
/// (a push with a gap is answered with its gap, whatever it was armed with).
fn close(db: &rusqlite::Connection, plans: Vec<Result<Plan, AppError>>) -> Result<Settled, AppError> {
    let fault = plans.iter().flatten().find_map(|plan| plan.job.fault);
    let mut answers = Vec::with_capacity(plans.len());
    for plan in plans {
        answers.push(match plan {
            Ok(plan) => Ok(plan.finish(db)?),
            Err(error) => Err(error),
        });
    }
    if fault == Some(Fault::FailBeforeCommit) {
        return Err(AppError::Internal("test fault: fail-before-commit".into()));
    }
    db.execute_batch("COMMIT")?;
    Ok((answers, fault))
}

/// Each push's answer, and the test fault armed on one of them.
type Settled = (Vec<Result<PushResponse, AppError>>, Option<Fault>);

impl Job {
    /// Whether the push carries a write only sqlx's code applies.
    fn needs_sqlx(&self) -> bool {
        self.request.mutations.iter().any(|m| match m.op {
            Op::Report { .. }
            | Op::Leave { .. }
            | Op::EditProfile(_)
            | Op::PublishActivity(_)
            | Op::CancelActivity { .. }
            | Op::RecordAttendance { .. }
            | Op::WriteMinutes { .. }
            | Op::CreditHours { .. }
            | Op::ReadNotice { .. } => true,
            // A code named by its signature is taken whole before the writer (`keys::Issued::resolve`).
            Op::CheckIn { .. } | Op::CheckInIssued { .. } | Op::Skip => false,
        })
    }
}

/// A push whose numbers are checked and whose new mutations are settled in this transaction.
struct Plan {
    job: Job,
    /// Indexes of the new mutations, in order.
    new: Vec<usize>,
    outcomes: Vec<Option<Outcome>>,
    last_seq: u64,
}

/// Checks `job`'s numbers against what the transaction holds (core's `classify`) and moves its client's
/// `last_seq` past the new ones.
fn plan(db: &rusqlite::Connection, job: Job) -> Result<Result<Plan, AppError>, AppError> {
    let client_id = job.request.client_id;
    let (owner, last_seq): (String, i64) = db.prepare_cached(sync::BIND_CLIENT)?.query_row(
        rusqlite::params![client_id.to_string(), job.person_id.to_string(), job.received_at],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let committed = match sync::owned_by(&owner, last_seq, job.person_id) {
        Ok(committed) => committed,
        Err(AppError::Forbidden) => return Ok(Err(AppError::Forbidden)),
        Err(error) => return Err(error),
    };
    let Classified { new, last_seq } = match classify(committed, job.request.mutations.iter().map(|m| m.seq)) {
        Ok(classified) => classified,
        Err(SeqGap { last_seq }) => return Ok(Err(AppError::SeqGap { last_seq })),
    };
    if last_seq > committed {
        let stored = match db::seq(last_seq) {
            Ok(stored) => stored,
            Err(error) => return Ok(Err(error)),
        };
        db.prepare_cached("UPDATE clients SET last_seq = ? WHERE client_id = ?")?
            .execute(rusqlite::params![stored, client_id.to_string()])?;
    }
    let mut outcomes = vec![None; job.request.mutations.len()];
    for &index in &new {
        // Only takes up its number (see `engine::contiguous_batch`).
        if job.request.mutations[index].op == Op::Skip {
            outcomes[index] = Some(Outcome::Applied);
        }
    }
    Ok(Ok(Plan {
        job,
        new,
        outcomes,
        last_seq,
    }))
}

/// Check-ins depend on nothing else a push carries, so the batch's are applied together, before the rest.
fn check_in(db: &rusqlite::Connection, plans: &mut [Result<Plan, AppError>]) -> Result<(), AppError> {
    let mut scanned = Vec::new();
    let mut scans = Vec::new();
    for (p, plan) in plans.iter_mut().enumerate() {
        let Ok(plan) = plan else { continue };
        for &index in &plan.new {
            let mutation = &plan.job.request.mutations[index];
            let Op::CheckIn { id, .. } = &mutation.op else { continue };
            if let Some(verified) = plan.job.verified[index].take() {
                scanned.push((p, index));
                scans.push(Scan {
                    origin: plan.origin(mutation),
                    id: *id,
                    verified,
                });
            }
        }
    }
    for ((p, index), outcome) in scanned.into_iter().zip(checkins::check_in_all(db, &scans)?) {
        if let Ok(plan) = &mut plans[p] {
            plan.outcomes[index] = Some(outcome);
        }
    }
    Ok(())
}

impl Plan {
    fn origin(&self, mutation: &Mutation) -> Origin {
        Origin {
            person_id: self.job.person_id,
            client_id: self.job.request.client_id,
            seq: mutation.seq,
            occurred_at: mutation.occurred_at,
            received_at: self.job.received_at,
            skew_ms: self
                .job
                .request
                .sent_at
                .map_or(0, |sent_at| sent_at.saturating_sub(self.job.received_at)),
        }
    }

    /// Applies the new mutations that only sqlx's code applies (reports, leaving, profile edits, activities), in
    /// order.
    async fn apply_rest(&mut self, conn: &mut SqliteConnection) -> Result<(), AppError> {
        for index in self.new.clone() {
            if self.outcomes[index].is_some() {
                continue;
            }
            let mutation = &self.job.request.mutations[index];
            let origin = self.origin(mutation);
            let outcome = match (&mutation.op, self.job.verified[index].take()) {
                (Op::Report { id, left_stop, .. }, Some(verified)) => {
                    reports::report_from_phone(conn, &origin, *id, verified, *left_stop).await?
                }
                (Op::Leave { stop_id }, _) => reports::leave_from_phone(conn, &origin, *stop_id).await?,
                (Op::EditProfile(edit), _) => profile::edit_from_phone(conn, &origin, edit).await?,
                (Op::PublishActivity(activity), _) => activities::publish_from_phone(conn, &origin, activity).await?,
                (Op::CancelActivity { id }, _) => activities::cancel_from_phone(conn, &origin, *id).await?,
                (Op::RecordAttendance { id, activity_id, by }, verified) => {
                    let attended = Attended {
                        id: *id,
                        activity_id: *activity_id,
                        by,
                        verified,
                    };
                    checkins::record_from_phone(conn, &origin, attended).await?
                }
                (Op::WriteMinutes { activity_id, text }, _) => {
                    activities::write_minutes(conn, &origin, *activity_id, text).await?
                }
                (
                    Op::CreditHours {
                        activity_id,
                        member_id,
                        hours_tenths,
                    },
                    _,
                ) => activities::credit_hours(conn, &origin, *activity_id, *member_id, *hours_tenths).await?,
                (Op::ReadNotice { notice_id }, _) => notices::read_from_phone(conn, &origin, *notice_id).await?,
                (op, _) => return Err(AppError::Internal(format!("{op:?} has no outcome"))),
            };
            self.outcomes[index] = Some(outcome);
        }
        Ok(())
    }

    /// Keeps the refusals among the new mutations and answers. One sent again gets the answer it had: a
    /// refusal is told again, or the phone would never learn why its write did not count.
    fn finish(mut self, db: &rusqlite::Connection) -> Result<PushResponse, AppError> {
        let mut results = Vec::with_capacity(self.outcomes.len());
        for (index, mutation) in self.job.request.mutations.iter().enumerate() {
            let outcome = match self.outcomes[index].take() {
                Some(outcome) => {
                    if let Outcome::Rejected { reason } = &outcome {
                        record_rejection(db, &self.origin(mutation), mutation, *reason)?;
                    }
                    outcome
                }
                None if self.new.binary_search(&index).is_ok() => {
                    return Err(AppError::Internal(format!("mutation {} was not applied", mutation.seq)));
                }
                None => earlier_outcome(db, self.job.request.client_id, mutation.seq)?,
            };
            results.push(MutationResult {
                seq: mutation.seq,
                outcome,
            });
        }
        Ok(PushResponse {
            last_seq: self.last_seq,
            results,
        })
    }
}

fn earlier_outcome(db: &rusqlite::Connection, client_id: Id, seq: u64) -> Result<Outcome, AppError> {
    let reason: Option<String> = db
        .prepare_cached("SELECT reason FROM rejected_mutations WHERE client_id = ? AND seq = ?")?
        .query_row(rusqlite::params![client_id.to_string(), db::seq(seq)?], |row| {
            row.get(0)
        })
        .optional()?;
    Ok(match reason {
        Some(reason) => Outcome::Rejected {
            reason: serde_json::from_str(&reason).map_err(|error| AppError::Internal(error.to_string()))?,
        },
        None => Outcome::Duplicate,
    })
}

fn record_rejection(
    db: &rusqlite::Connection,
    origin: &Origin,
    mutation: &Mutation,
    reason: Rejection,
) -> Result<(), AppError> {
    // The op as it came over the wire is `{"kind": ..., "args": ...}`; of its args only a digest is kept, so a
    // refused write costs the same few bytes however large a body someone sent.
    let op = serde_json::to_value(&mutation.op).map_err(|error| AppError::Internal(error.to_string()))?;
    let args = op["args"].to_string();
    let digest = serde_json::json!({
        "sha256": format!("{:x}", sha2::Sha256::digest(args.as_bytes())),
        "bytes": args.len(),
    });
    let reason = serde_json::to_string(&reason).map_err(|error| AppError::Internal(error.to_string()))?;
    db.prepare_cached(
        "INSERT INTO rejected_mutations (client_id, seq, kind, args, occurred_at, reason, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(rusqlite::params![
        origin.client_id.to_string(),
        db::seq(origin.seq)?,
        op["kind"].as_str().unwrap_or_default(),
        digest.to_string(),
        origin.occurred_at,
        reason,
        origin.received_at,
    ])?;
    Ok(())
}
