--TEST--
goneshim compat probe (not an upstream test): is goneshim loaded here, and what does a killed idle connection do?
--EXTENSIONS--
mysqli
pdo_mysql
--FILE--
<?php
/* Written by tests/compat/run-compat, which runs this file through the same
   run-tests.php invocation as the suite and reads $COMPAT_PROBE_OUT. */
$maps = (string)@file_get_contents('/proc/self/maps');
$lines = "loaded=" . (strpos($maps, 'libgoneshim') !== false ? 'yes' : 'no') . "\n";
$lines .= "client=" . mysqli_get_client_info() . " (PHP " . PHP_VERSION . ")\n";
mysqli_report(MYSQLI_REPORT_OFF);
$h = getenv('MYSQL_TEST_HOST'); $u = getenv('MYSQL_TEST_USER'); $p = getenv('MYSQL_TEST_PASSWD');
$d = getenv('MYSQL_TEST_DB'); $port = (int)getenv('MYSQL_TEST_PORT');
$admin = new mysqli($h, $u, $p, $d, $port);

$a = new mysqli($h, $u, $p, $d, $port);
$admin->query("KILL CONNECTION " . $a->thread_id);
usleep(300000);
$r = @$a->query("SELECT 1");
$lines .= "after_kill=" . ($r ? "ok" : "error " . $a->errno) . " (mysqli)\n";

$pdo = new PDO(getenv('PDO_MYSQL_TEST_DSN'), getenv('PDO_MYSQL_TEST_USER'), getenv('PDO_MYSQL_TEST_PASS'),
               [PDO::ATTR_ERRMODE => PDO::ERRMODE_SILENT]);
$id = $pdo->query("SELECT CONNECTION_ID()")->fetchColumn();
$admin->query("KILL CONNECTION " . (int)$id);
usleep(300000);
$r = @$pdo->query("SELECT 1");
$lines .= "after_kill=" . ($r ? "ok" : "error " . $pdo->errorInfo()[1]) . " (PDO)\n";
file_put_contents(getenv('COMPAT_PROBE_OUT'), $lines);
echo "done\n";
--EXPECT--
done
