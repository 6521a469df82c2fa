#!/usr/bin/php
<?php
/* A forking worker (pcntl, like php-resque, or php-fpm's children): the
 * parent connects and runs jobs, forks children that connect and run jobs
 * of their own, waits for them, and runs more jobs on its own connection.
 * goneshim's per-process state must be right in each process.
 * Prints the summed `acked=K errors=E iterations=N`; exit 0 iff E == 0. */
require __DIR__ . '/common.php';

$o = options(['transport' => 'socket', 'iterations' => '4', 'idle-ms' => '400', 'tag' => 'fork', 'children' => '2']);
$iterations = (int)$o['iterations'];

function jobs(PDO $pdo, string $tag, int $from, int $count, int $idle_ms): array
{
    $acked = $errors = 0;
    for ($n = $from; $n < $from + $count; $n++) {
        usleep($idle_ms * 1000);
        try {
            $pdo->prepare('INSERT INTO worker_log (tag, n) VALUES (?, ?)')->execute([$tag, $n]);
            $acked++;
        } catch (Throwable $t) {
            $errors++;
            fwrite(STDERR, "$tag job $n: " . $t->getMessage() . "\n");
        }
    }
    return [$acked, $errors];
}

$pdo = pdo_connect($o['transport'], [PDO::ATTR_EMULATE_PREPARES => false]);
[$acked, $errors] = jobs($pdo, $o['tag'], 1, $iterations, (int)$o['idle-ms']);
$total = 2 * $iterations;

$pipes = [];
for ($c = 1; $c <= (int)$o['children']; $c++) {
    $pair = stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM, STREAM_IPPROTO_IP);
    $pid = pcntl_fork();
    if ($pid === 0) {
        fclose($pair[0]);
        $mine = pdo_connect($o['transport'], [PDO::ATTR_EMULATE_PREPARES => false]);
        [$a, $e] = jobs($mine, $o['tag'], 1000 * $c, $iterations, (int)$o['idle-ms']);
        fwrite($pair[1], "$a $e\n");
        /* Leave without destructors: the parent's PDO, inherited, must not
         * say goodbye on the parent's socket. */
        posix_kill(getmypid(), SIGKILL);
    }
    fclose($pair[1]);
    $pipes[$pid] = $pair[0];
    $total += $iterations;
}
foreach ($pipes as $pid => $pipe) {
    $line = trim((string)fgets($pipe));
    pcntl_waitpid($pid, $status);
    [$a, $e] = $line === '' ? [0, $iterations] : array_map('intval', explode(' ', $line));
    $acked += $a;
    $errors += $e;
}
[$a, $e] = jobs($pdo, $o['tag'], 100, $iterations, (int)$o['idle-ms']);
$acked += $a;
$errors += $e;
echo "acked=$acked errors=$errors iterations=$total\n";
exit($errors === 0 ? 0 : 1);
