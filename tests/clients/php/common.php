<?php
/* Shared by the PHP test clients: options, the connection settings from
 * scripts/with-test-server, and the warning policy of the frameworks the
 * clients imitate (Laravel's HandleExceptions, Symfony's ErrorHandler):
 * every warning or notice becomes an exception, so a warning is a failure.
 */
declare(strict_types=1);
require_once __DIR__ . '/deprecations.php';

error_reporting(E_ALL);
set_error_handler(function (int $level, string $message, string $file, int $line): bool {
    if (deprecated_yet_tested($level, $message))
        return true;
    throw new ErrorException($message, 0, $level, $file, $line);
});


function env(string $name): string
{
    $value = getenv($name);
    if ($value === false) {
        fwrite(STDERR, basename($_SERVER['argv'][0]) . ": $name is not set (run under scripts/with-test-server)\n");
        exit(2);
    }
    return $value;
}

/* --name value options, with defaults. */
function options(array $defaults): array
{
    $args = array_slice($_SERVER['argv'], 1);
    for ($i = 0; $i < count($args); $i += 2) {
        $name = ltrim($args[$i], '-');
        if (!array_key_exists($name, $defaults) || !isset($args[$i + 1])) {
            fwrite(STDERR, "usage: " . basename($_SERVER['argv'][0]) . " " .
                implode(' ', array_map(fn ($k) => "--$k V", array_keys($defaults))) . "\n");
            exit(2);
        }
        $defaults[$name] = $args[$i + 1];
    }
    return $defaults;
}

function pdo_dsn(string $transport, string $extra = ''): string
{
    $where = $transport === 'tcp'
        ? 'host=' . env('GONESHIM_TEST_HOST') . ';port=' . env('GONESHIM_TEST_PORT')
        : 'unix_socket=' . env('GONESHIM_TEST_SOCKET');
    return "mysql:$where;dbname=" . env('GONESHIM_TEST_DB') . $extra;
}

function pdo_connect(string $transport, array $attributes = [], string $extra = ''): PDO
{
    return new PDO(pdo_dsn($transport, $extra), env('GONESHIM_TEST_USER'), env('GONESHIM_TEST_PASSWORD'),
        $attributes + [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
}

function mysqli_connect_to(string $transport, ?string $db = null): mysqli
{
    mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
    $db ??= env('GONESHIM_TEST_DB');
    if ($transport === 'tcp')
        return new mysqli(env('GONESHIM_TEST_HOST'), env('GONESHIM_TEST_USER'), env('GONESHIM_TEST_PASSWORD'),
            $db, (int)env('GONESHIM_TEST_PORT'));
    return new mysqli('localhost', env('GONESHIM_TEST_USER'), env('GONESHIM_TEST_PASSWORD'), $db, 0,
        env('GONESHIM_TEST_SOCKET'));
}

/* The cron job of the field reports, for scripts that kill their own
 * connection at a chosen moment: an administrator's connection, without
 * goneshim's help (it is never idle long enough to matter). */
function kill_connection(int $id): void
{
    $admin = new mysqli(env('GONESHIM_TEST_HOST'), env('GONESHIM_TEST_ADMIN_USER'),
        env('GONESHIM_TEST_ADMIN_PASSWORD'), '', (int)env('GONESHIM_TEST_PORT'));
    $admin->query("KILL $id");
    /* Until the server has closed it: the next statement must find it dead. */
    for ($i = 0; $i < 200; $i++) {
        $r = $admin->query("SELECT COUNT(*) FROM information_schema.processlist WHERE id = $id");
        if ((int)$r->fetch_row()[0] === 0)
            break;
        usleep(5000);
    }
    $admin->close();
}

/* One job of a worker: returns normally when acknowledged. */
function run_jobs(array $o, callable $job): never
{
    $acked = 0;
    $errors = 0;
    for ($n = 1; $n <= (int)$o['iterations']; $n++) {
        usleep((int)$o['idle-ms'] * 1000);
        try {
            $job($n);
            $acked++;
        } catch (Throwable $t) {
            $errors++;
            fwrite(STDERR, basename($_SERVER['argv'][0]) . ": job $n: " . get_class($t) . ": " . $t->getMessage() . "\n");
        }
    }
    echo "acked=$acked errors=$errors iterations={$o['iterations']}\n";
    exit($errors === 0 ? 0 : 1);
}
