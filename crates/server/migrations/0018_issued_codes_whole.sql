-- The check-in codes this server signed, now kept whole under their signature (0017 kept the SHA-256 of their
-- payload): a big push names each by its signature alone (`Op::CheckInIssued`), and a code pushed whole is
-- taken unchecked when it is the one kept under its signature (keys.rs `Issued`). The digests kept before
-- cannot give their codes back: those codes are checked by their signature, as any code missing here, and a
-- push naming one is asked to send it whole.
DROP TABLE issued_codes;
CREATE TABLE issued_codes (signature BLOB PRIMARY KEY NOT NULL, payload TEXT NOT NULL) WITHOUT ROWID;
