#!/usr/bin/php
<?php
/* The tester's loop, point 13 of the trust issue: learn the connection id,
 * KILL it from another connection, give the server time to close it, then
 * prepare a new statement and execute it with native prepares (PDO, as
 * Laravel does). Prints "ok=N failed=M" and the first failures. */
require __DIR__ . '/common.php';
$o = options(['transport' => 'socket', 'rounds' => '40', 'pause-ms' => '150']);
$pdo = pdo_connect($o['transport'], [PDO::ATTR_EMULATE_PREPARES => false]);
$admin = new PDO(pdo_dsn('socket'), env('GONESHIM_TEST_ADMIN_USER'), env('GONESHIM_TEST_ADMIN_PASSWORD'),
    [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
$ok = 0;
$failed = [];
for ($i = 0; $i < (int)$o['rounds']; $i++) {
    try {
        $id = (int)$pdo->query('SELECT CONNECTION_ID()')->fetchColumn();
        $admin->exec("KILL $id");
        usleep((int)$o['pause-ms'] * 1000);
        $stmt = $pdo->prepare('SELECT ?, DATABASE()');
        $stmt->execute([$i]);
        $row = $stmt->fetch(PDO::FETCH_NUM);
        if ((int)$row[0] !== $i || $row[1] !== env('GONESHIM_TEST_DB'))
            throw new RuntimeException('wrong row: ' . json_encode($row));
        $ok++;
    } catch (Throwable $e) {
        $failed[] = "round $i: " . get_class($e) . ': ' . $e->getMessage();
    }
}
printf("ok=%d failed=%d\n", $ok, count($failed));
foreach (array_slice($failed, 0, 5) as $f)
    echo "  $f\n";
exit(count($failed) === 0 ? 0 : 1);
