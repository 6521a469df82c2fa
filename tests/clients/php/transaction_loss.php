#!/usr/bin/php
<?php
/* The connection dies inside a transaction (killed between two of its
 * statements). The contract: the next statement fails with 2006, so does
 * every one after it until the rollback, the commit fails, the rollback
 * succeeds, nothing of the transaction persisted, the next transaction
 * works. PDO's inTransaction() stays true until the rollback.
 * --api pdo|pdo-native|mysqli  --mode explicit|autocommit-off  --tag T
 * Prints one line per step and `result=ok` or `result=FAILED`; exit 0 iff
 * every step went as the contract says. The caller checks the table. */
require __DIR__ . '/common.php';

$o = options(['api' => 'pdo', 'mode' => 'explicit', 'tag' => 'txn', 'transport' => 'socket']);
$tag = $o['tag'];
$failed = false;

function step(string $name, callable $f, ?int $expect_error): void
{
    global $failed;
    try {
        $f();
        $got = null;
    } catch (PDOException $e) {
        $got = (int)($e->errorInfo[1] ?? 0);
    } catch (mysqli_sql_exception $e) {
        $got = $e->getCode();
    } catch (Throwable $e) {
        $got = -1;
        echo "$name: unexpected " . get_class($e) . ': ' . $e->getMessage() . "\n";
    }
    $ok = $got === $expect_error;
    $failed = $failed || !$ok;
    printf("%s: %s (expected %s)%s\n", $name, $got === null ? 'ok' : "error $got",
        $expect_error === null ? 'ok' : "error $expect_error", $ok ? '' : ' MISMATCH');
}

if ($o['api'] === 'mysqli') {
    $db = mysqli_connect_to($o['transport']);
    $id = fn () => (int)$db->query('SELECT CONNECTION_ID()')->fetch_row()[0];
    $exec = fn (string $sql) => $db->query($sql);
    $begin = $o['mode'] === 'explicit' ? fn () => $db->begin_transaction() : fn () => $db->autocommit(false);
    $commit = fn () => $db->commit();
    $rollback = fn () => $db->rollback();
    $in_transaction = null;
} else {
    $pdo = pdo_connect($o['transport'], [PDO::ATTR_EMULATE_PREPARES => $o['api'] !== 'pdo-native']);
    $id = fn () => (int)$pdo->query('SELECT CONNECTION_ID()')->fetchColumn();
    $exec = function (string $sql) use ($pdo) {
        $s = $pdo->prepare($sql);
        $s->execute();
    };
    if ($o['mode'] === 'explicit') {
        $begin = fn () => $pdo->beginTransaction();
        $commit = fn () => $pdo->commit();
        $rollback = fn () => $pdo->rollBack();
    } else {
        $begin = fn () => $pdo->setAttribute(PDO::ATTR_AUTOCOMMIT, false);
        $commit = fn () => $pdo->exec('COMMIT');
        $rollback = fn () => $pdo->exec('ROLLBACK');
    }
    $in_transaction = fn () => $pdo->inTransaction();
}

step('begin', $begin, null);
step('insert 1', fn () => $exec("INSERT INTO worker_log (tag, n) VALUES ('$tag', 1)"), null);
kill_connection($id());
step('insert 2', fn () => $exec("INSERT INTO worker_log (tag, n) VALUES ('$tag', 2)"), 2006);
step('select', fn () => $exec('SELECT 1'), 2006);
if ($in_transaction && $o['mode'] === 'explicit')
    step('inTransaction() is still true', fn () => $in_transaction() or throw new Exception('false'), null);
step('commit', $commit, 2006);
step('rollback', $rollback, null);
if ($in_transaction && $o['mode'] === 'explicit')
    step('inTransaction() is false', fn () => !$in_transaction() or throw new Exception('true'), null);
if ($o['mode'] === 'explicit')
    step('begin again', $begin, null);
step('insert 3', fn () => $exec("INSERT INTO worker_log (tag, n) VALUES ('$tag', 3)"), null);
step('commit again', $commit, null);
echo 'result=' . ($failed ? 'FAILED' : 'ok') . "\n";
exit($failed ? 1 : 0);
