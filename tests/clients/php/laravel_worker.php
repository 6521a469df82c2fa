#!/usr/bin/php
<?php
/* A Laravel-style queue worker (`php artisan queue:work`): one PDO for the
 * life of the process, exceptions, native prepares (Laravel sets
 * ATTR_EMULATE_PREPARES false), every job in a transaction, idle between
 * jobs. It never pings and never reconnects: that is goneshim's job.
 * Prints `acked=K errors=E iterations=N`; exit 0 iff E == 0. */
require __DIR__ . '/common.php';

$o = options(['transport' => 'socket', 'iterations' => '8', 'idle-ms' => '400', 'tag' => 'laravel']);
$pdo = pdo_connect($o['transport'], [PDO::ATTR_EMULATE_PREPARES => false], ';charset=utf8mb4');
$pdo->exec("SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ZERO_DATE'");

run_jobs($o, function (int $n) use ($pdo, $o) {
    $pdo->beginTransaction();
    try {
        $insert = $pdo->prepare('INSERT INTO worker_log (tag, n) VALUES (?, ?)');
        $insert->execute([$o['tag'], $n]);
        $check = $pdo->prepare('SELECT COUNT(*) FROM worker_log WHERE tag = ? AND n = ?');
        $check->execute([$o['tag'], $n]);
        if ((int)$check->fetchColumn() !== 1)
            throw new RuntimeException("row $n not visible inside its transaction");
        $pdo->commit();
    } catch (Throwable $t) {
        if ($pdo->inTransaction())
            $pdo->rollBack();
        throw $t;
    }
    $mode = $pdo->query('SELECT @@SESSION.sql_mode')->fetchColumn();
    if ($mode !== 'STRICT_TRANS_TABLES,NO_ZERO_DATE')
        throw new RuntimeException("sql_mode is '$mode' after job $n");
});
