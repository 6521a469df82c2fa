#!/usr/bin/php
<?php
/* A plain mysqli worker using every call of the issue between idle
 * periods: query, real_query, multi_query, begin_transaction, commit,
 * autocommit, select_db, set_charset, ping. mysqli reports errors as
 * exceptions (the default since PHP 8.1).
 * Prints `acked=K errors=E iterations=N`; exit 0 iff E == 0. */
require __DIR__ . '/common.php';

$o = options(['transport' => 'socket', 'iterations' => '8', 'idle-ms' => '400', 'tag' => 'mysqli']);
$db = mysqli_connect_to($o['transport']);
$db->set_charset('utf8mb4');
$tag = $db->real_escape_string($o['tag']);

run_jobs($o, function (int $n) use ($db, $tag) {
    switch ($n % 4) {
    case 0:
        $db->query("INSERT INTO worker_log (tag, n) VALUES ('$tag', $n)");
        break;
    case 1:
        $db->begin_transaction();
        $db->query("INSERT INTO worker_log (tag, n) VALUES ('$tag', $n)");
        $db->commit();
        break;
    case 2:
        $db->real_query("INSERT INTO worker_log (tag, n) VALUES ('$tag', $n)");
        $db->ping();
        break;
    case 3:
        $db->multi_query("INSERT INTO worker_log (tag, n) VALUES ('$tag', $n); SELECT 1");
        do {
            if ($r = $db->store_result())
                $r->free();
        } while ($db->more_results() && $db->next_result());
        break;
    }
    $db->select_db(env('GONESHIM_TEST_DB'));
    $charset = $db->query('SELECT @@character_set_client')->fetch_row()[0];
    if ($charset !== 'utf8mb4' || $db->character_set_name() !== 'utf8mb4')
        throw new RuntimeException("character set is $charset/{$db->character_set_name()} after job $n");
});
