#!/usr/bin/php
<?php
/* The field's transaction (the Laravel ticket service of the reports):
 * begin; SELECT ... FOR UPDATE a ticket; update it; log it; idle while the
 * cron KILLs the sleeping connection; update it again; commit.
 *
 * --api pdo|pdo-native|mysqli|mysqli-stmt
 * --twist none|changed|now|insert-id|big|kill-commit
 *   changed:     another connection changes the ticket after the KILL
 *   now:         the transaction read NOW(6) before it was killed
 *   insert-id:   the log row's id is read and used in a second insert
 *   big:         a statement larger than GONESHIM_REPLAY_MAX (the caller sets it)
 *   kill-commit: the connection is killed while COMMIT is in flight
 * --ticket N     the ticket's id (the caller creates tickets and ticket_log)
 *
 * Prints one line per step ("update 2: ok" or "update 2: error 2006") and,
 * when an error came, rolls back. Exit 0 when the script ran to the end,
 * whatever the outcome: the caller compares the steps and the tables. */
require __DIR__ . '/common.php';

$o = options(['api' => 'pdo', 'twist' => 'none', 'ticket' => '1', 'transport' => 'socket']);
$ticket = (int)$o['ticket'];
$twist = $o['twist'];

if (str_starts_with($o['api'], 'mysqli')) {
    $db = mysqli_connect_to($o['transport']);
    if ($o['api'] === 'mysqli-stmt') {
        /* Prepared statements (mysqli_stmt), parameters bound. */
        $run = function (string $sql, array $params = []) use ($db): array {
            $s = $db->prepare($sql);
            $s->execute($params);
            $r = $s->get_result();
            return $r instanceof mysqli_result ? $r->fetch_all(MYSQLI_NUM) : [];
        };
    } else {
        /* The text protocol: what an application writes with query(). */
        $run = function (string $sql, array $params = []) use ($db): array {
            foreach ($params as $p)
                $sql = preg_replace('/\?/', is_int($p) ? (string)$p : "'" . $db->real_escape_string($p) . "'", $sql, 1);
            $r = $db->query($sql);
            return $r instanceof mysqli_result ? $r->fetch_all(MYSQLI_NUM) : [];
        };
    }
    $begin = fn () => $db->begin_transaction();
    $commit = fn () => $db->commit();
    $rollback = fn () => $db->rollback();
    $last_id = fn () => (int)$db->insert_id;
    $id = (int)$db->query('SELECT CONNECTION_ID()')->fetch_row()[0];
} else {
    /* Laravel's way: prepare, execute with bound values, fetch all. */
    $pdo = pdo_connect($o['transport'], [PDO::ATTR_EMULATE_PREPARES => $o['api'] !== 'pdo-native']);
    $run = function (string $sql, array $params = []) use ($pdo): array {
        $s = $pdo->prepare($sql);
        $s->execute($params);
        return $s->columnCount() > 0 ? $s->fetchAll(PDO::FETCH_NUM) : [];
    };
    $begin = fn () => $pdo->beginTransaction();
    $commit = fn () => $pdo->commit();
    $rollback = fn () => $pdo->rollBack();
    $last_id = fn () => (int)$pdo->lastInsertId();
    $id = (int)$pdo->query('SELECT CONNECTION_ID()')->fetchColumn();
}

$failed_at = null;
function step(string $name, callable $f): mixed
{
    global $failed_at;
    if ($failed_at !== null)
        return null;
    try {
        $v = $f();
        echo "$name: ok\n";
        return $v;
    } catch (PDOException $e) {
        $code = (int)($e->errorInfo[1] ?? 0);
    } catch (mysqli_sql_exception $e) {
        $code = $e->getCode();
    }
    echo "$name: error $code\n";
    $failed_at = $name;
    return null;
}

step('begin', $begin);
$row = step('select for update', fn () => $run('SELECT id, status, version FROM tickets WHERE id = ? FOR UPDATE', [$ticket]));
step('update 1', fn () => $run('UPDATE tickets SET status = ?, version = version + 1 WHERE id = ?', ['taken', $ticket]));
step('log', fn () => $run('INSERT INTO ticket_log (ticket_id, note) VALUES (?, ?)', [$ticket, 'taken']));
if ($twist === 'insert-id') {
    $log_id = $last_id();
    echo "log id: $log_id\n";
    step('log child', fn () => $run('INSERT INTO ticket_log (ticket_id, note, parent_id) VALUES (?, ?, ?)', [$ticket, 'child', $log_id]));
}
if ($twist === 'now') {
    $now = step('read now', fn () => $run('SELECT NOW(6)'));
    usleep(20000); /* so that a replay reads another microsecond */
}
if ($twist === 'big')
    step('big', fn () => $run("UPDATE tickets SET note = '" . str_repeat('x', 8000) . "' WHERE id = $ticket"));

if ($twist === 'kill-commit') {
    /* COMMIT in flight: another session holds a lock the commit path does
     * not need, so the kill must land between send and answer: a trigger
     * would be needed for that; instead the KILL lands just after the
     * send, by a helper that waits for the commit to be running. */
    step('update 2', fn () => $run('UPDATE tickets SET status = ? WHERE id = ?', ['done', $ticket]));
    step('commit', function () use ($commit, $id) {
        $pid = pcntl_fork();
        if ($pid === 0) {
            usleep(2000);
            kill_connection($id);
            exit(0);
        }
        try {
            $commit();
        } finally {
            pcntl_waitpid($pid, $status);
        }
    });
} else {
    kill_connection($id);
    if ($twist === 'changed') {
        $other = pdo_connect($o['transport']);
        $other->exec("UPDATE tickets SET version = version + 10 WHERE id = $ticket");
    }
    step('update 2', fn () => $run('UPDATE tickets SET status = ? WHERE id = ?', ['done', $ticket]));
    step('commit', $commit);
}
if ($failed_at !== null) {
    try {
        $rollback();
        echo "rollback: ok\n";
    } catch (Throwable $t) {
        echo "rollback: error " . $t->getCode() . "\n";
    }
    /* The next transaction works. */
    try {
        $begin();
        $run("INSERT INTO ticket_log (ticket_id, note) VALUES ($ticket, 'after')");
        $commit();
        echo "next transaction: ok\n";
    } catch (Throwable $t) {
        echo "next transaction: error " . $t->getCode() . "\n";
    }
}
echo 'outcome=' . ($failed_at === null ? 'committed' : "failed-at:$failed_at") . "\n";
