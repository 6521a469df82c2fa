#!/usr/bin/php
<?php
/* The PHP stack of the chaos soak (tests/soak/run-soak): a worker as a
 * Laravel application does it (one PDO for life, exceptions, native
 * prepares, a statement prepared each time it runs, transactions with
 * beginTransaction/commit/rollBack, every warning an exception), run for a
 * fixed time while a killer KILLs sleeping connections. The same workload
 * and output protocol as soak_worker.c and soak_worker.py (see there).
 * mysqlnd has no auto-reconnect, so there is no --mode reconnect here.
 *
 * usage: soak_worker.php --mode shim|none --worker N
 *          --transport socket|tcp --seconds D --idle-ms I --txn-idle-ms T
 *          [--seed S]
 * stdout, one flushed line per event: `ack T|I <seq>`, `read <seq>`,
 * `tolerated <code>`, `error in|out <code> <msg>`, `rollback-failed <code>`,
 * `done <seq>`. Exit 0 when the time is up (errors are the data), 1 if it
 * never connected, 2 on a usage error.
 */
declare(strict_types=1);

require __DIR__ . '/../clients/php/common.php';

const PROG = 'soak_worker.php';
const STACK = 'php';
const LOST = [2006, 2013, 2055, 1927, 4031, 1053, 2002, 2003];

function usage_error(string $message): never
{
    fwrite(STDERR, PROG . ": $message\n");
    exit(2);
}

/* Digits only: (int) and is_numeric() would also take blanks and signs. */
function number(string $what, string $text, int $low, int $high): int
{
    if (!preg_match('/^[0-9]{1,12}$/D', $text) || (int)$text < $low || (int)$text > $high)
        usage_error("bad value for $what: '$text' (an integer from $low to $high)");
    return (int)$text;
}

function parse_args(array $argv): array
{
    $spec = [
        'mode' => ['shim', 'reconnect', 'none'],
        'worker' => [0, 2147483647],
        'transport' => ['socket', 'tcp'],
        'seconds' => [1, 1000000],
        'idle-ms' => [0, 3600000],
        'txn-idle-ms' => [0, 3600000],
        'seed' => [0, 4294967295],
    ];
    $got = [];
    for ($i = 0; $i < count($argv); $i += 2) {
        $name = $argv[$i];
        $key = str_starts_with($name, '--') ? substr($name, 2) : '';
        if (!isset($spec[$key]))
            usage_error("unknown option '$name'");
        if (!isset($argv[$i + 1]))
            usage_error("$name needs a value");
        $value = $argv[$i + 1];
        if (is_string($spec[$key][0])) {
            if (!in_array($value, $spec[$key], true))
                usage_error("bad value for $name: '$value' (" . implode(', ', array_slice($spec[$key], 0, -1)) .
                    ' or ' . end($spec[$key]) . ')');
            $got[$key] = $value;
        } else {
            $got[$key] = number($name, $value, ...$spec[$key]);
        }
    }
    foreach (['mode', 'worker', 'transport', 'seconds', 'idle-ms', 'txn-idle-ms'] as $key)
        if (!isset($got[$key]))
            usage_error("missing --$key");
    return $got;
}

/* Flushed at once: the driver reads the file even after killing us. */
function emit(string $line): void
{
    fwrite(STDOUT, $line . "\n");
    fflush(STDOUT);
}

/* [code, message on one line] of a failed database call. A warning turned
 * into an ErrorException ("Send of N bytes failed", "Error while sending
 * QUERY packet") is mysqlnd finding the connection gone: 2006. */
function failure(Throwable $e): array
{
    if ($e instanceof PDOException) {
        $info = $e->errorInfo;
        if (is_array($info) && is_int($info[1] ?? null))
            return [$info[1], str_replace(["\r", "\n"], ' ', (string)($info[2] ?? $e->getMessage()))];
        return [is_int($e->getCode()) ? $e->getCode() : 0, str_replace(["\r", "\n"], ' ', $e->getMessage())];
    }
    return [2006, str_replace(["\r", "\n"], ' ', $e->getMessage())];
}

final class Worker
{
    private ?PDO $pdo = null;
    private float $deadline = 0.0;

    public function __construct(private string $mode, private int $id, private string $transport,
                                private int $seconds, private int $idle_ms, private int $txn_idle_ms)
    {
    }

    /* Uniform in [ms/2, 3ms/2]: pauses that drift against the killer's period. */
    private static function jittered(int $ms): int
    {
        return mt_rand(intdiv($ms, 2), $ms + intdiv($ms, 2));
    }

    private static function now(): float
    {
        return hrtime(true) / 1e9;
    }

    private function connect_once(): ?PDO
    {
        try {
            return pdo_connect($this->transport, [PDO::ATTR_EMULATE_PREPARES => false]);
        } catch (PDOException | ErrorException $e) {
            [$code, $message] = failure($e);
            emit("error out $code $message");
            return null;
        }
    }

    /* Every 100 ms until connected or the time is up. */
    private function connect_until_deadline(): ?PDO
    {
        for (;;) {
            $pdo = $this->connect_once();
            if ($pdo !== null || self::now() >= $this->deadline)
                return $pdo;
            usleep(100000);
        }
    }

    /* Mode none only: what a supervisor restarting a crashed worker
     * amounts to. In mode shim the worker keeps its one PDO for life: that
     * is what the soak measures. */
    private function recover(): void
    {
        if ($this->mode !== 'none')
            return;
        try {
            /* PDO's destructor rolls back a transaction it still thinks
             * open, on the dead connection: a warning, so an exception. */
            $this->pdo = null;
        } catch (PDOException | ErrorException) {
            $this->pdo = null;
        }
        $this->pdo = $this->connect_until_deadline();
    }

    /* As Laravel runs a statement: prepared each time, values bound with
     * their types. */
    private function statement(string $sql, array $values, bool $fetch = false): array
    {
        $st = $this->pdo->prepare($sql);
        foreach ($values as $i => $value)
            $st->bindValue($i + 1, $value, is_int($value) ? PDO::PARAM_INT : PDO::PARAM_STR);
        $st->execute();
        return $fetch ? $st->fetchAll(PDO::FETCH_NUM) : [];
    }

    private function insert(string $kind, int $seq, int $part): void
    {
        $this->statement('INSERT INTO soak_rows (mode, stack, worker, kind, seq, part) VALUES (?, ?, ?, ?, ?, ?)',
            [$this->mode, STACK, $this->id, $kind, $seq, $part]);
    }

    private function transaction_job(int $seq): void
    {
        try {
            $this->pdo->beginTransaction();
            $this->insert('T', $seq, 1);
            /* Idle inside the transaction, for T/2 to 3T/2: where the killer
             * often strikes, but not always. */
            usleep(self::jittered($this->txn_idle_ms) * 1000);
            try {
                /* A best-effort lookup: the application carries on without it. */
                $this->statement('SELECT COUNT(*) FROM soak_rows WHERE mode=? AND stack=? AND worker=? AND seq=?',
                    [$this->mode, STACK, $this->id, $seq], true);
            } catch (PDOException | ErrorException $e) {
                emit('tolerated ' . failure($e)[0]);
            }
            $this->insert('T', $seq, 2);
            $this->pdo->commit();
        } catch (PDOException | ErrorException $e) {
            [$code, $message] = failure($e);
            emit("error in $code $message");
            $lost = in_array($code, LOST, true);
            try {
                if ($this->pdo->inTransaction())
                    $this->pdo->rollBack();
            } catch (PDOException | ErrorException $e) {
                $rollback_code = failure($e)[0];
                emit("rollback-failed $rollback_code");
                $lost = $lost || in_array($rollback_code, LOST, true);
            }
            if ($lost)
                $this->recover();
            return;
        }
        emit("ack T $seq");
    }

    private function failed_outside_transaction(Throwable $e): void
    {
        [$code, $message] = failure($e);
        emit("error out $code $message");
        if (in_array($code, LOST, true))
            $this->recover();
    }

    private function insert_job(int $seq): void
    {
        try {
            $this->insert('I', $seq, 0);
        } catch (PDOException | ErrorException $e) {
            $this->failed_outside_transaction($e);
            return;
        }
        emit("ack I $seq");
    }

    private function read_job(int $seq): void
    {
        try {
            $rows = $this->statement("SELECT COUNT(*) FROM soak_rows WHERE mode=? AND stack=? AND worker=? AND kind='I'",
                [$this->mode, STACK, $this->id], true);
        } catch (PDOException | ErrorException $e) {
            $this->failed_outside_transaction($e);
            return;
        }
        /* Native prepares return an int; a string of digits is as good. */
        $value = $rows[0][0] ?? null;
        if (count($rows) !== 1 || !(is_int($value) ? $value >= 0 : is_string($value) && preg_match('/^[0-9]+$/D', $value))) {
            emit('error out 0 bad read result');
            return;
        }
        emit("read $seq");
    }

    public function run(): int
    {
        $this->deadline = self::now() + $this->seconds;
        $this->pdo = $this->connect_until_deadline();
        if ($this->pdo === null) {
            fwrite(STDERR, PROG . ": never connected in {$this->seconds} s\n");
            return 1;
        }
        $seq = 0;
        while ($this->pdo !== null) {
            $pause = self::jittered($this->idle_ms);
            /* Never sleep past the end: the driver waits for `done`. */
            $left = $this->deadline - self::now();
            if ($left > 0)
                usleep(min($pause, (int)($left * 1000) + 1) * 1000);
            if (self::now() >= $this->deadline)
                break;
            $seq++;
            match ($seq % 3) {
                1 => $this->transaction_job($seq),
                2 => $this->insert_job($seq),
                0 => $this->read_job($seq),
            };
        }
        emit("done $seq");
        return 0;
    }
}

$o = parse_args(array_slice($argv, 1));
if ($o['mode'] === 'reconnect')
    usage_error('mode reconnect: mysqlnd has no auto-reconnect');
/* The settings first: a missing one is a usage error, not a connect failure. */
if ($o['transport'] === 'tcp') {
    env('GONESHIM_TEST_HOST');
    number('GONESHIM_TEST_PORT', env('GONESHIM_TEST_PORT'), 1, 65535);
}
pdo_dsn($o['transport']);
env('GONESHIM_TEST_USER');
env('GONESHIM_TEST_PASSWORD');
mt_srand($o['seed'] ?? getmypid());
$worker = new Worker($o['mode'], $o['worker'], $o['transport'], $o['seconds'], $o['idle-ms'], $o['txn-idle-ms']);
exit($worker->run());
