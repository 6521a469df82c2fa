#!/usr/bin/perl
# The field's transaction from Perl's DBD::mysql (libdbd-mysql-perl):
# begin; SELECT ... FOR UPDATE a ticket; update it; log it; killed while
# idle; update it again; commit. As tests/clients/php/ticket_transaction.php,
# whose step lines and outcome it prints, so that one test checks both.
#
# usage: ticket_transaction.pl TICKET [none|changed|now|insert-id]
# DBD::mysql quotes its placeholders client-side (text statements) and
# stores every result (mysql_store_result).
use strict;
use warnings;
use DBI;
use Time::HiRes qw(sleep);

$| = 1;
sub env { my $v = $ENV{$_[0]}; die "ticket_transaction.pl: $_[0] is not set (run under scripts/with-test-server)\n" unless defined $v; $v }

sub connect_as {
    my ($user, $password) = @_;
    return DBI->connect("DBI:mysql:database=" . env('GONESHIM_TEST_DB') . ";mysql_socket=" . env('GONESHIM_TEST_SOCKET'),
        env($user), env($password), {RaiseError => 1, PrintError => 0, AutoCommit => 1, mysql_auto_reconnect => 0});
}

sub kill_connection {
    my ($id) = @_;
    my $admin = connect_as('GONESHIM_TEST_ADMIN_USER', 'GONESHIM_TEST_ADMIN_PASSWORD');
    $admin->do("KILL $id");
    for (1 .. 200) {
        my ($n) = $admin->selectrow_array("SELECT COUNT(*) FROM information_schema.processlist WHERE id = $id");
        last if $n == 0;
        sleep(0.005);
    }
    $admin->disconnect;
}

my ($ticket, $twist) = (int($ARGV[0] // 0), $ARGV[1] // 'none');
my $db = connect_as('GONESHIM_TEST_USER', 'GONESHIM_TEST_PASSWORD');
my $id = $db->{mysql_thread_id};
my $failed_at;

sub step {
    my ($name, $sql, @params) = @_;
    return if defined $failed_at;
    my $ok = eval {
        my $st = $db->prepare($sql);
        $st->execute(@params);
        $st->fetchall_arrayref if $st->{NUM_OF_FIELDS};
        1;
    };
    if ($ok) {
        print "$name: ok\n";
    } else {
        printf "%s: error %d\n", $name, $db->err // 0;
        $failed_at = $name;
    }
}

step('begin', 'START TRANSACTION');
step('select for update', 'SELECT id, status, version FROM tickets WHERE id = ? FOR UPDATE', $ticket);
step('update 1', "UPDATE tickets SET status = 'taken', version = version + 1 WHERE id = ?", $ticket);
step('log', "INSERT INTO ticket_log (ticket_id, note) VALUES (?, 'taken')", $ticket);
if ($twist eq 'insert-id') {
    my $log_id = $db->{mysql_insertid};
    print "log id: $log_id\n";
    step('log child', "INSERT INTO ticket_log (ticket_id, note, parent_id) VALUES (?, 'child', ?)", $ticket, $log_id);
}
if ($twist eq 'now') {
    step('read now', 'SELECT NOW(6)');
    sleep(0.02);
}
kill_connection($id);
if ($twist eq 'changed') {
    my $admin = connect_as('GONESHIM_TEST_ADMIN_USER', 'GONESHIM_TEST_ADMIN_PASSWORD');
    $admin->do('UPDATE ' . env('GONESHIM_TEST_DB') . ".tickets SET version = version + 10 WHERE id = $ticket");
    $admin->disconnect;
}
step('update 2', "UPDATE tickets SET status = 'done' WHERE id = ?", $ticket);
step('commit', 'COMMIT');
if (defined $failed_at) {
    print eval { $db->do('ROLLBACK'); 1 } ? "rollback: ok\n" : "rollback: error " . ($db->err // 0) . "\n";
    my $ok = eval {
        $db->do('START TRANSACTION');
        $db->do("INSERT INTO ticket_log (ticket_id, note) VALUES (?, 'after')", undef, $ticket);
        $db->do('COMMIT');
        1;
    };
    print $ok ? "next transaction: ok\n" : "next transaction: error " . ($db->err // 0) . "\n";
}
print 'outcome=' . (defined $failed_at ? "failed-at:$failed_at" : 'committed') . "\n";
$db->disconnect;
