//! The phone's outbox, as every client keeps it: the browser (IndexedDB), the native test phone and the model
//! test all call these functions, so the numbering that ships is the numbering that is tested.
//!
//! A local write takes a *row* when it is stored: its place in write order on this phone, the row after the
//! last one stored, read inside the write's own transaction (`enqueue`). Nothing else is written with it: the
//! waiting count is the bookkeeping's plus the rows stored since (`waiting`). It takes its *sequence number*
//! (`seq`, what the server counts) only later, in the one tab that syncs, as the push that carries it is put
//! together (`number`). Numbering late means a write that cannot be read back (damaged) never takes a number:
//! it is set aside, kept and shown, and never sent as a skip. (One damaged after it was numbered, for a push that
//! got no answer, is set aside too; its number has to go, as a skip, or the writes after it would wait behind it
//! for ever.) Rows are numbered in row order, so among the
//! numbered writes row order is `seq` order, and a number is never written into its row: the bookkeeping's
//! runs give it (`seq_of`).
//!
//! A write leaves the outbox when the server has settled it (applied, duplicate or refused): `fate` says which.

use std::collections::BTreeMap;

use crate::engine::{Run, Settled, SyncMeta};
use crate::sync::Rejection;

/// The row for a new local write: after the last row stored (`last_row`, read in the same transaction, so two
/// tabs writing at once never share one) and after every row the bookkeeping has counted or numbered.
pub fn enqueue(meta: &SyncMeta, last_row: Option<u64>) -> u64 {
    last_row.unwrap_or(0).max(counted(meta)) + 1
}

/// Rows up to here are counted in `SyncMeta::waiting`; the ones after follow one another, as `enqueue` gives
/// them and only numbering takes one away.
fn counted(meta: &SyncMeta) -> u64 {
    meta.next_row.max(meta.numbered_row)
}

/// How many local writes the server has not settled: the bookkeeping's, and the rows stored after it.
pub fn waiting(meta: &SyncMeta, last_row: Option<u64>) -> u64 {
    meta.waiting + last_row.unwrap_or(0).saturating_sub(counted(meta))
}

/// Takes a row for something kept outside the outbox (set aside as damaged, refused) and counts the rows
/// before it in `meta`, which the caller stores in the same transaction.
pub fn take_row(meta: &mut SyncMeta, last_row: Option<u64>) -> u64 {
    let row = enqueue(meta, last_row);
    meta.waiting = waiting(meta, last_row);
    meta.next_row = row;
    row
}

/// Takes the row for a write and counts it in `meta` (with every row before it), for a caller that stores
/// `meta` with it anyway (writes moved in from an older build).
pub fn enqueue_counted(meta: &mut SyncMeta, last_row: Option<u64>) -> u64 {
    let row = take_row(meta, last_row);
    meta.waiting += 1;
    row
}

/// What numbering found in a row after `SyncMeta::numbered_row`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// A write that reads back: it takes the next number.
    Readable(u64),
    /// A row whose stored value cannot be read: it takes no number and leaves the outbox (the caller keeps it
    /// aside as damaged, to show and export).
    Damaged(u64),
}

/// Numbers rows stored since the last numbering, in row order (call only while holding the sync lock, in the
/// transaction that stores `meta`); the caller passes the first rows after `numbered_row`, as many as it
/// wants numbered now. Returns `(row, seq)` for each readable row; a damaged row stops counting as waiting.
/// Every row looked at is marked as looked at, so none is numbered twice.
pub fn number(meta: &mut SyncMeta, found: impl IntoIterator<Item = Found>) -> Vec<(u64, u64)> {
    let mut numbered = Vec::new();
    for found in found {
        let (row, readable) = match found {
            Found::Readable(row) => (row, true),
            Found::Damaged(row) => (row, false),
        };
        let was_counted = row <= counted(meta);
        if readable {
            meta.last_seq += 1;
            let seq = meta.last_seq;
            let continues = meta
                .runs
                .last()
                .is_some_and(|run| row >= run.row && run.seq + (row - run.row) == seq);
            if !continues {
                meta.runs.push(Run { row, seq });
            }
            numbered.push((row, seq));
            if !was_counted {
                meta.waiting += 1;
            }
        } else if was_counted {
            meta.waiting = meta.waiting.saturating_sub(1);
        }
        meta.numbered_row = meta.numbered_row.max(row);
        meta.next_row = meta.next_row.max(row);
    }
    numbered
}

/// The number of a numbered row still in the outbox (`None` for a row not numbered yet, or numbered by an
/// older build, which kept the number in the row).
pub fn seq_of(meta: &SyncMeta, row: u64) -> Option<u64> {
    if row > meta.numbered_row {
        return None;
    }
    let run = meta.runs.iter().rev().find(|run| run.row <= row)?;
    Some(run.seq + (row - run.row))
}

/// What a push answer (or a pull's `last_seq`) means for one numbered write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Not settled yet: it stays and is sent again.
    Waits,
    /// Applied (or already applied earlier): it leaves the outbox; the server's record stands for it.
    Done,
    /// The server will never accept it: it leaves the outbox and is kept aside with the reason.
    Refused(Rejection),
}

/// The fate of the write numbered `seq` after `settled`.
pub fn fate(seq: u64, settled: &Settled) -> Fate {
    if seq > settled.drop_through {
        return Fate::Waits;
    }
    match settled.rejected.iter().find(|(refused, _)| *refused == seq) {
        Some((_, reason)) => Fate::Refused(*reason),
        None => Fate::Done,
    }
}

/// Counts a write that left the outbox (`Fate::Done` or `Fate::Refused`, or set aside as damaged after it was
/// numbered).
pub fn leave(meta: &mut SyncMeta) {
    meta.waiting = meta.waiting.saturating_sub(1);
}

/// A numbered write at the front of the outbox as a push's head read it: its number, its row, and whether it is
/// a check-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    pub seq: u64,
    pub row: u64,
    pub check_in: bool,
}

/// Settles from the head alone, without reading the rows again, when `settled` does to them only what it does
/// to a synced check-in: nothing in the row, the bookkeeping counts it as synced. `front` is every numbered row
/// from the first after the synced ones, as the head read them, with the bookkeeping unchanged since. Settled
/// so, the rows count as synced in `meta` and it returns `true`; it returns `false`, leaving `meta` as it was,
/// when the rows must be read: a refusal, a write other than a check-in, or an answer that may settle rows
/// beyond `front` (a gap answer above what was pushed).
pub fn settle_front(meta: &mut SyncMeta, front: &[Read], settled: &Settled) -> bool {
    if !settled.rejected.is_empty() {
        return false;
    }
    let done: Vec<&Read> = front
        .iter()
        .take_while(|read| read.seq <= settled.drop_through)
        .collect();
    if done.iter().any(|read| !read.check_in) {
        return false;
    }
    // Every row read is settled, and the answer reaches past them: numbered rows after them would be too.
    let past_front = front.last().is_none_or(|read| settled.drop_through > read.seq);
    let rows_after = meta.numbered_row > front.last().map_or(meta.synced_row, |read| read.row);
    if done.len() == front.len() && past_front && rows_after {
        return false;
    }
    if let Some(last) = done.last() {
        meta.synced_row = last.row;
    }
    for _ in &done {
        leave(meta);
    }
    forget_settled(meta);
    true
}

/// After settling: forgets the runs whose writes have all left (the next run starts at or below the first
/// number the server has not settled).
pub fn forget_settled(meta: &mut SyncMeta) {
    let settled = meta
        .runs
        .iter()
        .skip(1)
        .take_while(|next| next.seq <= meta.acked_seq + 1)
        .count();
    meta.runs.drain(..settled);
}

/// An outbox kept in memory, as a native client keeps it (the native test phone, the model test): the same rows,
/// numbering and settling as the browser's, over a map instead of IndexedDB.
#[derive(Debug, Clone)]
pub struct InMemory<T> {
    rows: BTreeMap<u64, Stored<T>>,
}

/// A write in an `InMemory` outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored<T> {
    pub write: T,
    /// Its stored value no longer reads back (as a faulty build could leave it).
    pub damaged: bool,
}

impl<T> Default for InMemory<T> {
    fn default() -> Self {
        InMemory { rows: BTreeMap::new() }
    }
}

impl<T: Clone> InMemory<T> {
    /// Stores a write with the next row (`enqueue`); returns the row. The bookkeeping does not change.
    pub fn push(&mut self, meta: &SyncMeta, write: T) -> u64 {
        let row = enqueue(meta, self.last_row());
        self.rows.insert(row, Stored { write, damaged: false });
        row
    }

    fn last_row(&self) -> Option<u64> {
        self.rows.keys().next_back().copied()
    }

    /// The count the screens show (`waiting`).
    pub fn waiting(&self, meta: &SyncMeta) -> u64 {
        waiting(meta, self.last_row())
    }

    pub fn rows(&self) -> impl Iterator<Item = (u64, &Stored<T>)> {
        self.rows.iter().map(|(row, stored)| (*row, stored))
    }

    pub fn get_mut(&mut self, row: u64) -> Option<&mut Stored<T>> {
        self.rows.get_mut(&row)
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// The numbered writes the server has not settled, in `seq` order, at most `limit`, numbering as many new
    /// rows as that takes (`number`). Returns them with the damaged writes met on the way, set aside.
    pub fn head(&mut self, meta: &mut SyncMeta, limit: usize) -> (Vec<(u64, T)>, Vec<T>) {
        let mut head: Vec<(u64, T)> = self
            .rows
            .range(..=meta.numbered_row)
            .filter_map(|(row, stored)| Some((seq_of(meta, *row)?, stored.write.clone())))
            .filter(|(seq, _)| *seq > meta.acked_seq)
            .take(limit)
            .collect();
        let found: Vec<Found> = self
            .rows
            .range(meta.numbered_row + 1..)
            .take(limit - head.len())
            .map(|(row, stored)| match stored.damaged {
                true => Found::Damaged(*row),
                false => Found::Readable(*row),
            })
            .collect();
        let mut damaged = Vec::new();
        for found in &found {
            if let Found::Damaged(row) = found {
                damaged.extend(self.rows.remove(row).map(|stored| stored.write));
            }
        }
        for (row, seq) in number(meta, found) {
            head.extend(self.rows.get(&row).map(|stored| (seq, stored.write.clone())));
        }
        (head, damaged)
    }

    /// Carries out `settled` (`fate`): returns the writes that left the outbox, each with its number and fate.
    pub fn settle(&mut self, meta: &mut SyncMeta, settled: &Settled) -> Vec<(u64, T, Fate)> {
        let numbered: Vec<(u64, u64)> = self
            .rows
            .keys()
            .filter_map(|row| Some((*row, seq_of(meta, *row)?)))
            .collect();
        let mut left = Vec::new();
        for (row, seq) in numbered {
            let fate = fate(seq, settled);
            if fate != Fate::Waits {
                if let Some(stored) = self.rows.remove(&row) {
                    leave(meta);
                    left.push((seq, stored.write, fate));
                }
            }
        }
        forget_settled(meta);
        left
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::CodeError;

    fn readable(rows: impl IntoIterator<Item = u64>) -> Vec<Found> {
        rows.into_iter().map(Found::Readable).collect()
    }

    #[test]
    fn rows_are_taken_at_write_time_and_numbers_only_when_numbered() {
        let mut meta = SyncMeta::default();
        let mut last = None;
        for expected in 1..=3 {
            let row = enqueue(&meta, last);
            assert_eq!(row, expected);
            last = Some(row);
        }
        assert_eq!(
            (waiting(&meta, last), meta.last_seq),
            (3, 0),
            "counted without writing the bookkeeping"
        );
        assert_eq!(number(&mut meta, readable([1, 2])), [(1, 1), (2, 2)]);
        assert_eq!((meta.numbered_row, meta.waiting, waiting(&meta, last)), (2, 2, 3));
        assert_eq!(seq_of(&meta, 2), Some(2));
        assert_eq!(seq_of(&meta, 3), None, "not numbered yet");
        assert_eq!(number(&mut meta, readable([3])), [(3, 3)]);
        assert_eq!(
            meta.runs,
            [Run { row: 1, seq: 1 }],
            "one run while rows and numbers go up together"
        );
    }

    #[test]
    fn a_write_after_the_outbox_emptied_takes_a_new_row() {
        let mut meta = SyncMeta::default();
        number(&mut meta, readable([1, 2]));
        meta.acked_seq = 2;
        leave(&mut meta);
        leave(&mut meta);
        forget_settled(&mut meta);
        // Both rows left the outbox: the last one stored is gone, the bookkeeping still knows it.
        assert_eq!(enqueue(&meta, None), 3);
        assert_eq!(waiting(&meta, None), 0);
        assert_eq!(waiting(&meta, Some(3)), 1);
    }

    #[test]
    fn a_damaged_row_takes_no_number_and_stops_waiting() {
        let mut meta = SyncMeta::default();
        let last = Some(3);
        let numbered = number(&mut meta, [Found::Readable(1), Found::Damaged(2), Found::Readable(3)]);
        assert_eq!(numbered, [(1, 1), (3, 2)], "the numbers stay contiguous, no skip");
        assert_eq!((waiting(&meta, last), meta.numbered_row, meta.last_seq), (2, 3, 2));
        assert_eq!(meta.runs, [Run { row: 1, seq: 1 }, Run { row: 3, seq: 2 }]);
        assert_eq!((seq_of(&meta, 1), seq_of(&meta, 3)), (Some(1), Some(2)));
        meta.acked_seq = 1;
        forget_settled(&mut meta);
        assert_eq!(meta.runs, [Run { row: 3, seq: 2 }], "the first run has left");
    }

    #[test]
    fn rows_counted_by_an_older_build_are_not_counted_twice() {
        // An older build counted each write as it was stored (and numbered them all at once).
        let mut meta = SyncMeta {
            next_row: 2,
            waiting: 2,
            ..SyncMeta::default()
        };
        assert_eq!(waiting(&meta, Some(3)), 3, "row 3 was stored by this build");
        number(&mut meta, [Found::Damaged(1), Found::Readable(2), Found::Readable(3)]);
        assert_eq!(waiting(&meta, Some(3)), 2);
        let mut moved = SyncMeta::default();
        assert_eq!(enqueue_counted(&mut moved, Some(4)), 5);
        assert_eq!((moved.waiting, moved.next_row), (5, 5));
        assert_eq!(take_row(&mut moved, Some(5)), 6);
        assert_eq!((moved.waiting, moved.next_row), (5, 6), "a row set aside does not wait");
        assert_eq!(enqueue(&moved, Some(5)), 7);
    }

    #[test]
    fn the_head_numbers_only_what_one_push_takes() {
        let mut meta = SyncMeta::default();
        let mut outbox = InMemory::default();
        for write in 0..5 {
            outbox.push(&meta, write);
        }
        let (head, damaged) = outbox.head(&mut meta, 2);
        assert_eq!((head, damaged), (vec![(1, 0), (2, 1)], vec![]));
        assert_eq!(meta.numbered_row, 2);
        assert_eq!(outbox.waiting(&meta), 5);
        let settled = Settled {
            drop_through: 1,
            rejected: Vec::new(),
        };
        meta.acked_seq = 1;
        assert_eq!(outbox.settle(&mut meta, &settled), [(1, 0, Fate::Done)]);
        let (head, _) = outbox.head(&mut meta, 3);
        assert_eq!(
            head,
            [(2, 1), (3, 2), (4, 3)],
            "the waiting numbered row first, then new ones"
        );
        assert_eq!(outbox.waiting(&meta), 4);
    }

    #[test]
    fn settled_writes_leave_refused_ones_with_their_reason() {
        let settled = Settled {
            drop_through: 5,
            rejected: vec![(4, Rejection::Forbidden)],
        };
        assert_eq!(fate(3, &settled), Fate::Done);
        assert_eq!(fate(4, &settled), Fate::Refused(Rejection::Forbidden));
        assert_eq!(fate(6, &settled), Fate::Waits);
    }

    #[test]
    fn a_push_of_check_ins_settles_from_its_head_and_anything_else_reads_the_rows() {
        let numbered = || {
            let mut meta = SyncMeta::default();
            number(&mut meta, readable(1..=4));
            meta
        };
        let front = |kinds: [bool; 3]| -> Vec<Read> {
            (1..=3)
                .zip(kinds)
                .map(|(n, check_in)| Read {
                    seq: n,
                    row: n,
                    check_in,
                })
                .collect()
        };
        let acked = |through| Settled {
            drop_through: through,
            rejected: Vec::new(),
        };
        // Two of three check-ins applied: they count as synced, the third waits, as `fate` says.
        let mut meta = numbered();
        assert!(settle_front(&mut meta, &front([true; 3]), &acked(2)));
        assert_eq!((meta.synced_row, meta.waiting), (2, 2));
        assert_eq!((fate(2, &acked(2)), fate(3, &acked(2))), (Fate::Done, Fate::Waits));
        // Nothing settled: nothing changes.
        let mut meta = numbered();
        assert!(settle_front(&mut meta, &front([true; 3]), &acked(0)));
        assert_eq!((meta.synced_row, meta.waiting), (0, 4));
        // A refusal, or a settled write that is not a check-in, needs the rows.
        let refused = Settled {
            drop_through: 2,
            rejected: vec![(2, Rejection::Code(CodeError::Expired))],
        };
        let mut meta = numbered();
        assert!(!settle_front(&mut meta, &front([true; 3]), &refused));
        assert_eq!(meta, numbered(), "left as it was");
        assert!(!settle_front(&mut numbered(), &front([true, false, true]), &acked(2)));
        let mut meta = numbered();
        assert!(
            settle_front(&mut meta, &front([true, true, false]), &acked(2)),
            "a write after the settled ones is not looked at"
        );
        assert_eq!(meta.synced_row, 2);
        // An answer past the front settles row 4, which the head did not read: it must be read.
        assert!(!settle_front(&mut numbered(), &front([true; 3]), &acked(4)));
        let mut meta = numbered();
        assert!(settle_front(&mut meta, &front([true; 3]), &acked(3)));
        assert_eq!(meta.waiting, 1);
        // With nothing numbered after the front, an answer past it settles the front alone.
        let mut meta = SyncMeta::default();
        number(&mut meta, readable(1..=3));
        assert!(settle_front(&mut meta, &front([true; 3]), &acked(9)));
        assert_eq!((meta.synced_row, meta.waiting), (3, 0));
    }
}
