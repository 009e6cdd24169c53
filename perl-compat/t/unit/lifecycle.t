#!/usr/bin/perl
# autotest_start/END life cycle against a fake daemon: launch, wait for ping, leak_check,
# SIGTERM at done_testing, and the daemon's exit status turned into a test result.
use strict;
use warnings;
use Test::More;
use File::Temp ();
use File::Basename qw(dirname);
use Cwd qw(abs_path);

my $dir = abs_path(dirname(__FILE__));
my $lib = abs_path("$dir/../..");
my $script = File::Temp->new(SUFFIX => '.t');
print $script <<'INNER';
use strict;
use warnings;
use NGCP::Rtpengine::AutoTest qw(:DEFAULT leak_check);
use Test::More;
autotest_start(qw(--config-file=none -t -1 -i 203.0.113.1 -n 23456 -f)) or die;
is rtpe_raw_req({ command => 'nonsense' })->{'error-reason'}, 'Unrecognized command', 'raw request';
leak_check('inner');
done_testing();
INNER
close $script;

sub run_inner {
	my (%env) = @_;
	local @ENV{keys %env} = values %env;
	local $ENV{RTPE_BIN} = "$dir/fake-daemon.pl";
	my $logs = File::Temp->newdir();
	local $ENV{RTPE_TEST_LOGDIR} = "$logs";
	my $out = `$^X -I$lib $script 2>&1`;
	return ($? >> 8, $out);
}

my ($rc, $out) = run_inner(FAKE_EXIT => 0);
is $rc, 0, 'clean daemon: script passes' or diag $out;
like $out, qr/^ok \d+ - RTPE_BIN points to executable$/m, 'executable checked';
like $out, qr/^ok \d+ - ping works, daemon operational$/m, 'waited for ping';
like $out, qr/^ok \d+ - inner - leaks: no live Call$/m, 'leak_check asserts per type';
like $out, qr/^ok \d+ - daemon exited cleanly after SIGTERM/m, 'exit status asserted before the plan';
like $out, qr/^1\.\.\d+$/m, 'plan printed';

($rc, $out) = run_inner(FAKE_EXIT => 3);
isnt $rc, 0, 'daemon exiting non-zero (leak check failed): script fails';
like $out, qr/^not ok \d+ - daemon exited cleanly after SIGTERM/m, 'reported as a failed test';
like $out, qr/daemon: exit code 3/, 'with the exit code';

($rc, $out) = run_inner(FAKE_LIVE => 2, FAKE_EXIT => 0);
isnt $rc, 0, 'live objects after the test: script fails';
like $out, qr/^not ok \d+ - inner - leaks: no live Call$/m, 'live count failure names the type';

($rc, $out) = run_inner(RTPE_BIN_OVERRIDE => 1, RTPE_TEST_START_TIMEOUT => 1, RTPENGINE_PORT => 23457);
isnt $rc, 0, 'daemon not answering on the expected port: script fails';
like $out, qr/not ok \d+ - ping works/, 'ping failure reported';

done_testing();
