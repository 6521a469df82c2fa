#!/usr/bin/php
<?php
/* mysqli statements prepared before their connection was KILLed, used
 * after goneshim reconnected the handle: reset(), send_long_data() and
 * close() name the statement by its server-side number, which means
 * nothing (MariaDB) or another statement (Oracle MySQL numbers them per
 * connection from 1) on the new connection. Prints one line per step and
 * exits 0 iff every step did what it does on a connection never killed. */
require __DIR__ . '/common.php';
$o = options(['transport' => 'socket']);
$db = mysqli_connect_to($o['transport']);
$failed = 0;
function step(string $what, callable $f, $expected): void
{
    global $failed;
    try {
        $got = $f();
    } catch (Throwable $e) {
        $got = get_class($e) . ': ' . $e->getMessage();
    }
    $ok = $got === $expected;
    $failed += $ok ? 0 : 1;
    printf("%s: %s%s\n", $what, var_export($got, true), $ok ? '' : ' (expected ' . var_export($expected, true) . ')');
}

$reset = $db->prepare('SELECT ?');
$long = $db->prepare('SELECT LENGTH(?)');
$closed = $db->prepare('SELECT 1');
$n = 7;
$reset->bind_param('i', $n);
$reset->execute();
$reset->get_result();
kill_connection($db->thread_id);
usleep(200000);
/* First on the new connection: its number there is 1 on MySQL, the
 * number the statements above had on the old one. */
$fresh = $db->prepare('SELECT 42');
step('close a statement of the old connection', fn () => $closed->close(), true);
step('the fresh statement still runs', function () use ($fresh) {
    $fresh->execute();
    return $fresh->get_result()->fetch_row()[0];
}, 42);
step('reset a statement of the old connection', fn () => $reset->reset(), true);
step('... and execute it', function () use ($reset) {
    $reset->execute();
    return $reset->get_result()->fetch_row()[0];
}, 7);
$null = null;
$long->bind_param('b', $null);
step('send long data to a statement of the old connection', fn () => $long->send_long_data(0, 'abcde'), true);
step('... and execute it', function () use ($long) {
    $long->execute();
    return $long->get_result()->fetch_row()[0];
}, 5);
exit($failed === 0 ? 0 : 1);
