-- The chaos soak's table (tests/soak/run-soak creates it afresh each run).
-- No unique key on (mode, stack, worker, kind, seq, part) on purpose: a
-- statement executed twice must show up as two rows, not as a key error.
DROP TABLE IF EXISTS soak_rows;
CREATE TABLE soak_rows (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    mode VARCHAR(16) NOT NULL,   -- shim | reconnect | none
    stack VARCHAR(8) NOT NULL,   -- c | python | php
    worker INT NOT NULL,
    kind CHAR(1) NOT NULL,       -- T: part of a two-row transaction; I: autocommit insert
    seq INT NOT NULL,            -- the worker's job number
    part TINYINT NOT NULL,       -- 1 or 2 for T, 0 for I
    KEY job (mode, stack, worker, seq)
) ENGINE=InnoDB;
