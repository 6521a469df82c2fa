#!/usr/bin/php
<?php
/* A TLS connection (verified against the test server's CA) is killed while
 * idle: the fresh connection must be TLS too.
 * --api pdo|mysqli. Prints `before=<cipher> after=<cipher> reconnected=0|1`
 * and exits 0 iff both are TLS and a reconnect happened. */
require __DIR__ . '/common.php';

$o = options(['api' => 'pdo']);
/* SHOW STATUS: information_schema.session_status is MariaDB's only. */
$cipher = "SHOW SESSION STATUS LIKE 'Ssl_cipher'";
$id = "SELECT CONNECTION_ID()";
if ($o['api'] === 'mysqli') {
    mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
    $db = mysqli_init();
    $db->ssl_set(null, null, env('GONESHIM_TEST_TLS_CA'), null, null);
    $db->real_connect(env('GONESHIM_TEST_HOST'), env('GONESHIM_TEST_USER'), env('GONESHIM_TEST_PASSWORD'),
        env('GONESHIM_TEST_DB'), (int)env('GONESHIM_TEST_PORT'), null, MYSQLI_CLIENT_SSL);
    $read = fn () => [$db->query($cipher)->fetch_row()[1], $db->query($id)->fetch_row()[0]];
} else {
    $pdo = pdo_connect('tcp', [PDO::MYSQL_ATTR_SSL_CA => env('GONESHIM_TEST_TLS_CA')]);
    $read = fn () => [$pdo->query($cipher)->fetch(PDO::FETCH_NUM)[1], $pdo->query($id)->fetchColumn()];
}
$before = $read();
kill_connection((int)$before[1]);
$after = $read();
$reconnected = (int)$after[1] !== (int)$before[1];
printf("before=%s after=%s reconnected=%d\n", $before[0] ?: '(none)', $after[0] ?: '(none)', $reconnected);
exit($before[0] !== '' && $after[0] !== '' && $reconnected ? 0 : 1);
