#!/usr/bin/php
<?php
/* Sets up a session (database chosen after connecting, character set,
 * autocommit off, SET SESSION variables), has its idle connection killed,
 * and checks that the next statement runs on a fresh connection with all
 * of it restored, without a warning.
 * --api pdo|mysqli --transport socket|tcp
 * Prints `reconnected=0|1` and `result=ok|FAILED`; exit 0 iff all held. */
require __DIR__ . '/common.php';

$o = options(['api' => 'mysqli', 'transport' => 'socket']);
$want = [
    'db' => env('GONESHIM_TEST_DB'),
    'charset' => 'latin1',
    'autocommit' => '0',
    'sql_mode' => 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION',
    'wait_timeout' => '123',
];
$check = 'SELECT DATABASE(), @@character_set_client, @@autocommit, @@sql_mode, @@wait_timeout, CONNECTION_ID()';

if ($o['api'] === 'mysqli') {
    $db = mysqli_connect_to($o['transport'], '');
    $db->select_db($want['db']);
    $db->set_charset($want['charset']);
    $db->autocommit(false);
    $db->query("SET SESSION sql_mode = '{$want['sql_mode']}', SESSION wait_timeout = {$want['wait_timeout']}");
    $read = fn () => $db->query($check)->fetch_row();
    $client_charset = fn () => $db->character_set_name();
} else {
    $pdo = new PDO(str_replace(';dbname=' . env('GONESHIM_TEST_DB'), '', pdo_dsn($o['transport'])),
        env('GONESHIM_TEST_USER'), env('GONESHIM_TEST_PASSWORD'), [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
    $pdo->exec('USE `' . $want['db'] . '`');
    $pdo->exec("SET NAMES {$want['charset']}");
    $pdo->setAttribute(PDO::ATTR_AUTOCOMMIT, false);
    $pdo->exec("SET SESSION sql_mode = '{$want['sql_mode']}'");
    $pdo->exec("SET @@SESSION.wait_timeout = {$want['wait_timeout']}");
    $read = fn () => $pdo->query($check)->fetch(PDO::FETCH_NUM);
    $client_charset = null;
}

$before = $read();
/* Autocommit off: the read opened no transaction (no table touched), so
 * the connection is idle outside one. */
kill_connection((int)$before[5]);
$after = $read();
$failed = false;
foreach (array_keys($want) as $i => $name) {
    $ok = (string)$after[$i] === $want[$name];
    $failed = $failed || !$ok;
    printf("%s: %s (expected %s)%s\n", $name, $after[$i], $want[$name], $ok ? '' : ' MISMATCH');
}
if ($client_charset) {
    $ok = $client_charset() === $want['charset'];
    $failed = $failed || !$ok;
    printf("client character set: %s%s\n", $client_charset(), $ok ? '' : ' MISMATCH');
}
echo 'reconnected=' . ((int)$after[5] !== (int)$before[5] ? 1 : 0) . "\n";
echo 'result=' . ($failed ? 'FAILED' : 'ok') . "\n";
exit($failed ? 1 : 0);
