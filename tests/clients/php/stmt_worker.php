#!/usr/bin/php
<?php
/* Prepares its statements once and executes them in a loop for its whole
 * life, idle between jobs: PDO with native prepares
 * (ATTR_EMULATE_PREPARES => false) or mysqli_stmt (bind_param and
 * bind_result once, then execute and fetch in the loop).
 * --api pdo|mysqli --transport socket|tcp --iterations N --idle-ms M --tag T
 * Prints `acked=K errors=E iterations=N`; exit 0 iff E == 0. */
require __DIR__ . '/common.php';

$o = options(['api' => 'pdo', 'transport' => 'socket', 'iterations' => '8', 'idle-ms' => '400', 'tag' => 'stmt']);
$tag = $o['tag'];

if ($o['api'] === 'mysqli') {
    $db = mysqli_connect_to($o['transport']);
    $insert = $db->prepare('INSERT INTO worker_log (tag, n) VALUES (?, ?)');
    $select = $db->prepare('SELECT n * 2, tag FROM worker_log WHERE tag = ? AND n = ?');
    $n = 0;
    $insert->bind_param('si', $tag, $n);
    $select->bind_param('si', $tag, $n);
    $select->bind_result($doubled, $got_tag);
    $job = function (int $job) use (&$n, $insert, $select, &$doubled, &$got_tag, $tag) {
        $n = $job;
        $insert->execute();
        $select->execute();
        $select->store_result();
        if (!$select->fetch())
            throw new RuntimeException("row $job not found");
        /* No free_result(): in PHP it also drops the bind_result variables. */
        if ($doubled !== 2 * $job || $got_tag !== $tag)
            throw new RuntimeException("WRONG RESULT for $job: $doubled '$got_tag'");
    };
} else {
    $pdo = pdo_connect($o['transport'], [PDO::ATTR_EMULATE_PREPARES => false]);
    $insert = $pdo->prepare('INSERT INTO worker_log (tag, n) VALUES (?, ?)');
    $select = $pdo->prepare('SELECT n * 2, tag FROM worker_log WHERE tag = ? AND n = ?');
    $job = function (int $job) use ($insert, $select, $tag) {
        $insert->execute([$tag, $job]);
        $select->execute([$tag, $job]);
        $row = $select->fetch(PDO::FETCH_NUM);
        $select->closeCursor();
        if ($row === false || (int)$row[0] !== 2 * $job || $row[1] !== $tag)
            throw new RuntimeException("WRONG RESULT for $job: " . json_encode($row));
    };
}
run_jobs($o, $job);
