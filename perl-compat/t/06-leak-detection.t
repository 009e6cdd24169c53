#!/usr/bin/perl
# The harness must catch leaks: an auto-daemon script run against a daemon told to mis-release
# objects (RTPENGINE_TS_LEAK_INJECT, a test-only switch) must fail, and pass without it.

use strict;
use warnings;
use Test::More;
use File::Basename qw(dirname);
use Cwd qw(abs_path);

my $inner = abs_path(dirname(__FILE__)) . '/lib/leak-inner.pl';

sub run_inner {
	my ($inject) = @_;
	local %ENV = %ENV;
	if (defined $inject) { $ENV{RTPENGINE_TS_LEAK_INJECT} = $inject }
	else { delete $ENV{RTPENGINE_TS_LEAK_INJECT} }
	my $out = `$^X $inner 2>&1`;
	return ($? >> 8, $out);
}

my ($rc, $out) = run_inner(undef);
is $rc, 0, 'control run without leak injection passes' or diag $out;
unlike $out, qr/^not ok/m, 'control run: no failed assertion';

($rc, $out) = run_inner('skip-release:Media');
isnt $rc, 0, 'skip-release:Media: the script fails';
like $out, qr/^not ok \d+ - leak inner - leaks: (leaked == 0|no live Media)$/m,
	'skip-release:Media: caught by the statistics leak check' or diag $out;
like $out, qr/^not ok \d+ - daemon exited cleanly after SIGTERM/m,
	'skip-release:Media: caught by the daemon exit status' or diag $out;

($rc, $out) = run_inner('double-release:StreamFd');
isnt $rc, 0, 'double-release:StreamFd: the script fails';
like $out, qr/^not ok \d+ - leak inner - leaks: doubleRelease == 0$/m,
	'double-release:StreamFd: caught by the statistics leak check' or diag $out;

done_testing();
