# goneshim compat probe (not an upstream test), run by tests/compat/run-compat
# through the same prove invocation as DBD::mysql's t/: is goneshim loaded in
# this perl, which DBD::mysql is it, and what does a killed idle connection do?
use strict;
use warnings;
use DBI;
use Test::More tests => 1;
use Time::HiRes qw(usleep);

my ($dsn, $user, $pass) = @ENV{qw(DBI_DSN DBI_USER DBI_PASS)};
my $admin = DBI->connect($dsn, $user, $pass, { RaiseError => 1, PrintError => 0 });
my $a = DBI->connect($dsn, $user, $pass, { RaiseError => 0, PrintError => 0 });
open(my $maps, '<', '/proc/self/maps');
my $loaded = grep { /libgoneshim/ } <$maps>;
my $id = $a->{mysql_thread_id};
$admin->do("KILL CONNECTION $id");
usleep(300_000);
my $r = $a->selectrow_array("SELECT 1");
open(my $o, '>', $ENV{COMPAT_PROBE_OUT}) or die "COMPAT_PROBE_OUT: $!";
print $o "loaded=", ($loaded ? "yes" : "no"), "\n";
print $o "client=DBD::mysql $DBD::mysql::VERSION $INC{'DBD/mysql.pm'}\n";
print $o "after_kill=", (defined $r ? "ok" : "error " . ($a->err // '?')), "\n";
close $o;
ok(1, 'probe');
