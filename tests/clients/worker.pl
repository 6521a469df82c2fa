#!/usr/bin/perl
# A naive long-lived queue worker using DBI + DBD::mysql.
#
# It connects once, keeps its database handle for its whole life and never
# reconnects or pings (mysql_auto_reconnect is off): it shows what the raw
# client library does when the server goes away (and what goneshim hides
# when preloaded).
#
# Connection from GONESHIM_TEST_{SOCKET,HOST,PORT,DB,USER,PASSWORD}.
# Prints one line `acked=K errors=E iterations=N`; exit 0 iff E == 0.
use strict;
use warnings;
use DBI;
use File::Basename qw(basename);
use Getopt::Long qw(GetOptions);
use Time::HiRes qw(sleep);

my $PROG = basename($0);
$| = 1;

my $transport  = 'socket';
my $iterations = 20;
my $idle_ms    = 400;
my $tag        = "$PROG-$$";
my $server_prepare = 0;
GetOptions(
    'server-prepare' => \$server_prepare,
    'transport=s'  => \$transport,
    'iterations=i' => \$iterations,
    'idle-ms=i'    => \$idle_ms,
    'tag=s'        => \$tag,
) or die "usage: $PROG [--transport socket|tcp] [--iterations N] [--idle-ms M] [--tag TEXT] [--server-prepare]\n";
die "$PROG: --transport must be socket or tcp\n" unless $transport =~ /^(socket|tcp)$/;

sub env {
    my ($name) = @_;
    my $v = $ENV{$name};
    die "$PROG: $name is not set (run under scripts/with-test-server)\n" unless defined $v;
    return $v;
}

my $dsn = 'DBI:mysql:database=' . env('GONESHIM_TEST_DB');
if ($transport eq 'socket') {
    $dsn .= ';mysql_socket=' . env('GONESHIM_TEST_SOCKET');
} else {
    $dsn .= ';host=' . env('GONESHIM_TEST_HOST') . ';port=' . env('GONESHIM_TEST_PORT');
}
# Server-side prepared statements (mysql_stmt_* underneath), prepared once
# and executed for the life of the worker.
$dsn .= ';mysql_server_prepare=1' if $server_prepare;

my ($acked, $errors) = (0, 0);

sub report {
    my ($where, $err, $errstr) = @_;
    $errors++;
    $err    = 0 unless defined $err;
    $errstr = '' unless defined $errstr;
    print STDERR "$PROG: $where: ($err, '$errstr')\n";
}

my $dbh = DBI->connect($dsn, env('GONESHIM_TEST_USER'), env('GONESHIM_TEST_PASSWORD'), {
    RaiseError           => 0,
    PrintError           => 0,
    AutoCommit           => 1,
    mysql_auto_reconnect => 0,
});
if (!$dbh) {
    report('connect', $DBI::err, $DBI::errstr);
    print "acked=0 errors=$errors iterations=0\n";
    exit 1;
}
# DBD::mysql turns auto-reconnect on by itself under mod_perl/CGI; be sure.
$dbh->{mysql_auto_reconnect} = 0;

$dbh->do('CREATE TABLE IF NOT EXISTS worker_log ('
       . ' id BIGINT AUTO_INCREMENT PRIMARY KEY,'
       . ' tag VARCHAR(64) NOT NULL,'
       . ' n INT NOT NULL,'
       . ' KEY (tag)) ENGINE=InnoDB')
    or report('create table', $dbh->err, $dbh->errstr);

my ($select, $insert);
if ($server_prepare) {
    $select = $dbh->prepare('SELECT ? + 1, CONNECTION_ID()') or report('prepare', $dbh->err, $dbh->errstr);
    $insert = $dbh->prepare('INSERT INTO worker_log (tag, n) VALUES (?, ?)')
        or report('prepare', $dbh->err, $dbh->errstr);
}

my $done = 0;
for my $i (1 .. $iterations) {
    my $where = "iteration $i";
    if ($server_prepare) {
        my $row = $select->execute($i) && $select->fetchrow_arrayref;
        if (!$row || $select->err) {
            report($where, $select->err, $select->errstr);
        } elsif ($row->[0] != $i + 1) {
            report($where, 0, "wrong result $row->[0] for $i + 1");
        }
        $select->finish;
        if ($insert->execute($tag, $i)) {
            $acked++;
        } else {
            report($where, $insert->err, $insert->errstr);
        }
    } else {
        my $row = $dbh->selectrow_arrayref('SELECT CONNECTION_ID()');
        report($where, $dbh->err, $dbh->errstr) if !$row || $dbh->err;
        if ($dbh->do('INSERT INTO worker_log (tag, n) VALUES (?, ?)', undef, $tag, $i)) {
            $acked++;
        } else {
            report($where, $dbh->err, $dbh->errstr);
        }
    }
    $done = $i;
    sleep($idle_ms / 1000) if $idle_ms > 0;
}

print "acked=$acked errors=$errors iterations=$done\n";
exit($errors == 0 ? 0 : 1);
