#!/usr/bin/perl
# autotest_start/END life cycle against a fake daemon: launch, wait for ping, leak_check,
# SIGTERM at done_testing, and the daemon's exit status turned into a test result; an error
# reply as rtpe_raw_req returns it, and rtpe_req ending the script on one (as rtpengine's).
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
my $err = rtpe_raw_req({ command => 'nonsense' });
is $err->{'error-reason'}, 'Unrecognized command', 'raw request: reply hash';
like $err, qr/^Error reason: "Unrecognized command"$/, 'raw request: reads as the error string';
leak_check('inner');
rtpe_req('statistics', 'stats', { });
is ref(last_resp()->{leaks}), 'HASH', 'last_resp: the last rtpe_req reply';
rtpe_req('nonsense', 'error reply ends the script') if $ENV{INNER_ERROR};
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
like $out, qr/^ok 1 # skip no preload library.*\nok 2 # skip .*\nok 3 - RTPE_BIN points to executable\nok 4 - daemon launched in background\nok 5 - raw request/m,
	'start checks as rtpengine numbers them: two preload checks (skipped), executable, launch; no ping assertion';
like $out, qr/^ok \d+ - inner - leaks: no live Call$/m, 'leak_check asserts per type';
like $out, qr/^ok \d+ - stats - 'statistics' status\nok \d+ - last_resp: the last rtpe_req reply$/m, 'last_resp';
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
like $out, qr/error: daemon at 127\.0\.0\.1:23457 does not answer 'ping'/, 'ping failure reported';
unlike $out, qr/raw request/, 'script ended there';

($rc, $out) = run_inner(FAKE_EXIT => 0, INNER_ERROR => 1);
isnt $rc, 0, 'rtpe_req with an error reply: script fails';
like $out, qr/error: 'nonsense' request failed \(Error reason: "Unrecognized command"\)/, 'with the reason';
unlike $out, qr/error reply ends the script - 'nonsense' status|^1\.\./m, 'no assertion for it, no plan';

done_testing();
