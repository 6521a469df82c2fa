#!/usr/bin/php
<?php
/* What a script sees when it kills or closes its own connection: printed
 * step by step, so that the output with goneshim can be compared with the
 * output without it (point 6 of the trust issue: they must be the same).
 * No warning policy here: PHP's own warnings are part of what is compared. */
declare(strict_types=1);
require_once __DIR__ . '/deprecations.php';

function env(string $name): string
{
    return (string)getenv($name);
}

function connect(): mysqli
{
    mysqli_report(MYSQLI_REPORT_OFF);
    return new mysqli('localhost', env('GONESHIM_TEST_USER'), env('GONESHIM_TEST_PASSWORD'),
        env('GONESHIM_TEST_DB'), 0, env('GONESHIM_TEST_SOCKET'));
}

function step(string $what, callable $f): void
{
    $warnings = [];
    set_error_handler(function (int $level, string $message) use (&$warnings): bool {
        if (deprecated_yet_tested($level, $message))
            return true;
        $warnings[] = preg_replace('/ in .*$/', '', $message);
        return true;
    });
    try {
        $r = $f();
        $shown = is_bool($r) ? ($r ? 'true' : 'false') : var_export($r, true);
    } catch (Throwable $e) {
        $shown = get_class($e) . ' ' . $e->getCode();
    }
    restore_error_handler();
    echo "$what: $shown" . ($warnings ? ' [warning]' : '') . "\n";
}

/* mysqli::kill of the own connection: every later statement fails. */
$m = connect();
$id = $m->thread_id;
step('kill self', fn () => $m->kill($id));
step('query after kill', fn () => $m->query('SELECT 1') !== false);
step('errno', fn () => $m->errno);
step('ping after kill', fn () => $m->ping());

/* A statement still held after mysqli_close: its connection is closed. */
$m = connect();
$st = $m->prepare('SELECT 1');
step('execute before close', fn () => $st->execute());
$m->close();
step('execute after close', fn () => $st->execute());
step('stmt errno', fn () => $st->errno);

/* SQL KILL of the own connection. */
$m = connect();
step('sql kill self', fn () => $m->query('KILL ' . $m->thread_id) !== false);
step('query after sql kill', fn () => $m->query('SELECT 1') !== false);

/* PDO: the same, through SQL. */
$pdo = new PDO('mysql:unix_socket=' . env('GONESHIM_TEST_SOCKET') . ';dbname=' . env('GONESHIM_TEST_DB'),
    env('GONESHIM_TEST_USER'), env('GONESHIM_TEST_PASSWORD'), [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
$pid = (int)$pdo->query('SELECT CONNECTION_ID()')->fetchColumn();
step('pdo sql kill self', fn () => $pdo->exec("KILL $pid"));
step('pdo query after kill', fn () => $pdo->query('SELECT 1')->fetchColumn());
