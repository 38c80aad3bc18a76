//! Settling pushes, many in one transaction (group commit). SQLite has one writer, and a push's own work is a
//! few statements: what made a thousand devices wait was each push's transaction of its own, every statement a
//! round trip to the database thread. The writer takes every push that is waiting, settles them all in one
//! transaction, with all their check-ins inserted together, and answers each once it has committed. Exactly
//! once holds as before: a push's numbers are checked against what the same transaction holds, so two pushes
//! of one phone in the same batch settle one after the other.

use guihai_core::qr::{Code, CodeError};
use guihai_core::sync::{Mutation, MutationResult, Op, Outcome, PushRequest, PushResponse, Rejection};
use guihai_core::Id;
use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::checkins::{self, Origin, Scan};
use crate::error::AppError;
use crate::faults::{self, Fault};
use crate::{db, profile, reports, sync};

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
    /// Starts the writer on the write connection pool; it stops when the last handle is dropped.
    pub fn start(writes: SqlitePool) -> Pushes {
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(write(writes, waiting));
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
    let mut tx = db::begin_write(writes).await?;
    let mut plans = Vec::with_capacity(jobs.len());
    for job in jobs {
        plans.push(plan(&mut tx, job).await?);
    }
    // Check-ins depend on nothing else a push carries, so the batch's are applied together.
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
    for ((p, index), outcome) in scanned.into_iter().zip(checkins::check_in_all(&mut tx, scans).await?) {
        if let Ok(plan) = &mut plans[p] {
            plan.outcomes[index] = Some(outcome);
        }
    }
    let mut answers = Vec::with_capacity(plans.len());
    let mut fault = None;
    for plan in plans {
        answers.push(match plan {
            Ok(mut plan) => {
                fault = fault.or(plan.job.fault);
                Ok(plan.finish(&mut tx).await?)
            }
            Err(error) => Err(error),
        });
    }
    if fault == Some(Fault::FailBeforeCommit) {
        return Err(AppError::Internal("test fault: fail-before-commit".into()));
    }
    tx.commit().await?;
    if fault == Some(Fault::ExitAfterCommit) {
        tracing::warn!("test fault: exiting after the commit, before the answer");
        std::process::exit(faults::EXIT_AFTER_COMMIT_STATUS);
    }
    Ok(answers)
}

/// A push whose numbers are checked and whose new mutations are settled in this transaction.
struct Plan {
    job: Job,
    /// Indexes of the new mutations, in order.
    new: Vec<usize>,
    outcomes: Vec<Option<Outcome>>,
    last_seq: u64,
}

/// Checks `job`'s numbers against what the transaction holds and moves its client's `last_seq` past the new
/// ones. The new mutations are numbered on from there, in order; one at or below the last number is an
/// earlier one sent again (its answer may have been lost); any other number is a gap.
async fn plan(conn: &mut SqliteConnection, job: Job) -> Result<Result<Plan, AppError>, AppError> {
    let client_id = job.request.client_id;
    let committed = match sync::bind_client(conn, client_id, job.person_id, job.received_at).await {
        Ok(committed) => committed,
        Err(AppError::Forbidden) => return Ok(Err(AppError::Forbidden)),
        Err(error) => return Err(error),
    };
    let mut last_seq = committed;
    let mut new = Vec::new();
    for (index, mutation) in job.request.mutations.iter().enumerate() {
        if mutation.seq == last_seq + 1 {
            new.push(index);
            last_seq = mutation.seq;
        } else if mutation.seq > last_seq {
            return Ok(Err(AppError::SeqGap { last_seq: committed }));
        }
    }
    if last_seq > committed {
        sqlx::query("UPDATE clients SET last_seq = ? WHERE client_id = ?")
            .bind(db::seq(last_seq)?)
            .bind(client_id.to_string())
            .execute(&mut *conn)
            .await?;
    }
    let outcomes = vec![None; job.request.mutations.len()];
    Ok(Ok(Plan {
        job,
        new,
        outcomes,
        last_seq,
    }))
}

impl Plan {
    fn origin(&self, mutation: &Mutation) -> Origin {
        Origin {
            person_id: self.job.person_id,
            client_id: self.job.request.client_id,
            seq: mutation.seq,
            occurred_at: mutation.occurred_at,
            received_at: self.job.received_at,
        }
    }

    /// Applies the new mutations that are not check-ins, in order, keeps the refusals, and answers.
    async fn finish(&mut self, conn: &mut SqliteConnection) -> Result<PushResponse, AppError> {
        for index in self.new.clone() {
            let mutation = &self.job.request.mutations[index];
            let outcome = match self.outcomes[index].take() {
                Some(outcome) => outcome,
                None => {
                    apply(
                        conn,
                        &self.origin(mutation),
                        &mutation.op,
                        self.job.verified[index].take(),
                    )
                    .await?
                }
            };
            if let Outcome::Rejected { reason } = &outcome {
                record_rejection(conn, &self.origin(mutation), mutation, *reason).await?;
            }
            self.outcomes[index] = Some(outcome);
        }
        let mut results = Vec::with_capacity(self.outcomes.len());
        for (mutation, outcome) in self.job.request.mutations.iter().zip(&mut self.outcomes) {
            let outcome = match outcome.take() {
                Some(outcome) => outcome,
                // Sent again: a refusal is told again, or the phone would never learn why its write did not count.
                None => match earlier_rejection(conn, self.job.request.client_id, mutation.seq).await? {
                    Some(reason) => Outcome::Rejected { reason },
                    None => Outcome::Duplicate,
                },
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

/// Applies one mutation; `verified` is its code's signature check, made before the transaction.
async fn apply(
    conn: &mut SqliteConnection,
    origin: &Origin,
    op: &Op,
    verified: Option<Result<Code, CodeError>>,
) -> Result<Outcome, AppError> {
    match (op, verified) {
        (Op::CheckIn { .. }, _) => Err(AppError::Internal("check-ins are applied by check_in_all".into())),
        (Op::Report { id, left_stop, .. }, Some(verified)) => {
            reports::report_from_phone(conn, origin, *id, verified, *left_stop).await
        }
        (Op::Report { .. }, None) => Err(AppError::Internal("a report without its signature check".into())),
        (Op::Leave { stop_id }, _) => reports::leave_from_phone(conn, origin, *stop_id).await,
        (Op::EditProfile(edit), _) => profile::edit_from_phone(conn, origin, edit).await,
        // Only takes up its number (see `engine::contiguous_batch`).
        (Op::Skip, _) => Ok(Outcome::Applied),
    }
}

async fn earlier_rejection(
    conn: &mut SqliteConnection,
    client_id: Id,
    seq: u64,
) -> Result<Option<Rejection>, AppError> {
    let reason: Option<String> =
        sqlx::query_scalar("SELECT reason FROM rejected_mutations WHERE client_id = ? AND seq = ?")
            .bind(client_id.to_string())
            .bind(db::seq(seq)?)
            .fetch_optional(conn)
            .await?;
    reason
        .map(|reason| serde_json::from_str(&reason).map_err(|error| AppError::Internal(error.to_string())))
        .transpose()
}

async fn record_rejection(
    conn: &mut SqliteConnection,
    origin: &Origin,
    mutation: &Mutation,
    reason: Rejection,
) -> Result<(), AppError> {
    // The op as it came over the wire: `{"kind": ..., "args": ...}`.
    let op = serde_json::to_value(&mutation.op).map_err(|error| AppError::Internal(error.to_string()))?;
    let reason = serde_json::to_string(&reason).map_err(|error| AppError::Internal(error.to_string()))?;
    sqlx::query(
        "INSERT INTO rejected_mutations (client_id, seq, kind, args, occurred_at, reason, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(origin.client_id.to_string())
    .bind(db::seq(origin.seq)?)
    .bind(op["kind"].as_str().unwrap_or_default())
    .bind(op["args"].to_string())
    .bind(origin.occurred_at)
    .bind(reason)
    .bind(origin.received_at)
    .execute(conn)
    .await?;
    Ok(())
}
