#!/usr/bin/php
<?php
/* The Phalcon CLI worker of the field report: PDO with the default
 * (emulated) prepares, a short wait_timeout, and idle periods longer than
 * it between jobs, so the server itself closes the connection every time.
 * Prints `acked=K errors=E iterations=N`; exit 0 iff E == 0. */
require __DIR__ . '/common.php';

$o = options(['transport' => 'socket', 'iterations' => '3', 'idle-ms' => '1500', 'tag' => 'phalcon',
    'wait-timeout' => '1']);
$pdo = pdo_connect($o['transport']);
$pdo->exec('SET SESSION wait_timeout = ' . (int)$o['wait-timeout']);

run_jobs($o, function (int $n) use ($pdo, $o) {
    $insert = $pdo->prepare('INSERT INTO worker_log (tag, n) VALUES (:tag, :n)');
    $insert->execute([':tag' => $o['tag'], ':n' => $n]);
    $timeout = (int)$pdo->query('SELECT @@SESSION.wait_timeout')->fetchColumn();
    if ($timeout !== (int)$o['wait-timeout'])
        throw new RuntimeException("wait_timeout is $timeout after job $n");
});
